import type { RedisClient } from '../common/redis-connection.ts';

/**
 * The order throttle, in Redis (shared by every API process), as the voucher and login throttles:
 * `ns:api:order:src:<address>` counts orders placed and e-mail codes tried from one client address
 * in the current window, counted before anything is looked up or stored, so however many requests
 * arrive at once at most `maxPerSource` get through per window. A bot filling the order form
 * costs one counter, not a mail each.
 */
export class OrderThrottle {
  constructor(
    private readonly redis: RedisClient,
    private readonly o: { namespace: string; maxPerSource: number; windowSeconds: number },
  ) {}

  /** Counts an attempt from `source`; false when its window is used up. */
  async attempt(source: string): Promise<boolean> {
    const key = `${this.o.namespace}:api:order:src:${source}`;
    const r = await this.redis.multi().incr(key).expire(key, this.o.windowSeconds, 'NX').exec();
    if (!r || r.some(([err]) => err)) throw new Error('order throttle: Redis transaction failed');
    return Number(r[0]![1]) <= this.o.maxPerSource;
  }
}
