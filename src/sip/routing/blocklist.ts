import type pg from 'pg';
import { RefreshingCache } from '../../common/refreshing-cache.ts';

interface PrefixSet {
  prefixes: Set<string>;
  maxLen: number;
}

/**
 * Destination prefixes nobody may call (premium-rate, known fraud ranges), reloaded every
 * `cacheMs`; while Postgres is unreachable the last good list keeps screening calls.
 */
export class Blocklist {
  private readonly cache: RefreshingCache<'all', PrefixSet>;

  constructor(
    private readonly pool: pg.Pool,
    cacheMs = 30_000,
  ) {
    this.cache = new RefreshingCache(
      async () => {
        const { rows } = await this.pool.query<{ prefix: string }>('select prefix from destination_blocklist');
        return { prefixes: new Set(rows.map((r) => r.prefix)), maxLen: Math.max(0, ...rows.map((r) => r.prefix.length)) };
      },
      { ttlMs: cacheMs },
    );
  }

  async isBlocked(destination: string): Promise<boolean> {
    const { prefixes, maxLen } = await this.cache.get('all');
    for (let n = Math.min(maxLen, destination.length); n >= 1; n--) if (prefixes.has(destination.slice(0, n))) return true;
    return false;
  }

  invalidate(): void {
    this.cache.clear();
  }
}
