/**
 * A connection that breaks while it is checked out (between two queries of a transaction, as when
 * Postgres restarts or the network is cut) must not end the process: the caller's next query
 * fails, the broken connection is discarded on release, and the pool serves again once Postgres
 * is back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '../../src/db/pool.ts';
import { setupServices, TEST_DATABASE_URL } from '../support/services.ts';
import type { TestServices } from '../support/services.ts';
import { TcpProxy } from '../support/tcp-proxy.ts';

let s: TestServices;
beforeAll(async () => {
  s = await setupServices('dbpool');
});
afterAll(async () => {
  await s.teardown();
});

describe('Postgres pool', () => {
  it('survives a connection cut while checked out, and serves again when Postgres is back', async () => {
    const proxy = new TcpProxy('127.0.0.1', Number(new URL(TEST_DATABASE_URL).port || 5432));
    const port = await proxy.up();
    const url = new URL(TEST_DATABASE_URL);
    url.hostname = '127.0.0.1';
    url.port = String(port);
    const pool = createPool(url.toString(), s.schema, 2);
    pool.on('error', () => undefined);
    try {
      const client = await pool.connect();
      await client.query('begin');
      await proxy.down(); // cut between two queries of the transaction
      await new Promise((r) => setTimeout(r, 200)); // the close reaches the client while nobody queries
      await expect(client.query('select 1')).rejects.toThrow();
      client.release();
      expect(pool.totalCount).toBe(0); // the broken connection was discarded

      await proxy.up(port);
      const { rows } = await pool.query<{ n: number }>('select 41 + 1 as n');
      expect(rows[0]?.n).toBe(42);
    } finally {
      await pool.end();
      await proxy.down();
    }
  });
});
