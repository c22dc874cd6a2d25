/**
 * A small time-bounded cache in front of a credential store: found and not-found answers are
 * kept for `ttlMs` (a changed password takes effect within that time, or at once through
 * `forget`). Concurrent lookups of one key share one query. Bounded by `maxEntries` (oldest out).
 */
import type { CredentialStore, SipCredentials } from './credential-store.ts';

export interface CachedCredentialStoreOptions {
  ttlMs: number;
  maxEntries: number;
  now: () => number;
}

interface Entry { value: SipCredentials | undefined; until: number }

export class CachedCredentialStore implements CredentialStore {
  private readonly entries = new Map<string, Entry>();
  private readonly pending = new Map<string, Promise<SipCredentials | undefined>>();

  constructor(private readonly inner: CredentialStore, private readonly opts: CachedCredentialStoreOptions) {
    if (opts.maxEntries < 1 || opts.ttlMs < 0) throw new RangeError('cache needs maxEntries >= 1 and ttlMs >= 0');
  }

  async findCredentials(username: string, realm: string): Promise<SipCredentials | undefined> {
    const key = `${realm}\u0000${username}`;
    const hit = this.entries.get(key);
    if (hit && hit.until > this.opts.now()) return hit.value;
    const inFlight = this.pending.get(key);
    if (inFlight) return inFlight;
    // an expired entry still answers while the database is unreachable (stale rather than refuse)
    const p = this.inner.findCredentials(username, realm).then((value) => {
      this.store(key, value);
      return value;
    }, (err: unknown) => {
      if (hit) return hit.value;
      throw err;
    }).finally(() => this.pending.delete(key));
    this.pending.set(key, p);
    return p;
  }

  /** Drops a cached answer (after a password change). */
  forget(username: string, realm: string): void {
    this.entries.delete(`${realm}\u0000${username}`);
  }

  private store(key: string, value: SipCredentials | undefined): void {
    if (this.entries.size >= this.opts.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, { value, until: this.opts.now() + this.opts.ttlMs });
  }
}
