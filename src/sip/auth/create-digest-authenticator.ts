/** Wires a DigestAuthenticator from its parts: Postgres credentials behind a cache, stateless nonces, Redis nonce counts. */
import type { RedisClient } from '../../common/redis-connection.ts';
import type pg from 'pg';
import { CachedCredentialStore } from './cached-credential-store.ts';
import type { DigestAlgorithm } from './digest-algorithm.ts';
import { DigestAuthenticator } from './digest-authenticator.ts';
import { RedisDigestMemory } from './digest-memory.ts';
import { NonceIssuer } from './nonce-issuer.ts';
import { RedisNonceUseTracker } from './nonce-use-tracker.ts';
import { PgCredentialStore } from './pg-credential-store.ts';

export interface DigestAuthOptions {
  redis: RedisClient;
  pool: pg.Pool;
  /** Redis key prefix. */
  namespace: string;
  realm: string;
  /** Server secret (>= 32 bytes) keying nonces and the dummy HA1 of unknown users; the same on every instance. */
  key: string;
  /** Default 300 000 (5 minutes). */
  nonceLifetimeMs?: number;
  /** Default 30 000; 0 disables caching. */
  credentialCacheMs?: number;
  /** Challenge order; default MD5 alone. */
  algorithms?: readonly DigestAlgorithm[];
  /** User-Agent substrings of clients also offered SHA-256. */
  sha256UserAgents?: readonly string[];
  now: () => number;
}

/** The nonce issuer every instance sharing `key` builds: any of them validates the others' nonces. */
export function nonceIssuerFor(key: string, lifetimeMs: number, now: () => number): NonceIssuer {
  return new NonceIssuer({ key: `nonce:${key}`, lifetimeMs, now });
}

export function createDigestAuthenticator(o: DigestAuthOptions): DigestAuthenticator {
  const pgStore = new PgCredentialStore(o.pool);
  const cacheMs = o.credentialCacheMs ?? 30_000;
  return new DigestAuthenticator({
    realm: o.realm,
    credentials: cacheMs > 0 ? new CachedCredentialStore(pgStore, { ttlMs: cacheMs, maxEntries: 10_000, now: o.now }) : pgStore,
    nonces: nonceIssuerFor(o.key, o.nonceLifetimeMs ?? 300_000, o.now),
    nonceUses: new RedisNonceUseTracker(o.redis, o.namespace),
    dummyKey: `dummy:${o.key}`,
    ...(o.algorithms ? { algorithms: o.algorithms } : {}),
    ...(o.sha256UserAgents ? { sha256UserAgents: o.sha256UserAgents } : {}),
    memory: new RedisDigestMemory(o.redis, o.namespace),
  });
}
