import type { Logger } from 'pino';
import type { CallbackConsumer, CallbackEntry } from '../../accounts/callback-queue.ts';
import type { CallbackRequest, CallbackRequests } from '../../accounts/callbacks.ts';

export interface CallbackIntakeDeps {
  consumer: CallbackConsumer;
  requests: Pick<CallbackRequests, 'take' | 'get' | 'finish'>;
  /** Places the call of a request this process has taken; resolves once both legs are placed or the request has ended. */
  place(request: CallbackRequest): Promise<void>;
  log: Logger;
  /** How long one read waits for new entries (the loop's pace while idle). */
  blockMs: number;
  /**
   * A request older than this when it is taken is not placed (status failed, "expired"): nobody
   * is rung minutes after asking, e.g. when the SIP app processes were down for a while.
   */
  maxAgeMs: number;
  now?: () => number;
}

/**
 * The SIP app side of the callback hand-over: reads the stream as one consumer of the group, takes
 * each request ('queued' → 'placing', once: CallbackRequests.take) and places it, then acknowledges
 * the entry. Before each read it claims the entries a dead process held (XAUTOCLAIM after the
 * consumer's `claimIdleMs`): a request that process had not yet taken is placed here; one it had
 * taken and not finished ('placing', or a leg in progress) is never placed a second time, it is
 * marked failed (the legs it had up are ended and settled by the OrphanReaper from the live-call
 * registry). An entry whose request is unknown or already taken is acknowledged and skipped; a
 * request older than `maxAgeMs` is marked failed ("expired") instead of being placed.
 */
export class CallbackIntake {
  private stopped = true;
  private loop: Promise<void> | undefined;

  constructor(private readonly d: CallbackIntakeDeps) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.loop = this.run();
  }

  /** Stops reading; resolves when the read in progress has returned (at most `blockMs`). */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.once(this.d.blockMs);
      } catch (err) {
        this.d.log.warn({ err: (err as Error).message }, 'callback intake: reading the request stream failed');
        await new Promise((r) => setTimeout(r, Math.min(1000, this.d.blockMs || 1000)));
      }
    }
  }

  /** One pass: stale entries first, then new ones (waiting up to `blockMs`). Resolves with how many requests this pass placed. */
  async once(blockMs = 0): Promise<number> {
    let placed = 0;
    for (const e of await this.d.consumer.claimStale()) if (await this.handle(e, true)) placed++;
    for (const e of await this.d.consumer.readNew(blockMs)) if (await this.handle(e, false)) placed++;
    return placed;
  }

  private async handle(e: CallbackEntry, claimed: boolean): Promise<boolean> {
    const log = this.d.log.child({ callback: e.id });
    const r = await this.d.requests.take(e.id, this.d.consumer.consumer);
    if (!r) {
      if (claimed) {
        const was = await this.d.requests.get(e.id);
        if (was && was.status !== 'queued' && was.status !== 'completed' && was.status !== 'failed') {
          await this.d.requests.finish(e.id, 'failed', 'the call server placing it stopped');
          log.warn({ status: was.status }, 'callback taken by a process that stopped: marked failed, not placed again');
        }
      }
      await this.d.consumer.ack(e.entry);
      return false;
    }
    if ((this.d.now ?? Date.now)() - r.createdAt.getTime() > this.d.maxAgeMs) {
      await this.d.requests.finish(r.id, 'failed', 'expired before it could be placed');
      await this.d.consumer.ack(e.entry);
      log.info('callback expired before it could be placed');
      return false;
    }
    try {
      await this.d.place(r);
    } catch (err) {
      log.error({ err: (err as Error).message }, 'placing a callback failed');
      await this.d.requests.finish(r.id, 'failed', 'the call could not be placed');
    }
    await this.d.consumer.ack(e.entry);
    return true;
  }
}
