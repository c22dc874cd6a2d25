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
  /**
   * Requests this process places at once (CALLBACK_CONCURRENCY; default 10): a customer whose phone
   * rings until the no-answer deadline holds up nobody else. Further entries stay unread in the
   * stream (or pending, unclaimed) until a placing ends.
   */
  concurrency?: number;
  now?: () => number;
}

/**
 * The SIP app side of the callback hand-over: reads the stream as one consumer of the group, takes
 * each request ('queued' → 'placing', once: CallbackRequests.take) and places it, then acknowledges
 * the entry. Up to `concurrency` requests are placed side by side; the loop reads only as many
 * entries as there is room for, and keeps the entries being placed fresh (CallbackConsumer.touch,
 * every third of the claim time) so that a long placing is not taken for a dead process's.
 *
 * Before each read it claims the entries a dead process held (XAUTOCLAIM after the consumer's
 * `claimIdleMs`): a request that process had not yet taken is placed here; one it had taken and
 * not finished ('placing', or a leg in progress) is never placed a second time, it is
 * marked failed (the legs it had up are ended and settled by the OrphanReaper from the live-call
 * registry). An entry whose request is unknown or already taken is acknowledged and skipped; a
 * request older than `maxAgeMs` is marked failed ("expired") instead of being placed.
 */
export class CallbackIntake {
  private stopped = true;
  private loop: Promise<void> | undefined;
  /** Requests being placed by this process, by stream entry (settles when the entry is acknowledged). */
  private readonly placing = new Map<string, Promise<void>>();
  private toucher: NodeJS.Timeout | undefined;

  constructor(private readonly d: CallbackIntakeDeps) {}

  private get limit(): number {
    return Math.max(1, Math.trunc(this.d.concurrency ?? 10));
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.toucher = setInterval(() => void this.touch(), Math.max(50, Math.floor(this.d.consumer.claimIdleMs / 3)));
    this.toucher.unref();
    this.loop = this.run();
  }

  /** Stops reading; resolves when the read in progress has returned (at most `blockMs`) and the requests being placed are (connected or failed). */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
    clearInterval(this.toucher);
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        // full: wait for a placing to end before reading more
        if (this.placing.size >= this.limit) await Promise.race(this.placing.values());
        // the placings go on by themselves (each acknowledges its entry; none rejects)
        else void Promise.all(await this.read(this.d.blockMs));
      } catch (err) {
        this.d.log.warn({ err: (err as Error).message }, 'callback intake: reading the request stream failed');
        await new Promise((r) => setTimeout(r, Math.min(1000, this.d.blockMs || 1000)));
      }
    }
    await Promise.all(this.placing.values());
  }

  private async touch(): Promise<void> {
    try {
      await this.d.consumer.touch([...this.placing.keys()]);
    } catch (err) {
      this.d.log.warn({ err: (err as Error).message }, 'callback intake: keeping the entries being placed fresh failed');
    }
  }

  /** Reads what there is room for (stale entries first) and starts placing each; resolves with the placings started. */
  private async read(blockMs: number): Promise<Promise<boolean>[]> {
    const room = this.limit - this.placing.size;
    const stale = (await this.d.consumer.claimStale(room)).map((e) => this.begin(e, true));
    const left = room - stale.length;
    if (left <= 0) return stale;
    const fresh = (await this.d.consumer.readNew(stale.length > 0 ? 0 : blockMs, left)).map((e) => this.begin(e, false));
    return [...stale, ...fresh];
  }

  /** One pass: stale entries first, then new ones (waiting up to `blockMs`), placed side by side. Resolves with how many requests this pass placed. */
  async once(blockMs = 0): Promise<number> {
    const placed = await Promise.all(await this.read(blockMs));
    return placed.filter(Boolean).length;
  }

  /** Starts handling an entry (none twice at once: an entry of ours claimed back while it is placed is left to its placing). */
  private begin(e: CallbackEntry, claimed: boolean): Promise<boolean> {
    if (this.placing.has(e.entry)) return Promise.resolve(false);
    const handled = this.handle(e, claimed).catch((err: unknown) => {
      this.d.log.warn({ err: (err as Error).message, callback: e.id }, 'callback intake: handling a request failed; its entry stays pending');
      return false;
    });
    this.placing.set(
      e.entry,
      handled.then(() => undefined),
    );
    void handled.then(() => this.placing.delete(e.entry));
    return handled;
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
