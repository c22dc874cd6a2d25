import type { RedisClient } from '../../common/redis-connection.ts';

/**
 * Wrong PINs counted across calls in Redis, per caller ID and per account (the account the caller
 * ID is registered to, when it is). Callers who present no caller ID at all share one subject per
 * access number, with a threshold of its own (`anonymousThreshold`, higher): without it, calling
 * again and again with no number would give unlimited guesses, three at a time. A counter lives for `windowMs` from its first failure; at
 * `threshold` failures its subject is locked for `lockMs` and the counter starts again. One Lua
 * script per failure, so two calls failing at once cannot both slip under the threshold.
 * Keys carry a hash tag per subject (Redis Cluster).
 */
const FAIL = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
if n >= tonumber(ARGV[2]) then
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
  redis.call('DEL', KEYS[1])
  return 1
end
return 0`;

export type LockSubject = { cli: string } | { accountId: number } | { anonymousOn: string };

export interface PinLockoutOptions {
  namespace: string;
  threshold: number;
  anonymousThreshold: number;
  windowMs: number;
  lockMs: number;
}

export class PinLockout {
  constructor(
    private readonly redis: RedisClient,
    private readonly o: PinLockoutOptions,
  ) {}

  private keys(s: LockSubject): [fails: string, lock: string] {
    const tag = 'cli' in s ? `{ivrpin:cli:${s.cli}}` : 'accountId' in s ? `{ivrpin:acct:${s.accountId}}` : `{ivrpin:anon:${s.anonymousOn}}`;
    return [`${this.o.namespace}:${tag}:fails`, `${this.o.namespace}:${tag}:locked`];
  }

  async isLocked(s: LockSubject): Promise<boolean> {
    return (await this.redis.exists(this.keys(s)[1])) === 1;
  }

  /** Counts one wrong PIN against each subject; true if any of them is now locked. */
  async fail(subjects: readonly LockSubject[]): Promise<boolean> {
    let locked = false;
    for (const s of subjects) {
      const [fails, lock] = this.keys(s);
      const threshold = 'anonymousOn' in s ? this.o.anonymousThreshold : this.o.threshold;
      const r = await this.redis.eval(FAIL, 2, fails, lock, this.o.windowMs, threshold, this.o.lockMs);
      if (r === 1) locked = true;
    }
    return locked;
  }

  /** A right PIN clears the caller ID's count (not a lock). */
  async succeeded(s: LockSubject): Promise<void> {
    await this.redis.del(this.keys(s)[0]);
  }
}
