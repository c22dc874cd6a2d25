/**
 * The outbox worker: every pollMs it claims the due mails and hands each to the transport, one at
 * a time, recording the outcome. A transport that fails (server down, refusing, timing out) only
 * delays the mail: it stays queued with its next attempt pushed back (MailOutbox.failed). Postgres
 * being away skips a round. stop() waits for the round in progress.
 */
import type { Logger } from 'pino';
import type { MailOutbox } from './outbox.ts';
import type { MailTransport } from './smtp-transport.ts';

export interface RoundResult {
  sent: number;
  retried: number;
  failed: number;
}

export class OutboxWorker {
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<RoundResult> | undefined;
  private stopped = true;

  constructor(
    private readonly outbox: MailOutbox,
    private readonly transport: MailTransport,
    private readonly opts: { pollMs: number; batchSize: number },
    private readonly log?: Logger,
  ) {}

  /** One round: claim the due mails and try each once. */
  runOnce(): Promise<RoundResult> {
    this.round ??= this.doRound().finally(() => (this.round = undefined));
    return this.round;
  }

  private async doRound(): Promise<RoundResult> {
    const out: RoundResult = { sent: 0, retried: 0, failed: 0 };
    const due = await this.outbox.claim(this.opts.batchSize);
    for (const [i, mail] of due.entries()) {
      const r = await this.transport.send(mail);
      if (r.ok) {
        await this.outbox.sent(mail.id, r.messageId);
        out.sent++;
        this.log?.info({ mailId: mail.id, template: mail.template, attempts: mail.attempts }, 'mail sent');
        continue;
      }
      const next = await this.outbox.failed(mail, r.error, r.permanent);
      if (next === 'failed') out.failed++;
      else out.retried++;
      this.log?.[next === 'failed' ? 'error' : 'warn'](
        { mailId: mail.id, template: mail.template, attempts: mail.attempts, error: r.error },
        next === 'failed' ? 'mail failed for good' : 'mail not taken; retried later',
      );
      if (!r.permanent) {
        // the server is away: the rest of the batch waits for the next round, its attempt uncounted
        await this.outbox.release(due.slice(i + 1).map((m) => m.id));
        break;
      }
    }
    return out;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    const tick = async () => {
      try {
        await this.runOnce();
      } catch (err) {
        this.log?.warn({ err: (err as Error).message }, 'mail outbox round failed; next round retries');
      }
      if (!this.stopped) this.timer = setTimeout(() => void tick(), this.opts.pollMs);
    };
    this.timer = setTimeout(() => void tick(), 0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.round?.catch(() => undefined);
    this.transport.close();
  }
}
