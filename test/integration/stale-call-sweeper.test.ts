import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallCredit } from '../../src/billing/credit/call-credit.ts';
import { StaleCallSweeper } from '../../src/billing/credit/stale-call-sweeper.ts';
import type { Rate } from '../../src/billing/rating/index.ts';
import { LedgerWriter } from '../../src/ledger/ledger-writer.ts';
import { PostgresLedgerSink } from '../../src/ledger/postgres-ledger-sink.ts';
import { reconcile } from '../../src/ledger/reconcile.ts';
import { cdrFor, fundedAccount } from '../support/fixtures.ts';
import { REDIS_KINDS, setupServices } from '../support/services.ts';
import type { TestServices } from '../support/services.ts';

let s: TestServices;

const rate: Rate = {
  prefix: '44',
  description: 'UK',
  pricePerMinute: 60_000,
  connectionFee: 5_000,
  minimumSeconds: 0,
  initialIncrement: 1,
  subsequentIncrement: 1,
  effectiveFrom: new Date('2026-01-01T00:00:00Z'),
  effectiveUntil: null,
  connectionFeePolicy: 'answered',
};

describe.each(REDIS_KINDS)('on %s Redis', (redis) => {
  beforeAll(async () => {
    s = await setupServices('sweeper', { redis });
  });
  afterAll(async () => {
    await s.teardown();
  });

  describe('stale-call sweeper', () => {
    it('settles an answered call whose process died, charging answer → last sign of life, once', async () => {
      const a = await fundedAccount(s, 1_000_000);
      const t0 = Date.now() - 120_000; // answered two minutes ago
      await s.store.reserve(a.id, 'lost-1', 1, 100_000, t0 + 60_000);
      const facts = { ...cdrFor('lost-1', a.id, 0), startTime: t0 - 5_000 };
      await s.store.markAnswered(a.id, 'lost-1', t0, JSON.stringify(rate), JSON.stringify(facts), t0 + 60_000);
      await s.store.extend(a.id, 'lost-1', 1, 50_000, t0 + 90_000); // last sign of life: now; deadline already past
      const seen = Number(await s.redis.hget(s.store.keys.call(a.id, 'lost-1'), 'seen'));
      await s.store.reserve(a.id, 'live-1', 1, 10_000, Date.now() + 600_000); // a healthy call: untouched
      await s.store.reserve(a.id, 'never-answered', 1, 10_000, t0 + 1);

      const sweeper = new StaleCallSweeper(s.store, s.logger, { intervalMs: 1000, now: () => Date.now() });
      expect(await sweeper.sweep()).toBe(2);
      expect(await sweeper.sweep()).toBe(0);
      const live = (await s.store.get(a.id))!;
      expect(live).toMatchObject({ reserved: 10_000, callsInProgress: 1 });

      await new LedgerWriter(s.newRedis(), new PostgresLedgerSink(s.pool), {
        streams: s.store.keys.allStreams(),
        deadLetterStream: `${s.namespace}:dl`,
        logger: s.logger,
      }).drain();
      const { rows } = await s.pool.query<{ call_id: string; cost: number; disposition: string; billed_seconds: number }>(
        `select call_id, cost, disposition, billed_seconds from cdrs where account_id = $1 order by call_id`,
        [a.id],
      );
      const seconds = Math.ceil((seen - t0) / 1000);
      expect(rows).toEqual([
        { call_id: 'lost-1', cost: 5_000 + seconds * 1_000, disposition: 'abandoned', billed_seconds: seconds },
        { call_id: 'never-answered', cost: 0, disposition: 'abandoned', billed_seconds: 0 },
      ]);
      expect(live.balance).toBe(1_000_000 - 5_000 - seconds * 1_000);
    });

    it('a ringing call is kept alive by its process; once the signs stop it is swept one slice later at no cost', async () => {
      const a = await fundedAccount(s, 1_000_000);
      const clock = {
        t: Date.now(),
        now(): number {
          return this.t;
        },
      };
      const credit = new CallCredit(s.store, { sliceSeconds: 30, maxCallSeconds: 3600, clock });
      const member = `${a.id}:ringing-1`;
      const zset = s.store.keys.openCalls(s.store.keys.shardOf(a.id));
      expect((await credit.authorise(a.id, 'ringing-1', rate)).ok).toBe(true);
      const first = Number(await s.redis.zscore(zset, member));
      // one slice plus the grace ahead, not minutes of ringing allowance
      expect(first).toBe(clock.t + 45_000);
      expect(credit.keepAliveEveryMs).toBe(10_000);

      clock.t += credit.keepAliveEveryMs; // the next sign of life, one period later
      expect(await credit.keepAlive(a.id, 'ringing-1')).toBe(true);
      const moved = Number(await s.redis.zscore(zset, member));
      expect(moved).toBe(first + 10_000);

      const sweeper = new StaleCallSweeper(s.store, s.logger, { intervalMs: 1000, now: () => moved - 1 });
      expect(await sweeper.sweep()).toBe(0); // still alive
      const later = new StaleCallSweeper(s.store, s.logger, { intervalMs: 1000, now: () => moved + 1 });
      expect(await later.sweep()).toBe(1); // its process went quiet
      expect(await credit.keepAlive(a.id, 'ringing-1')).toBe(false); // settled: a late sign changes nothing
      expect(await s.redis.zscore(zset, member)).toBeNull();
      expect(await s.store.get(a.id)).toMatchObject({ balance: 1_000_000, reserved: 0, callsInProgress: 0 });
    });

    it("a call swept while its owner still ran it: the owner's later settle replaces the sweep (cost and CDR), once", async () => {
      const a = await fundedAccount(s, 5_000_000);
      const t0 = Date.now() - 100_000; // answered 100 s ago, no extension since
      const facts = { ...cdrFor('alive-1', a.id, 0), startTime: t0 - 3_000 };
      await s.store.reserve(a.id, 'alive-1', 1, 200_000, t0 + 60_000);
      await s.store.markAnswered(a.id, 'alive-1', t0, JSON.stringify(rate), JSON.stringify(facts), t0 + 60_000);
      const wrong = new StaleCallSweeper(s.store, s.logger, { intervalMs: 1000, now: () => Date.now() });
      expect(await wrong.sweep()).toBe(1); // presumed dead: 0 s, cost 0
      expect((await s.store.get(a.id))!.balance).toBe(5_000_000);

      const end = t0 + 100_000;
      const ownerCdr = {
        ...facts,
        answerTime: t0,
        endTime: end,
        durationMs: 100_000,
        billedSeconds: 100,
        cost: 5_000 + 100_000,
        disposition: 'answered',
        sipCode: 200,
        sipReason: 'OK',
      };
      expect(await s.store.settle(a.id, ownerCdr)).toEqual({
        ok: true,
        debited: 105_000,
        unrecovered: 0,
        balanceAfter: 4_895_000,
        duplicate: false,
        correctedSweep: true,
      });
      expect(await s.store.settle(a.id, ownerCdr)).toEqual({ ok: true, debited: 105_000, unrecovered: 0, balanceAfter: 4_895_000, duplicate: true });
      expect(await s.store.settle(a.id, { ...ownerCdr, cost: 0 }, 'sweeper')).toMatchObject({ duplicate: true, debited: 105_000 });
      expect(await wrong.sweep()).toBe(0);
      expect(await s.store.get(a.id)).toMatchObject({ balance: 4_895_000, reserved: 0, callsInProgress: 0, spentToday: 105_000 });

      await new LedgerWriter(s.newRedis(), new PostgresLedgerSink(s.pool), {
        streams: s.store.keys.allStreams(),
        deadLetterStream: `${s.namespace}:dl`,
        logger: s.logger,
      }).drain();
      const { rows } = await s.pool.query<{ cost: string; disposition: string; billed_seconds: number }>(
        `select cost::text, disposition, billed_seconds from cdrs where call_id = 'alive-1'`,
      );
      expect(rows).toEqual([{ cost: '105000', disposition: 'answered', billed_seconds: 100 }]);
      const ledger = await s.pool.query<{ event_id: string; amount: string }>(
        `select event_id, amount::text from ledger_entries where reference = 'alive-1' order by event_id`,
      );
      expect(ledger.rows).toEqual([{ event_id: `resettle:${a.id}:alive-1`, amount: '-105000' }]);
      expect((await reconcile(s.pool, s.redis, s.store)).differences).toEqual([]);
    });
  });
});
