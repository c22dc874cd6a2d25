/**
 * Replay protection for nonces (RFC 7616 §3.4, §5.11). With qop=auth the nonce-count must
 * strictly increase per nonce; without qop a nonce is single-use (recorded as count 0). The
 * last count of each nonce lives in Redis for the nonce's remaining lifetime, checked and
 * raised by one atomic script, so several app instances share one view.
 */
import type { Redis } from 'ioredis';

const SCRIPT = `
local last = redis.call('GET', KEYS[1])
local nc = tonumber(ARGV[1])
if last and tonumber(last) >= nc then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`;

export interface NonceUseTracker {
  /** True when `nc` is higher than every count seen for `nonce` (then it is recorded). */
  accept(nonce: string, nc: number, ttlMs: number): Promise<boolean>;
}

type WithScript = Redis & { sipNonceUse(key: string, nc: string, ttl: string): Promise<number> };

export class RedisNonceUseTracker implements NonceUseTracker {
  private readonly redis: WithScript;

  constructor(
    redis: Redis,
    private readonly namespace: string,
  ) {
    if (!('sipNonceUse' in redis)) redis.defineCommand('sipNonceUse', { numberOfKeys: 1, lua: SCRIPT });
    this.redis = redis as WithScript;
  }

  async accept(nonce: string, nc: number, ttlMs: number): Promise<boolean> {
    if (!Number.isSafeInteger(nc) || nc < 0) return false;
    const ttl = Math.max(1, Math.ceil(ttlMs));
    return (await this.redis.sipNonceUse(`${this.namespace}:sip:nonce:${nonce}`, String(nc), String(ttl))) === 1;
  }
}
