import pg from 'pg';
import { quoteIdent } from './migrate.ts';

// BIGINT (int8) arrives as a string; money and ids are safe integers here, converted with checks.
pg.types.setTypeParser(20, (v: string) => {
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new RangeError(`bigint ${v} exceeds the safe integer range`);
  return n;
});

/** A pool whose every connection uses `schema` first on its search_path. */
export function createPool(databaseUrl: string, schema: string, max = 10): pg.Pool {
  return new pg.Pool({
    connectionString: databaseUrl,
    max,
    options: `-c search_path=${quoteIdent(schema)},public`,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30000,
  });
}
