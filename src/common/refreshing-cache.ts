/**
 * A read-through cache for reference data that changes rarely but is read on every call (SIP
 * credentials, carriers, tariffs, the blocklist, accounts, access numbers, personal numbers).
 *
 * - An entry is fresh for `ttlMs`; the next read after that reloads it.
 * - Concurrent reads of one key share one load.
 * - Stale-if-error: when a reload fails because the source is unreachable, the last good value
 *   keeps answering, so calls keep flowing while Postgres is away. An answer from the source
 *   (an `AppError`, such as an unknown tariff) is not an outage and is passed on.
 * - At most `maxEntries` keys (the oldest goes first).
 */
import { AppError } from '../errors.ts';

export interface RefreshingCacheOptions {
  /** How long a loaded value is served without asking the source again. */
  readonly ttlMs: number;
  /** Most keys kept (default 10,000). */
  readonly maxEntries?: number;
  readonly now?: () => number;
  /** Whether a failed reload may be answered with the last good value (default: anything but an AppError). */
  readonly staleOnError?: (err: unknown) => boolean;
}

interface Entry<V> {
  readonly value: V;
  readonly loadedAt: number;
}

export class RefreshingCache<K, V> {
  private readonly entries = new Map<K, Entry<V>>();
  private readonly pending = new Map<K, Promise<V>>();
  private readonly maxEntries: number;
  private readonly now: () => number;
  private readonly staleOnError: (err: unknown) => boolean;
  /** Bumped by delete and clear: a load started before them must not store what it read. */
  private generation = 0;

  constructor(
    private readonly load: (key: K) => Promise<V>,
    private readonly opts: RefreshingCacheOptions,
  ) {
    this.maxEntries = opts.maxEntries ?? 10_000;
    this.now = opts.now ?? Date.now;
    this.staleOnError = opts.staleOnError ?? ((err) => !(err instanceof AppError));
    if (this.maxEntries < 1 || opts.ttlMs < 0) throw new RangeError('cache needs maxEntries >= 1 and ttlMs >= 0');
  }

  get(key: K): Promise<V> {
    const hit = this.entries.get(key);
    if (hit && this.now() - hit.loadedAt < this.opts.ttlMs) return Promise.resolve(hit.value);
    const inFlight = this.pending.get(key);
    if (inFlight) return inFlight;
    const loadedAt = this.now();
    const generation = this.generation;
    const p = this.load(key)
      .then(
        (value) => {
          if (generation === this.generation) this.store(key, { value, loadedAt });
          return value;
        },
        (err: unknown) => {
          const last = this.entries.get(key);
          if (last && this.staleOnError(err)) return last.value;
          throw err;
        },
      )
      .finally(() => {
        if (this.pending.get(key) === p) this.pending.delete(key);
      });
    this.pending.set(key, p);
    return p;
  }

  /** Drops one key (after a change made through this process), so the next read reloads it. */
  delete(key: K): void {
    this.generation++;
    this.entries.delete(key);
    this.pending.delete(key);
  }

  clear(): void {
    this.generation++;
    this.entries.clear();
    this.pending.clear();
  }

  private store(key: K, entry: Entry<V>): void {
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, entry);
  }
}
