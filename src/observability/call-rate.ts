import type { Redis } from 'ioredis';

/** How long a per-second count is kept. */
const KEEP_SECONDS = 120;

/**
 * New calls per second across every SIP application process: each process adds its calls to a
 * per-second counter in Redis (one INCR, sent without waiting), so any process (the operator
 * console in the API process) reads one figure for the whole cluster. The counters share one hash
 * tag, so a window is one MGET on Redis Cluster too.
 */
export class CallRateCounter {
  constructor(
    private readonly redis: Redis,
    private readonly namespace: string,
  ) {}

  private key(second: number): string {
    return `${this.namespace}:{stats}:calls:${second}`;
  }

  /** Counts one new call (fire and forget: a lost count never holds up or fails a call). */
  record(now = Date.now()): void {
    const key = this.key(Math.floor(now / 1000));
    this.redis
      .pipeline()
      .incr(key)
      .expire(key, KEEP_SECONDS)
      .exec()
      .catch(() => undefined);
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
