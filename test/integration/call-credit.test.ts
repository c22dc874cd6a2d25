import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallCredit } from '../../src/billing/credit/call-credit.ts';
import type { Rate } from '../../src/billing/rating/index.ts';
import { LedgerWriter } from '../../src/ledger/ledger-writer.ts';
import { PostgresLedgerSink } from '../../src/ledger/postgres-ledger-sink.ts';
import { rebuildBalances, reconcile } from '../../src/ledger/reconcile.ts';
import { cdrFor, fundedAccount } from '../support/fixtures.ts';
import { REDIS_KINDS, setupServices } from '../support/services.ts';
import type { TestServices } from '../support/services.ts';

let s: TestServices;

const uk: Rate = {
  prefix: '44',
  description: 'UK',
  pricePerMinute: 60_000,
  connectionFee: 0,
  minimumSeconds: 0,
  initialIncrement: 1,
  subsequentIncrement: 1,
  effectiveFrom: new Date(0),
  effectiveUntil: null,
  connectionFeePolicy: 'answered',
};

describe.each(REDIS_KINDS)('on %s Redis', (redis) => {
  beforeAll(async () => {
    s = await setupServices('callcredit', { redis });
  });
  afterAll(async () => {
    await s.teardown();
  });

  describe('a prepaid call from authorisation to CDR', () => {
    it('authorises, extends slice by slice until credit runs out, settles exactly what was talked, and the CDR reaches Postgres', async () => {
      const a = await fundedAccount(s, 150_000); // 2.5 minutes at 0.06/min
      const credit = new CallCredit(s.store, { sliceSeconds: 60, maxCallSeconds: 14_400 });
      expect(await credit.simulate(a.id, uk)).toBe(150);
      const auth = await credit.authorise(a.id, 'call-1', uk);
      expect(auth).toEqual({ ok: true, reserved: 60_000, coveredSeconds: 60, maxSeconds: 150 });
      let covered = 60;
      const steps: number[] = [];
      for (;;) {
        const r = await credit.extend(a.id, 'call-1', uk, Date.now(), covered);
        if (!r.ok) break;
        covered = r.coveredSeconds;
        steps.push(covered);
      }
      expect(steps).toEqual([120, 150]); // the last slice is what is left
      const start = Date.UTC(2026, 10, 26, 10, 0, 0);
      const cdr = {
        ...cdrFor('call-1', a.id, 0),
        disposition: 'answered',
        sipCode: 200,
        sipReason: 'OK',
        answerTime: start + 1000,
        startTime: start,
        endTime: start + 1000 + 150_000,
        durationMs: 150_000,
      };
      const settled = await credit.settle(a.id, uk, cdr);
      expect(settled).toMatchObject({ ok: true, debited: 150_000, unrecovered: 0, balanceAfter: 0 });
      await new LedgerWriter(s.newRedis(), new PostgresLedgerSink(s.pool), {
        streams: s.store.keys.allStreams(),
        deadLetterStream: `${s.namespace}:dl`,
        logger: s.logger,
      }).drain();
      const { rows } = await s.pool.query('select billed_seconds, cost, rate_prefix, disposition from cdrs where call_id = $1', ['call-1']);
      expect(rows).toEqual([{ billed_seconds: 150, cost: 150_000, rate_prefix: '44', disposition: 'answered' }]);
    });

    it('refuses a call the account cannot afford the first second of', async () => {
      const a = await fundedAccount(s, 999);
      const credit = new CallCredit(s.store, { sliceSeconds: 60, maxCallSeconds: 14_400 });
      expect(await credit.authorise(a.id, 'call-2', uk)).toEqual({ ok: false, reason: 'insufficient_credit', maxSeconds: 0 });
    });

    it('an unanswered call gets a CDR with cost 0', async () => {
      const a = await fundedAccount(s, 100_000);
      const credit = new CallCredit(s.store, { sliceSeconds: 60, maxCallSeconds: 14_400 });
      await credit.authorise(a.id, 'call-3', uk);
      expect(await credit.settle(a.id, uk, cdrFor('call-3', a.id, 0))).toMatchObject({ ok: true, debited: 0, balanceAfter: 100_000 });
      expect(await s.store.get(a.id)).toMatchObject({ reserved: 0, callsInProgress: 0 });
    });

    it('rebuilding Redis from Postgres restores every balance and keeps open calls', async () => {
      const a = await fundedAccount(s, 500_000);
      await s.store.reserve(a.id, 'open-1', 1, 100_000, Date.now() + 60_000);
      await s.store.settle(a.id, cdrFor('done-1', a.id, 0));
      await s.redis.hset(s.store.keys.account(a.id), 'bal', '1', 'rsv', '0', 'calls', '0'); // Redis corrupted/lost
      await rebuildBalances(s.pool, s.redis, s.store);
      expect(await s.store.get(a.id)).toMatchObject({ balance: 500_000, reserved: 100_000, callsInProgress: 1 });
      await new LedgerWriter(s.newRedis(), new PostgresLedgerSink(s.pool), {
        streams: s.store.keys.allStreams(),
        deadLetterStream: `${s.namespace}:dl`,
        logger: s.logger,
      }).drain();
      expect((await reconcile(s.pool, s.redis, s.store)).differences).toEqual([]);
    });
  });
});
