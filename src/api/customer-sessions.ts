import { createHash, randomBytes } from 'node:crypto';
import type { RedisClient } from '../common/redis-connection.ts';

/**
 * Self-care sessions and the login throttle, in Redis (so every API process shares them).
 *
 *   ns:api:session:<sha256(token)>   hash {acct, cust, auth (ms: password last entered)}, expires after the session lifetime
 *   ns:api:sessions:<account>        set of the account's session hashes (to end them all)
 *   ns:api:login:user:<username>     login attempts in the current window (reset by a success)
 *   ns:api:login:src:<address>       login attempts from an address in the current window (a success gives its own back)
 *
 * The throttle counts an attempt before the password is checked, in one MULTI: however many
 * requests arrive at once, at most `maxFailures` passwords per username (and `maxFailuresPerSource`
 * per address) are checked per window.
 *
 * Tokens read `st_<43 chars>`; only their SHA-256 is a key, so a Redis dump holds no usable token.
 */
export interface Session {
  accountId: number;
  customerId: number;
}

/** A session and when its password was last entered (at login, or again for a sensitive request). */
export interface LiveSession extends Session {
  authAt: number;
}

export interface SessionOptions {
  namespace: string;
  ttlSeconds: number;
  maxFailures: number;
  maxFailuresPerSource: number;
  windowSeconds: number;
}

const TOKEN = /^st_[A-Za-z0-9_-]{43}$/;
/** Clears the username's count; gives the address its attempt back unless its window has already ended. */
const GIVE_BACK = `redis.call('del', KEYS[1])
if redis.call('exists', KEYS[2]) == 1 then redis.call('decr', KEYS[2]) end
return 1`;
const h = (token: string): string => createHash('sha256').update(token).digest('hex');

export class CustomerSessions {
  constructor(
    private readonly redis: RedisClient,
    private readonly o: SessionOptions,
  ) {}

  private key(token: string): string {
    return `${this.o.namespace}:api:session:${h(token)}`;
  }
  private index(accountId: number): string {
    return `${this.o.namespace}:api:sessions:${accountId}`;
  }

  async create(s: Session): Promise<{ token: string; expiresAt: Date }> {
    const token = `st_${randomBytes(32).toString('base64url')}`;
    await this.redis
      .multi()
      .hset(this.key(token), 'acct', s.accountId, 'cust', s.customerId, 'auth', Date.now())
      .expire(this.key(token), this.o.ttlSeconds)
      .sadd(this.index(s.accountId), h(token))
      .expire(this.index(s.accountId), this.o.ttlSeconds)
      .exec();
    return { token, expiresAt: new Date(Date.now() + this.o.ttlSeconds * 1000) };
  }

  async get(token: string): Promise<LiveSession | undefined> {
    if (!TOKEN.test(token)) return undefined;
    const [acct, cust, auth] = await this.redis.hmget(this.key(token), 'acct', 'cust', 'auth');
    if (acct == null || cust == null) return undefined;
    return { accountId: Number(acct), customerId: Number(cust), authAt: Number(auth ?? 0) };
  }

  /** The password was entered again in this session (it counts as fresh for a few minutes). */
  async reauthenticated(token: string): Promise<void> {
    const key = this.key(token);
    await this.redis.eval("if redis.call('exists', KEYS[1]) == 1 then redis.call('hset', KEYS[1], 'auth', ARGV[1]) end return 1", 1, key, Date.now());
  }

  async end(token: string): Promise<void> {
    const s = await this.get(token);
    await this.redis.del(this.key(token));
    if (s) await this.redis.srem(this.index(s.accountId), h(token));
  }

  /** Ends every session of the account, except `keep` (the session making a password change). */
  async endAll(accountId: number, keep?: string): Promise<void> {
    const hashes = await this.redis.smembers(this.index(accountId));
    const keepHash = keep ? h(keep) : undefined;
    const drop = hashes.filter((x) => x !== keepHash);
    if (drop.length) {
      await this.redis.del(...drop.map((x) => `${this.o.namespace}:api:session:${x}`));
      await this.redis.srem(this.index(accountId), ...drop);
    }
  }

  /**
   * Counts a login attempt and says whether it may go on to the password check. Counted first and
   * atomically, so parallel attempts cannot all pass a check made before any of them was counted.
   */
  async loginAttempt(username: string, source: string): Promise<boolean> {
    const r = await this.redis
      .multi()
      .incr(this.userKey(username))
      .expire(this.userKey(username), this.o.windowSeconds, 'NX')
      .incr(this.srcKey(source))
      .expire(this.srcKey(source), this.o.windowSeconds, 'NX')
      .exec();
    if (!r || r.some(([err]) => err)) throw new Error('login throttle: Redis transaction failed');
    const [u, s] = [Number(r[0]![1]), Number(r[2]![1])];
    return u <= this.o.maxFailures && s <= this.o.maxFailuresPerSource;
  }

  /** A correct password: the username's count starts again and the address gets this attempt back. */
  async loginSucceeded(username: string, source: string): Promise<void> {
    await this.redis.eval(GIVE_BACK, 2, this.userKey(username), this.srcKey(source));
  }

  private userKey(username: string): string {
    return `${this.o.namespace}:api:login:user:${username.toLowerCase()}`;
  }
  private srcKey(source: string): string {
    return `${this.o.namespace}:api:login:src:${source}`;
  }
}
