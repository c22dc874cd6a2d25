/**
 * A time-bounded cache in front of a credential store: found and not-found answers are kept for
 * `ttlMs` (a changed password takes effect within that time, or at once through `forget`), and
 * the last good answer keeps serving while the store is unreachable (see RefreshingCache).
 */
import { RefreshingCache } from '../../common/refreshing-cache.ts';
import type { CredentialStore, SipCredentials } from './credential-store.ts';

export interface CachedCredentialStoreOptions {
  ttlMs: number;
  maxEntries: number;
  now: () => number;
}

export class CachedCredentialStore implements CredentialStore {
  private readonly cache: RefreshingCache<string, SipCredentials | undefined>;

  constructor(inner: CredentialStore, opts: CachedCredentialStoreOptions) {
    this.cache = new RefreshingCache(
      (key) => {
        const [realm = '', username = ''] = key.split('\u0000');
        return inner.findCredentials(username, realm);
      },
      { ...opts, staleOnError: () => true },
    );
  }

  findCredentials(username: string, realm: string): Promise<SipCredentials | undefined> {
    return this.cache.get(`${realm}\u0000${username}`);
  }

  /** Drops a cached answer (after a password change). */
  forget(username: string, realm: string): void {
    this.cache.delete(`${realm}\u0000${username}`);
  }
}
