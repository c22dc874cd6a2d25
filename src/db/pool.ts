import pg from 'pg';
import { quoteIdent } from './migrate.ts';

// BIGINT (int8) arrives as a string; money and ids are safe integers here, converted with checks.
pg.types.setTypeParser(20, (v: string) => {
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new RangeError(`bigint ${v} exceeds the safe integer range`);
  return n;
});

/**
 * A pool whose every connection uses `schema` first on its search_path.
 *
 * Every connection gets an 'error' listener for its whole life. pg-pool listens only while a
 * connection is idle; a connection that breaks while checked out (Postgres restarted, a network
 * cut between two queries of a transaction) would otherwise emit an unheard 'error' and end the
 * process. The failure still reaches the caller (its query rejects), and pg-pool discards the
 * broken connection when it is released.
 */
export function createPool(databaseUrl: string, schema: string, max = 10): pg.Pool {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max,
    options: `-c search_path=${quoteIdent(schema)},public`,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30000,
  });
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
  });
  return pool;
}
