/**
 * Counts SIP authentication failures per source address and per username in Redis (a sliding
 * window: the failures of the last `windowMs`, whenever they fall) and bans for a cool-down once a
 * threshold is reached:
 *
 *   - a source (IP address) with `sourceThreshold` failures within one window is banned: every
 *     request from it is refused (403 or silence) until the ban ends;
 *   - a username with `usernameThreshold` failures within one window (a brute force spread over many
 *     addresses) is locked: authentication as that user is refused from any source until the
 *     lock ends, and the source that tripped it is banned too. A lock lets an attacker keep a
 *     user out for the cool-down, the same trade-off as a PIN lockout; 0 disables it.
 *
 * Ban ends are stored as times and compared with the injected clock (the Redis TTL only
 * collects the keys), so bans behave identically under a fake clock. Source keys and username
 * keys carry their own hash tags: each script touches one cluster slot.
 */
import { randomBytes } from 'node:crypto';
import type { RedisClient } from '../../common/redis-connection.ts';
import { refuse } from './guard-action.ts';
import type { RefusalOptions } from './guard-action.ts';
import type { SipMiddleware } from '../sip-types.ts';
import { clientAddress } from './client-address.ts';

// A sliding window: one sorted-set member per failure, scored by its time; those older than the
// window are dropped before counting. (Fixed windows let 2 × (threshold − 1) guesses through
// around each boundary.) The set is deleted when it bans, so it never holds more than the threshold.
const RECORD = `
local now = tonumber(ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[6]))
redis.call('ZADD', KEYS[1], now, ARGV[7])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
local n = redis.call('ZCARD', KEYS[1])
local threshold = tonumber(ARGV[2])
if threshold > 0 and n >= threshold then
  redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[4])
  redis.call('DEL', KEYS[1])
  return {n, 1}
end
return {n, 0}
`;

const BAN = `redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1`;

export interface AuthFailureGuardOptions {
  namespace: string;
  /** Length of the sliding counting window (ms). */
  windowMs: number;
  /** Failures from one address within any window's span that ban it; >= 1. */
  sourceThreshold: number;
  /** Failures for one username within a window that lock it; 0 = never lock usernames. */
  usernameThreshold: number;
  /** How long a ban or lock lasts (ms). */
  banMs: number;
  /** Addresses never counted or banned (trusted carriers, monitoring). */
  exemptSources?: readonly string[];
  now: () => number;
  /** Told of every counted failure (metrics). */
  onFailure?: (source: string, username: string | undefined) => void;
}

export type BanCheck = { kind: 'allowed' } | { kind: 'banned'; scope: 'source' | 'username'; until: number };

export interface FailureOutcome {
  sourceFailures: number;
  usernameFailures: number;
  /** True when this failure started a ban (of the source, and of the username when it was locked). */
  banned: boolean;
}

type WithScripts = RedisClient & {
  sipGuardRecord(
    failures: string,
    ban: string,
    windowTtl: string,
    threshold: string,
    until: string,
    banTtl: string,
    now: string,
    windowMs: string,
    member: string,
  ): Promise<[number, number]>;
  sipGuardBan(ban: string, until: string, banTtl: string): Promise<number>;
};

export class AuthFailureGuard {
  private readonly redis: WithScripts;
  private readonly exempt: Set<string>;

  constructor(
    redis: RedisClient,
    private readonly opts: AuthFailureGuardOptions,
  ) {
    if (!Number.isInteger(opts.windowMs) || opts.windowMs < 1) throw new RangeError('windowMs must be a positive integer');
    if (!Number.isInteger(opts.sourceThreshold) || opts.sourceThreshold < 1) throw new RangeError('sourceThreshold must be >= 1');
    if (!Number.isInteger(opts.usernameThreshold) || opts.usernameThreshold < 0) throw new RangeError('usernameThreshold must be >= 0');
    if (!Number.isInteger(opts.banMs) || opts.banMs < 1) throw new RangeError('banMs must be a positive integer');
    if (!('sipGuardRecord' in redis)) {
      redis.defineCommand('sipGuardRecord', { numberOfKeys: 2, lua: RECORD });
      redis.defineCommand('sipGuardBan', { numberOfKeys: 1, lua: BAN });
    }
    this.redis = redis as WithScripts;
    this.exempt = new Set(opts.exemptSources ?? []);
  }

  /** Is this source (and, when given, this username) currently refused? */
  async check(source: string, username?: string): Promise<BanCheck> {
    if (this.exempt.has(source)) return { kind: 'allowed' };
    const keys = [this.key('src', source, 'ban')];
    if (username !== undefined && this.opts.usernameThreshold > 0) keys.push(this.key('user', username, 'ban'));
    const values = await Promise.all(keys.map((k) => this.redis.get(k)));
    const now = this.opts.now();
    const [src, user] = values.map((v) => (v === null ? 0 : Number(v)));
    if (src !== undefined && src > now) return { kind: 'banned', scope: 'source', until: src };
    if (user !== undefined && user > now) return { kind: 'banned', scope: 'username', until: user };
    return { kind: 'allowed' };
  }

  /** Counts one failed authentication (wrong password or unknown user). */
  async recordFailure(source: string, username: string | undefined): Promise<FailureOutcome> {
    if (this.exempt.has(source)) return { sourceFailures: 0, usernameFailures: 0, banned: false };
    this.opts.onFailure?.(source, username);
    const now = this.opts.now();
    const until = now + this.opts.banMs;
    const member = `${now}:${randomBytes(6).toString('hex')}`;
    const windowArgs = [String(now), String(this.opts.windowMs), member] as const;
    // Real-time TTLs only collect keys: generous, so a fake clock never sees a key vanish early.
    const windowTtl = String(this.opts.windowMs * 2);
    const banTtl = String(this.opts.banMs + 60_000);
    const [sourceFailures, sourceBanned] = await this.redis.sipGuardRecord(
      this.key('src', source, 'failures'),
      this.key('src', source, 'ban'),
      windowTtl,
      String(this.opts.sourceThreshold),
      String(until),
      banTtl,
      ...windowArgs,
    );
    let usernameFailures = 0;
    let userLocked = 0;
    if (username !== undefined && this.opts.usernameThreshold > 0) {
      [usernameFailures, userLocked] = await this.redis.sipGuardRecord(
        this.key('user', username, 'failures'),
        this.key('user', username, 'ban'),
        windowTtl,
        String(this.opts.usernameThreshold),
        String(until),
        banTtl,
        ...windowArgs,
      );
      if (userLocked === 1 && sourceBanned === 0) await this.redis.sipGuardBan(this.key('src', source, 'ban'), String(until), banTtl);
    }
    return { sourceFailures, usernameFailures, banned: sourceBanned === 1 || userLocked === 1 };
  }

  private key(kind: 'src' | 'user', id: string, suffix: string): string {
    return `${this.opts.namespace}:sip:guard:{${kind}:${id}}:${suffix}`;
  }
}

/** Middleware (answers 403 by default): `srf.use('register', [refuseBannedSources(guard), …])`. */
export function refuseBannedSources(guard: AuthFailureGuard, opts: RefusalOptions = {}): SipMiddleware {
  return (req, res, next) => {
    guard.check(clientAddress(req)).then((r) => {
      if (r.kind === 'banned') refuse(req, res, opts, 'reject', `source banned until ${new Date(r.until).toISOString()}`);
      else next();
    }, next);
  };
}
