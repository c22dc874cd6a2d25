import type { RedisClient } from '../common/redis-connection.ts';

/** How long a per-second count is kept. */
const KEEP_SECONDS = 120;

/** How long a process gathers its new calls before adding them to Redis (one pipeline for all). */
export const CALL_COUNT_FLUSH_MS = 200;

/**
 * New calls per second across every SIP application process: each process counts its calls per
 * second in memory and adds them to a per-second counter in Redis at most every
 * CALL_COUNT_FLUSH_MS (one INCRBY per second counted, sent without waiting), so any process (the
 * operator console in the API process) reads one figure for the whole cluster. A count reaches
 * Redis at most that late; the reader leaves out the current second, so a finished second is
 * complete once its last calls are flushed. At 150 calls/s this is 5 round trips a second instead
 * of 150. The counters share one hash tag, so a window is one MGET on Redis Cluster too.
 */
export class CallRateCounter {
  /** Calls counted and not yet sent, by second. */
  private readonly pending = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly redis: RedisClient,
    private readonly namespace: string,
    private readonly flushMs = CALL_COUNT_FLUSH_MS,
  ) {}

  private key(second: number): string {
    return `${this.namespace}:{stats}:calls:${second}`;
  }

  /** Counts one new call (fire and forget: a lost count never holds up or fails a call). */
  record(now = Date.now()): void {
    const second = Math.floor(now / 1000);
    this.pending.set(second, (this.pending.get(second) ?? 0) + 1);
    if (this.timer === undefined) {
      this.timer = setTimeout(() => this.flush(), this.flushMs);
      // a process stopping within the interval loses at most these counts, never a call
      this.timer.unref();
    }
  }

  /** Sends the counts gathered so far now (one pipeline). */
  flush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.size === 0) return;
    const pipeline = this.redis.pipeline();
    for (const [second, n] of this.pending) pipeline.incrby(this.key(second), n).expire(this.key(second), KEEP_SECONDS);
    this.pending.clear();
    pipeline.exec().catch(() => undefined);
  }

  /** Calls per second over the last `windowSeconds` whole seconds (the current, partial one left out). */
  async perSecond(windowSeconds = 10, now = Date.now()): Promise<number> {
    const last = Math.floor(now / 1000) - 1;
    const keys = Array.from({ length: windowSeconds }, (_, i) => this.key(last - i));
    const counts = await this.redis.mget(...keys);
    const total = counts.reduce((sum, c) => sum + (c === null ? 0 : Number(c)), 0);
    return total / windowSeconds;
  }
}
