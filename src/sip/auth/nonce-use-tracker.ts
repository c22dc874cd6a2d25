/**
 * Replay protection for nonces (RFC 7616 §3.4, §5.11). With qop=auth the nonce-count must
 * strictly increase per nonce; without qop a nonce is single-use (recorded as count 0). The
 * last count of each nonce lives in Redis for the nonce's remaining lifetime, checked and
 * raised by one atomic script, so several app instances share one view.
 *
 * The key carries the account's hash tag (`{acct:N}`, the account the digest proved): an INVITE's
 * nonce count and its call-rate counter (call-rate-guard.ts, same tag) are then in one Redis
 * Cluster slot and go in one script call, one round trip (`acceptAndCount`). A replayed request
 * names the same username, so the same account and key.
 */
import type { RedisClient } from '../../common/redis-connection.ts';

const SCRIPT = `
local last = redis.call('GET', KEYS[1])
local nc = tonumber(ARGV[1])
if last and tonumber(last) >= nc then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`;

// The same check, then (only for a fresh count) the call counted in its rate window: { fresh, calls }.
const SCRIPT_COUNT = `
local last = redis.call('GET', KEYS[1])
local nc = tonumber(ARGV[1])
if last and tonumber(last) >= nc then return { 0, 0 } end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
local n = redis.call('INCR', KEYS[2])
if n == 1 then redis.call('PEXPIRE', KEYS[2], ARGV[3]) end
return { 1, n }
`;

/** A call-rate counter to raise with the nonce count (call-rate-guard.ts `windowOf`). */
export interface CallCounter {
  key: string;
  ttlMs: number;
}

export interface NonceUseTracker {
  /** True when `nc` is higher than every count seen for `nonce` (then it is recorded). */
  accept(nonce: string, nc: number, ttlMs: number, accountId?: number): Promise<boolean>;
  /**
   * `accept`, and when the count is fresh, one more call on `counter` in the same step:
   * `calls` is the counter's new value (0 when not fresh: nothing counted).
   */
  acceptAndCount?(nonce: string, nc: number, ttlMs: number, accountId: number, counter: CallCounter): Promise<{ fresh: boolean; calls: number }>;
}

type WithScript = RedisClient & {
  sipNonceUse(key: string, nc: string, ttl: string): Promise<number>;
  sipNonceUseCount(key: string, counter: string, nc: string, ttl: string, counterTtl: string): Promise<[number, number]>;
};

export class RedisNonceUseTracker implements NonceUseTracker {
  private readonly redis: WithScript;

  constructor(
    redis: RedisClient,
    private readonly namespace: string,
  ) {
    if (!('sipNonceUse' in redis)) redis.defineCommand('sipNonceUse', { numberOfKeys: 1, lua: SCRIPT });
    if (!('sipNonceUseCount' in redis)) redis.defineCommand('sipNonceUseCount', { numberOfKeys: 2, lua: SCRIPT_COUNT });
    this.redis = redis as WithScript;
  }

  private key(nonce: string, accountId: number | undefined): string {
    return accountId === undefined ? `${this.namespace}:sip:nonce:${nonce}` : `${this.namespace}:sip:nonce:{acct:${accountId}}:${nonce}`;
  }

  async accept(nonce: string, nc: number, ttlMs: number, accountId?: number): Promise<boolean> {
    if (!Number.isSafeInteger(nc) || nc < 0) return false;
    const ttl = Math.max(1, Math.ceil(ttlMs));
    return (await this.redis.sipNonceUse(this.key(nonce, accountId), String(nc), String(ttl))) === 1;
  }

  async acceptAndCount(nonce: string, nc: number, ttlMs: number, accountId: number, counter: CallCounter): Promise<{ fresh: boolean; calls: number }> {
    if (!Number.isSafeInteger(nc) || nc < 0) return { fresh: false, calls: 0 };
    const ttl = Math.max(1, Math.ceil(ttlMs));
    const [fresh, calls] = await this.redis.sipNonceUseCount(this.key(nonce, accountId), counter.key, String(nc), String(ttl), String(counter.ttlMs));
    return { fresh: fresh === 1, calls };
  }
}
