/**
 * The durable balances beside the live ones (API): once the cache is `ttlMs` old, one query
 * reloads every account it holds (not one query per account), figures are never older than
 * `ttlMs`, and the last figures answer while Postgres cannot be reached.
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DurableBalances } from '../../src/accounts/durable-balances.ts';
import { fundedAccount } from '../support/fixtures.ts';
import { setupServices } from '../support/services.ts';
import type { TestServices } from '../support/services.ts';

let s: TestServices;
const ids: number[] = [];
beforeAll(async () => {
  s = await setupServices('durablebal');
  for (let i = 0; i < 20; i++) ids.push((await fundedAccount(s, 0)).id);
});
afterAll(async () => {
  await s.teardown();
});

/** The pool, counting queries; `down` makes every query fail as with Postgres unreachable. */
function countingPool() {
  const c = { queries: 0, down: false };
  const pool = {
    query: (...a: unknown[]) => {
      c.queries++;
      if (c.down) return Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }));
      return (s.pool.query as (...x: unknown[]) => unknown)(...a);
    },
  } as unknown as pg.Pool;
  return { pool, c };
}
const elapse = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('durable balances cache', () => {
  it('reloads every account it holds in one query once it is ttl old, and never serves older figures', async () => {
    const { pool, c } = countingPool();
    let clock = 1_000_000;
    const d = new DurableBalances(pool, 5, { now: () => clock });
    for (const id of ids) expect(await d.get(id)).toEqual({ balance: 0, currency: 'GBP' });
    expect(c.queries).toBe(ids.length);
    for (const id of ids) await d.get(id);
    expect(c.queries).toBe(ids.length); // fresh: no query
    await s.pool.query('update accounts set balance = 123 where id = $1', [ids[3]]);
    expect(await d.get(ids[3]!)).toEqual({ balance: 0, currency: 'GBP' }); // within ttl
    clock += 5;
    await elapse(6); // (real time too, for a cache that reads the system clock)
    c.queries = 0;
    const all = await Promise.all(ids.map((id) => d.get(id)));
    expect(c.queries).toBe(1);
    expect(all[3]).toEqual({ balance: 123, currency: 'GBP' });
    expect(await d.get(999_999_999)).toBeUndefined();
  });

  it('holds at most maxEntries accounts: the one read first goes first', async () => {
    const { pool, c } = countingPool();
    const d = new DurableBalances(pool, 60_000, { maxEntries: 3 });
    for (const id of ids.slice(0, 4)) await d.get(id);
    expect(c.queries).toBe(4);
    await d.get(ids[3]!);
    await d.get(ids[1]!);
    expect(c.queries).toBe(4);
    await d.get(ids[0]!);
    expect(c.queries).toBe(5);
  });

  it('answers with the last figures while Postgres is unreachable', async () => {
    const { pool, c } = countingPool();
    let clock = 0;
    const d = new DurableBalances(pool, 5, { now: () => clock });
    expect(await d.get(ids[0]!)).toEqual({ balance: 0, currency: 'GBP' });
    c.down = true;
    clock += 10;
    await elapse(11);
    expect(await d.get(ids[0]!)).toEqual({ balance: 0, currency: 'GBP' });
    await expect(d.get(ids[1]!)).rejects.toThrow(/ECONNREFUSED/); // never read: nothing to answer with
  });
});
