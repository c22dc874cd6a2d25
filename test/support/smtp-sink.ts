/**
 * A real SMTP server on loopback (the `smtp-server` package) for tests: it receives what the
 * service sends and parses each mail (mailparser). Its behaviour can be switched while it runs:
 * `accept`, `refuse` (421 to every MAIL FROM, a server that is up but not taking mail) or shut
 * down and restarted on the same port (a server that is away). Recipients in `rejectRecipients`
 * get 550.
 */
import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import type { ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import type { MailOutbox } from '../../src/mail/outbox.ts';
import { OutboxWorker } from '../../src/mail/outbox-worker.ts';
import { SmtpTransport } from '../../src/mail/smtp-transport.ts';

export interface Received {
  envelopeTo: string[];
  envelopeFrom: string;
  raw: string;
  parsed: ParsedMail;
}

export class SmtpSink {
  mode: 'accept' | 'refuse' = 'accept';
  readonly rejectRecipients = new Set<string>();
  readonly received: Received[] = [];
  attempts = 0;
  private server: SMTPServer | undefined;
  private waiters: { n: number; resolve: () => void }[] = [];
  port = 0;

  /** The project's SMTP transport pointed at this sink (plain SMTP on loopback, no login). */
  transport(from = 'noreply@softswitch.test', timeoutMs?: number): SmtpTransport {
    return new SmtpTransport({
      host: '127.0.0.1',
      port: this.port,
      security: 'none',
      rejectUnauthorized: true,
      user: '',
      password: '',
      from,
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    });
  }

  /** Works the outbox once through this sink, as an API process's worker would. */
  async deliver(outbox: MailOutbox, from?: string): Promise<void> {
    const worker = new OutboxWorker(outbox, this.transport(from), { pollMs: 50, batchSize: 50 });
    await worker.runOnce();
    await worker.stop();
  }

  async start(port = this.port): Promise<this> {
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onMailFrom: (_address, _session, cb) => {
        this.attempts++;
        if (this.mode === 'refuse') {
          const err = new Error('service not available, try later') as Error & { responseCode: number };
          err.responseCode = 421;
          return cb(err);
        }
        cb();
      },
      onRcptTo: (address, _session, cb) => {
        if (this.rejectRecipients.has(address.address.toLowerCase())) {
          const err = new Error('no such mailbox') as Error & { responseCode: number };
          err.responseCode = 550;
          return cb(err);
        }
        cb();
      },
      onData: (stream, session, cb) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          void simpleParser(raw).then((parsed) => {
            this.received.push({
              raw,
              parsed,
              envelopeTo: session.envelope.rcptTo.map((a) => a.address),
              envelopeFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            });
            this.notify();
            cb();
          }, cb);
        });
      },
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  /** Resolves once at least `n` mails have arrived (no timing guess: the arrival itself). */
  waitFor(n: number): Promise<void> {
    if (this.received.length >= n) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ n, resolve }));
  }

  private notify(): void {
    this.waiters = this.waiters.filter((w) => {
      if (this.received.length < w.n) return true;
      w.resolve();
      return false;
    });
  }
}
