/**
 * Per-account call rate limit (calls per second): a counter per account and fixed window in
 * Redis, raised and checked by one script, so every app instance shares the limit.
 */
import type { RedisClient } from '../../common/redis-connection.ts';

const SCRIPT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n
`;

export interface CallRateGuardOptions {
  namespace: string;
  /** Calls allowed per window per account; >= 1. */
  limit: number;
  /** Window length (ms); 1000 for calls per second. */
  windowMs?: number;
  now: () => number;
}

export type CallRateCheck = { kind: 'allowed'; count: number } | { kind: 'limited'; count: number; retryAfterMs: number };

type WithScript = RedisClient & { sipCallRate(key: string, ttl: string): Promise<number> };

export class CallRateGuard {
  private readonly redis: WithScript;
  private readonly windowMs: number;

  constructor(
    redis: RedisClient,
    private readonly opts: CallRateGuardOptions,
  ) {
    if (!Number.isInteger(opts.limit) || opts.limit < 1) throw new RangeError('limit must be a positive integer');
    this.windowMs = opts.windowMs ?? 1000;
    if (!Number.isInteger(this.windowMs) || this.windowMs < 1) throw new RangeError('windowMs must be a positive integer');
    if (!('sipCallRate' in redis)) redis.defineCommand('sipCallRate', { numberOfKeys: 1, lua: SCRIPT });
    this.redis = redis as WithScript;
  }

  /**
   * The account's counter for the current window (its key carries the account's hash tag, like the
   * nonce counts: nonce-use-tracker.ts raises both in one script) and the verdict on its new value.
   */
  windowOf(accountId: number): { key: string; ttlMs: number; verdict(count: number): CallRateCheck } {
    const now = this.opts.now();
    const window = Math.floor(now / this.windowMs);
    return {
      key: `${this.opts.namespace}:sip:cps:{acct:${accountId}}:${window}`,
      ttlMs: this.windowMs * 2 + 1000,
      verdict: (count) =>
        count <= this.opts.limit ? { kind: 'allowed', count } : { kind: 'limited', count, retryAfterMs: (window + 1) * this.windowMs - now },
    };
  }

  /** Counts one call attempt of the account and says whether it is within the limit. */
  async check(accountId: number): Promise<CallRateCheck> {
    const w = this.windowOf(accountId);
    return w.verdict(await this.redis.sipCallRate(w.key, String(w.ttlMs)));
  }
}
