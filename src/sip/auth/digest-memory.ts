/**
 * What the switch has learned about each device's digest: that it answered a SHA-256 challenge.
 * A device is a SIP username at the address it answered from (the client address, see
 * guards/client-address.ts), so the challenge a username gets elsewhere is the same as for any
 * username: a prober naming a username in its From cannot tell from the challenge that it
 * exists. Kept in Redis (shared by every app process) for `ttlMs` after the last such answer; a
 * later answer with MD5 from that address forgets it (the device, or its settings, changed).
 *
 * Cost: one EXISTS per challenge to a known username. Remembering costs a SET at most once per
 * device per process every few minutes, and forgetting a DEL only for devices this process saw as
 * learned in the last few minutes, not one command for every answer.
 */
import type { RedisClient } from '../../common/redis-connection.ts';
import type { DigestAlgorithm } from './digest-algorithm.ts';

export interface DigestMemory {
  /** True when the username's device at `address` last authenticated with SHA-256. */
  answersSha256(username: string, address: string): Promise<boolean>;
  /** The username's device at `address` authenticated with `algorithm`. */
  answered(username: string, address: string, algorithm: DigestAlgorithm): Promise<void>;
}

/** Default: remembered for 90 days after the last SHA-256 answer. */
export const DIGEST_MEMORY_TTL_MS = 90 * 24 * 3600_000;
/** How long this process remembers that it found a device learned (so that an MD5 answer from it is worth a DEL). */
const SEEN_MS = 10 * 60_000;
const SEEN_MAX = 10_000;

export class RedisDigestMemory implements DigestMemory {
  /** Devices found learned (or taught) recently in this process: key → when. */
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly redis: RedisClient,
    private readonly namespace: string,
    private readonly ttlMs = DIGEST_MEMORY_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  private key(username: string, address: string): string {
    return `${this.namespace}:sip:digest-sha256:${username}:${address}`;
  }

  async answersSha256(username: string, address: string): Promise<boolean> {
    const key = this.key(username, address);
    const learned = (await this.redis.exists(key)) === 1;
    if (learned) this.remember(key);
    return learned;
  }

  async answered(username: string, address: string, algorithm: DigestAlgorithm): Promise<void> {
    const key = this.key(username, address);
    if (algorithm === 'SHA-256') {
      // the 90-day memory needs no refresh on every call: at most once per SEEN_MS per process
      const fresh = this.seen.get(key);
      this.remember(key);
      if (fresh !== undefined && this.now() - fresh <= SEEN_MS) return;
      await this.redis.set(key, '1', 'PX', this.ttlMs);
      return;
    }
    const at = this.seen.get(key);
    if (at === undefined || this.now() - at > SEEN_MS) return;
    this.seen.delete(key);
    await this.redis.del(key);
  }

  private remember(key: string): void {
    this.seen.delete(key);
    this.seen.set(key, this.now());
    if (this.seen.size > SEEN_MAX) this.seen.delete(this.seen.keys().next().value!);
  }
}
