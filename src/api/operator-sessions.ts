/**
 * Operator console sessions in Redis. An operator logs in with an API key; the console keeps
 * acting with that key (so the API's scopes apply unchanged), but neither the browser nor
 * Redis alone holds it:
 *
 *   cookie                      ow_<43 chars>          (random, HttpOnly)
 *   ns:web:op:<sha256(cookie)>  hash {key: AES-256-GCM(API key, key = SHA-256("enc" + cookie)), id, scopes}
 *
 * The session lives for `ttlSeconds` and ends at logout, or as soon as the key is revoked
 * (the API refuses it).
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { RedisClient } from '../common/redis-connection.ts';

const TOKEN = /^ow_[A-Za-z0-9_-]{43}$/;
const sha = (label: string, v: string): Buffer => createHash('sha256').update(`${label}\0${v}`).digest();

export interface OperatorSession {
  apiKey: string;
  keyId: string;
  scopes: string[];
}

export class OperatorSessions {
  constructor(
    private readonly redis: RedisClient,
    private readonly namespace: string,
    private readonly ttlSeconds: number,
  ) {}

  private key(token: string): string {
    return `${this.namespace}:web:op:${sha('id', token).toString('hex')}`;
  }

  async create(s: OperatorSession): Promise<string> {
    const token = `ow_${randomBytes(32).toString('base64url')}`;
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', sha('enc', token), iv);
    const sealed = Buffer.concat([iv, c.update(s.apiKey, 'utf8'), c.final(), c.getAuthTag()]).toString('base64');
    await this.redis.multi().hset(this.key(token), 'key', sealed, 'id', s.keyId, 'scopes', s.scopes.join(',')).expire(this.key(token), this.ttlSeconds).exec();
    return token;
  }

  async get(token: string | undefined): Promise<OperatorSession | undefined> {
    if (!token || !TOKEN.test(token)) return undefined;
    const [sealed, id, scopes] = await this.redis.hmget(this.key(token), 'key', 'id', 'scopes');
    if (!sealed || !id) return undefined;
    try {
      const b = Buffer.from(sealed, 'base64');
      const d = createDecipheriv('aes-256-gcm', sha('enc', token), b.subarray(0, 12));
      d.setAuthTag(b.subarray(b.length - 16));
      const apiKey = Buffer.concat([d.update(b.subarray(12, b.length - 16)), d.final()]).toString('utf8');
      return { apiKey, keyId: id, scopes: (scopes ?? '').split(',').filter(Boolean) };
    } catch {
      return undefined;
    }
  }

  async end(token: string | undefined): Promise<void> {
    if (token && TOKEN.test(token)) await this.redis.del(this.key(token));
  }

  ttl(): number {
    return this.ttlSeconds;
  }
}
