import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BalanceStore } from '../../src/billing/balance/balance-store.ts';
import { LedgerWriter } from '../../src/ledger/ledger-writer.ts';
import { PostgresLedgerSink } from '../../src/ledger/postgres-ledger-sink.ts';
import { cdrFor, fundedAccount } from '../support/fixtures.ts';
import { REDIS_KINDS, setupServices } from '../support/services.ts';
import type { TestServices } from '../support/services.ts';

let s: TestServices;

describe.each(REDIS_KINDS)('on %s Redis', (redis) => {
  beforeAll(async () => {
    s = await setupServices('concurrency', { redis });
  });
  afterAll(async () => {
    await s.teardown();
  });

  describe('two hundred calls racing for one balance', () => {
    it('only the affordable ones reserve, the floor holds, and after settling Redis and Postgres agree to the micro-unit', async () => {
      const slice = 100_000;
      const initial = 50 * slice;
      const a = await fundedAccount(s, initial, { maxConcurrentCalls: 1000 });
      // eight independent connections, as from several app processes
      const conns = Array.from({ length: 8 }, () => s.newRedis());
      const stores = conns.map((r) => new BalanceStore(r, { namespace: s.namespace, shards: s.store.keys.shards }));
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, i) => stores[i % stores.length]!.reserve(a.id, `race-${i}`, slice, slice, Date.now() + 60_000)),
      );
      const won = results.map((r, i) => (r.ok ? i : -1)).filter((i) => i >= 0);
      expect(won).toHaveLength(50);
      expect(results.filter((r) => !r.ok).every((r) => !r.ok && r.reason === 'insufficient_credit')).toBe(true);
      const live = (await s.store.get(a.id))!;
      expect(live.available).toBe(0);
      expect(live.balance - live.reserved).toBeGreaterThanOrEqual(live.creditFloor);

      // settle everything concurrently (the losers as failed calls), with two top-ups racing in
      const costOf = (i: number) => (won.includes(i) ? 1 + ((i * 7919) % slice) : 0);
      const topups = [
        s.store.topUp(a.id, 'race-top-1', 250_000, 'p', 'r1'),
        s.store.topUp(a.id, 'race-top-2', 750_000, 'p', 'r2'),
        s.store.topUp(a.id, 'race-top-1', 250_000, 'p', 'r1'),
      ];
      const settles = Array.from({ length: 200 }, (_, i) => stores[(i + 3) % stores.length]!.settle(a.id, cdrFor(`race-${i}`, a.id, costOf(i))));
      const settled = await Promise.all([...settles, ...settles.slice(0, 20).map((_, i) => stores[i % 8]!.settle(a.id, cdrFor(`race-${i}`, a.id, costOf(i))))]);
      await Promise.all(topups);
      expect(settled.every((r) => r.ok && r.unrecovered === 0)).toBe(true);

      const totalCost = Array.from({ length: 200 }, (_, i) => costOf(i)).reduce((x, y) => x + y, 0);
      const expected = initial + 250_000 + 750_000 - totalCost;
      expect(await s.store.get(a.id)).toMatchObject({ balance: expected, reserved: 0, callsInProgress: 0 });

      const writer = new LedgerWriter(s.newRedis(), new PostgresLedgerSink(s.pool), {
        streams: s.store.keys.allStreams(),
        deadLetterStream: `${s.namespace}:dl`,
        consumer: 'c',
        logger: s.logger,
        batchSize: 64,
      });
      await writer.drain();
      const { rows } = await s.pool.query<{ balance: number; ledger: string; cdrs: string; cost: string }>(
        `select balance,
              (select sum(amount) from ledger_entries where account_id = $1)::text as ledger,
              (select count(*) from cdrs where account_id = $1)::text as cdrs,
              (select sum(cost) from cdrs where account_id = $1)::text as cost
         from accounts where id = $1`,
        [a.id],
      );
      expect(rows[0]).toEqual({ balance: expected, ledger: String(expected), cdrs: '200', cost: String(totalCost) });
    });
  });
});
