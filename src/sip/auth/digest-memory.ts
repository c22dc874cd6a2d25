/**
 * What the switch has learned about each SIP username's digest: that its device answered a
 * SHA-256 challenge. Kept in Redis (shared by every app process) for `ttlMs` after the last such
 * answer; a later answer with MD5 forgets it (the device, or its settings, changed).
 */
import type { Redis } from 'ioredis';
import type { DigestAlgorithm } from './digest-algorithm.ts';

export interface DigestMemory {
  /** True when the username's device last authenticated with SHA-256. */
  answersSha256(username: string): Promise<boolean>;
  /** The username's device authenticated with `algorithm`. */
  answered(username: string, algorithm: DigestAlgorithm): Promise<void>;
}

/** Default: remembered for 90 days after the last SHA-256 answer. */
export const DIGEST_MEMORY_TTL_MS = 90 * 24 * 3600_000;

export class RedisDigestMemory implements DigestMemory {
  constructor(
    private readonly redis: Redis,
    private readonly namespace: string,
    private readonly ttlMs = DIGEST_MEMORY_TTL_MS,
  ) {}

  private key(username: string): string {
    return `${this.namespace}:sip:digest-sha256:${username}`;
  }

  async answersSha256(username: string): Promise<boolean> {
    return (await this.redis.exists(this.key(username))) === 1;
  }

  async answered(username: string, algorithm: DigestAlgorithm): Promise<void> {
    if (algorithm === 'SHA-256') await this.redis.set(this.key(username), '1', 'PX', this.ttlMs);
    else await this.redis.del(this.key(username));
  }
}
