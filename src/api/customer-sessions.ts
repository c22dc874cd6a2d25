import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * Self-care sessions and the login throttle, in Redis (so every API process shares them).
 *
 *   ns:api:session:<sha256(token)>   hash {acct, cust}, expires after the session lifetime
 *   ns:api:sessions:<account>        set of the account's session hashes (to end them all)
 *   ns:api:login:user:<username>     failed logins in the current window
 *   ns:api:login:src:<address>       failed logins from an address in the current window
 *
 * Tokens read `st_<43 chars>`; only their SHA-256 is a key, so a Redis dump holds no usable token.
 */
export interface Session { accountId: number; customerId: number }

export interface SessionOptions { namespace: string; ttlSeconds: number; maxFailures: number; maxFailuresPerSource: number; windowSeconds: number }

const TOKEN = /^st_[A-Za-z0-9_-]{43}$/;
const h = (token: string): string => createHash('sha256').update(token).digest('hex');

export class CustomerSessions {
  constructor(private readonly redis: Redis, private readonly o: SessionOptions) {}

  private key(token: string): string { return `${this.o.namespace}:api:session:${h(token)}`; }
  private index(accountId: number): string { return `${this.o.namespace}:api:sessions:${accountId}`; }

  async create(s: Session): Promise<{ token: string; expiresAt: Date }> {
    const token = `st_${randomBytes(32).toString('base64url')}`;
    await this.redis.multi()
      .hset(this.key(token), 'acct', s.accountId, 'cust', s.customerId).expire(this.key(token), this.o.ttlSeconds)
      .sadd(this.index(s.accountId), h(token)).expire(this.index(s.accountId), this.o.ttlSeconds)
      .exec();
    return { token, expiresAt: new Date(Date.now() + this.o.ttlSeconds * 1000) };
  }

  async get(token: string): Promise<Session | undefined> {
    if (!TOKEN.test(token)) return undefined;
    const [acct, cust] = await this.redis.hmget(this.key(token), 'acct', 'cust');
    if (acct == null || cust == null) return undefined;
    return { accountId: Number(acct), customerId: Number(cust) };
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

  /** Whether a login for this username from this address may be tried now. */
  async loginAllowed(username: string, source: string): Promise<boolean> {
    const [u, s] = await this.redis.mget(this.userKey(username), this.srcKey(source));
    return Number(u ?? 0) < this.o.maxFailures && Number(s ?? 0) < this.o.maxFailuresPerSource;
  }

  async loginFailed(username: string, source: string): Promise<void> {
    await this.redis.multi()
      .incr(this.userKey(username)).expire(this.userKey(username), this.o.windowSeconds, 'NX')
      .incr(this.srcKey(source)).expire(this.srcKey(source), this.o.windowSeconds, 'NX')
      .exec();
  }

  async loginSucceeded(username: string): Promise<void> {
    await this.redis.del(this.userKey(username));
  }

  private userKey(username: string): string { return `${this.o.namespace}:api:login:user:${username.toLowerCase()}`; }
  private srcKey(source: string): string { return `${this.o.namespace}:api:login:src:${source}`; }
}
