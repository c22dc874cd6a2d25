/**
 * Per-source message-rate limiting, as a hook the transport calls for every received message
 * before parsing it. A token bucket per source IP (`limit` messages per second, burst of the
 * same size); 0 turns it off. The app side may replace the policy with setPolicy().
 */
import type { SourceInfo } from '../transport/index.ts';
import type { Clock } from '../transaction/index.ts';

interface Bucket {
  tokens: number;
  updated: number;
}

export type RatePolicy = (source: SourceInfo) => boolean;

export class RateLimiterHook {
  private readonly buckets = new Map<string, Bucket>();
  private policy: RatePolicy | undefined;

  constructor(
    private readonly limit: number,
    private readonly clock: Clock,
  ) {}

  /** Replaces the built-in token bucket with a custom decision (return false to drop). */
  setPolicy(policy: RatePolicy | undefined): void {
    this.policy = policy;
  }

  allow(source: SourceInfo): boolean {
    if (this.policy !== undefined) return this.policy(source);
    if (this.limit <= 0) return true;
    const now = this.clock.now();
    let bucket = this.buckets.get(source.remoteAddress);
    if (bucket === undefined) {
      if (this.buckets.size > 100_000) this.buckets.clear();
      bucket = { tokens: this.limit, updated: now };
      this.buckets.set(source.remoteAddress, bucket);
    }
    bucket.tokens = Math.min(this.limit, bucket.tokens + ((now - bucket.updated) / 1000) * this.limit);
    bucket.updated = now;
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }
}
