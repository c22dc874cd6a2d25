import type pg from 'pg';

/** Destination prefixes nobody may call (premium-rate, known fraud ranges), cached in memory. */
export class Blocklist {
  private cached: { at: number; prefixes: Set<string>; maxLen: number } | undefined;

  constructor(private readonly pool: pg.Pool, private readonly cacheMs = 30_000) {}

  async isBlocked(destination: string, now = Date.now()): Promise<boolean> {
    if (!this.cached || now - this.cached.at >= this.cacheMs) {
      try {
        const { rows } = await this.pool.query<{ prefix: string }>('select prefix from destination_blocklist');
        this.cached = { at: now, prefixes: new Set(rows.map((r) => r.prefix)), maxLen: Math.max(0, ...rows.map((r) => r.prefix.length)) };
      } catch (err) {
        if (!this.cached) throw err;          // Postgres unreachable: the last good list keeps screening calls
      }
    }
    const { prefixes, maxLen } = this.cached;
    for (let n = Math.min(maxLen, destination.length); n >= 1; n--) if (prefixes.has(destination.slice(0, n))) return true;
    return false;
  }

  invalidate(): void { this.cached = undefined; }
}
