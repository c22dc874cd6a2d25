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
const GIVE_BACK = `if redis.call('exists', KEYS[1]) == 1 then redis.call('decr', KEYS[1]) end
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
    // the session and the account's index of sessions are in different cluster slots: one MULTI each
    await Promise.all([
      this.redis.multi().hset(this.key(token), 'acct', s.accountId, 'cust', s.customerId, 'auth', Date.now()).expire(this.key(token), this.o.ttlSeconds).exec(),
      this.redis.multi().sadd(this.index(s.accountId), h(token)).expire(this.index(s.accountId), this.o.ttlSeconds).exec(),
    ]);
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
      await Promise.all(drop.map((x) => this.redis.del(`${this.o.namespace}:api:session:${x}`))); // one slot each
      await this.redis.srem(this.index(accountId), ...drop);
    }
  }

  /**
   * Counts a login attempt and says whether it may go on to the password check. Counted first and
   * atomically, so parallel attempts cannot all pass a check made before any of them was counted.
   */
  async loginAttempt(username: string, source: string): Promise<boolean> {
    // one MULTI per counter, sent together: the two counters are in different cluster slots
    const [u, s] = await Promise.all([this.count(this.userKey(username)), this.count(this.srcKey(source))]);
    return u <= this.o.maxFailures && s <= this.o.maxFailuresPerSource;
  }

  private async count(key: string): Promise<number> {
    const r = await this.redis.multi().incr(key).expire(key, this.o.windowSeconds, 'NX').exec();
    if (!r || r.some(([err]) => err)) throw new Error('login throttle: Redis transaction failed');
    return Number(r[0]![1]);
  }

  /** A correct password: the username's count starts again and the address gets this attempt back. */
  async loginSucceeded(username: string, source: string): Promise<void> {
    await Promise.all([this.redis.del(this.userKey(username)), this.redis.eval(GIVE_BACK, 1, this.srcKey(source))]);
  }

  private userKey(username: string): string {
    return `${this.o.namespace}:api:login:user:${username.toLowerCase()}`;
  }
  private srcKey(source: string): string {
    return `${this.o.namespace}:api:login:src:${source}`;
  }
}
