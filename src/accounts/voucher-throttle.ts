import type { RedisClient } from '../common/redis-connection.ts';

/**
 * The voucher throttle, in Redis (shared by every API process), as the login throttle:
 *
 *   ns:api:voucher:acct:<account>   attempts on the account in the current window
 *   ns:api:voucher:src:<address>    attempts from the address in the current window
 *
 * An attempt is counted before the code is looked up, each counter in a MULTI of its own (they are in different cluster slots), so however many
 * requests arrive at once at most `maxPerAccount` codes per account (and `maxPerSource` per
 * address) are tried per window. A redeemed code gives its attempt back.
 */
export interface VoucherThrottleOptions {
  namespace: string;
  maxPerAccount: number;
  maxPerSource: number;
  windowSeconds: number;
}

const GIVE_BACK = `if redis.call('exists', KEYS[1]) == 1 then redis.call('decr', KEYS[1]) end
return 1`;

export class VoucherThrottle {
  constructor(
    private readonly redis: RedisClient,
    private readonly o: VoucherThrottleOptions,
  ) {}

  private keys(accountId: number, source: string): [string, string] {
    return [`${this.o.namespace}:api:voucher:acct:${accountId}`, `${this.o.namespace}:api:voucher:src:${source}`];
  }

  /** Counts an attempt; false when the account or the address has used up its window. */
  async attempt(accountId: number, source: string): Promise<boolean> {
    const [a, s] = this.keys(accountId, source);
    // one MULTI per counter, sent together: the two counters are in different cluster slots
    const [ra, rs] = await Promise.all([this.count(a), this.count(s)]);
    return ra <= this.o.maxPerAccount && rs <= this.o.maxPerSource;
  }

  private async count(key: string): Promise<number> {
    const r = await this.redis.multi().incr(key).expire(key, this.o.windowSeconds, 'NX').exec();
    if (!r || r.some(([err]) => err)) throw new Error('voucher throttle: Redis transaction failed');
    return Number(r[0]![1]);
  }

  async succeeded(accountId: number, source: string): Promise<void> {
    await Promise.all(this.keys(accountId, source).map((k) => this.redis.eval(GIVE_BACK, 1, k)));
  }
}
