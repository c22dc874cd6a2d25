import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cdrFor, fundedAccount } from '../support/fixtures.ts';
import { REDIS_KINDS, setupServices } from '../support/services.ts';
import type { TestServices } from '../support/services.ts';

let s: TestServices;

const deadline = () => Date.now() + 60_000;

describe.each(REDIS_KINDS)('on %s Redis', (redis) => {
  beforeAll(async () => {
    s = await setupServices('balance', { redis });
  });
  afterAll(async () => {
    await s.teardown();
  });

  describe('reserve', () => {
    it('reserves the wanted slice when credit allows, and less (down to the minimum) when it does not', async () => {
      const a = await fundedAccount(s, 1_000_000);
      expect(await s.store.reserve(a.id, 'r1', 100_000, 600_000, deadline())).toEqual({ ok: true, amount: 600_000, available: 1_000_000, duplicate: false });
      expect(await s.store.reserve(a.id, 'r2', 100_000, 600_000, deadline())).toEqual({ ok: true, amount: 400_000, available: 400_000, duplicate: false });
      expect(await s.store.reserve(a.id, 'r3', 100_000, 600_000, deadline())).toEqual({ ok: false, reason: 'insufficient_credit', available: 0 });
      const live = await s.store.get(a.id);
      expect(live).toMatchObject({ balance: 1_000_000, reserved: 1_000_000, available: 0, callsInProgress: 2 });
    });

    it("a Call-ID reused by another account is another call: it never touches the first one's reservation", async () => {
      const a = await fundedAccount(s, 1_000_000);
      const b = await fundedAccount(s, 1_000_000);
      await s.store.reserve(a.id, 'shared-cid', 1, 300_000, deadline());
      expect(await s.store.reserve(b.id, 'shared-cid', 1, 200_000, deadline())).toMatchObject({ ok: true, amount: 200_000, duplicate: false });
      expect(await s.store.settle(b.id, cdrFor('shared-cid', b.id, 50_000))).toMatchObject({ ok: true, debited: 50_000, duplicate: false });
      expect(await s.store.get(a.id)).toMatchObject({ reserved: 300_000, callsInProgress: 1, balance: 1_000_000 });
      expect(await s.store.settle(a.id, cdrFor('shared-cid', a.id, 70_000))).toMatchObject({ ok: true, debited: 70_000, duplicate: false });
    });

    it('is idempotent on the call id', async () => {
      const a = await fundedAccount(s, 1_000_000);
      await s.store.reserve(a.id, 'dup1', 1, 300_000, deadline());
      const again = await s.store.reserve(a.id, 'dup1', 1, 300_000, deadline());
      expect(again).toMatchObject({ ok: true, amount: 300_000, duplicate: true });
      expect((await s.store.get(a.id))!.reserved).toBe(300_000);
    });

    it('respects the credit floor (a credit line lets the balance go negative down to it)', async () => {
      const a = await fundedAccount(s, 100_000, { creditFloor: -500_000 });
      const r = await s.store.reserve(a.id, 'floor1', 1, 10_000_000, deadline());
      expect(r).toMatchObject({ ok: true, amount: 600_000 });
    });

    it('refuses beyond the concurrent-call limit', async () => {
      const a = await fundedAccount(s, 10_000_000, { maxConcurrentCalls: 2 });
      await s.store.reserve(a.id, 'c1', 1, 10, deadline());
      await s.store.reserve(a.id, 'c2', 1, 10, deadline());
      expect(await s.store.reserve(a.id, 'c3', 1, 10, deadline())).toMatchObject({ ok: false, reason: 'too_many_calls' });
    });

    it('refuses beyond the daily spend cap, counting settled spend and open reservations', async () => {
      const a = await fundedAccount(s, 10_000_000, { dailySpendCap: 1_000_000 });
      await s.store.reserve(a.id, 'cap1', 1, 700_000, deadline());
      await s.store.settle(a.id, cdrFor('cap1', a.id, 700_000));
      expect(await s.store.reserve(a.id, 'cap2', 1, 700_000, deadline())).toMatchObject({ ok: true, amount: 300_000 });
      expect(await s.store.reserve(a.id, 'cap3', 1, 700_000, deadline())).toEqual({ ok: false, reason: 'daily_cap', available: 0 });
    });

    it('refuses suspended, closed and unknown accounts', async () => {
      const a = await fundedAccount(s, 1_000_000, { maxConcurrentCalls: 5 });
      await s.store.syncAccount({ accountId: a.id, creditFloor: 0, maxConcurrentCalls: 5, dailySpendCap: null, status: 'suspended' });
      expect(await s.store.reserve(a.id, 'sus1', 1, 10, deadline())).toEqual({ ok: false, reason: 'account_suspended' });
      expect(await s.store.reserve(987654321, 'none1', 1, 10, deadline())).toEqual({ ok: false, reason: 'unknown_account' });
    });
  });

  describe('extend', () => {
    it('adds slices until the credit runs out, then reports the total it holds', async () => {
      const a = await fundedAccount(s, 1_000_000);
      await s.store.reserve(a.id, 'x1', 1, 400_000, deadline());
      expect(await s.store.extend(a.id, 'x1', 1, 400_000, deadline())).toEqual({ ok: true, amount: 400_000, totalReserved: 800_000 });
      expect(await s.store.extend(a.id, 'x1', 1, 400_000, deadline())).toEqual({ ok: true, amount: 200_000, totalReserved: 1_000_000 });
      expect(await s.store.extend(a.id, 'x1', 1, 400_000, deadline())).toEqual({
        ok: false,
        reason: 'insufficient_credit',
        totalReserved: 1_000_000,
        available: 0,
      });
    });

    it('refuses a settled or unknown call', async () => {
      const a = await fundedAccount(s, 1_000_000);
      await s.store.reserve(a.id, 'x2', 1, 100, deadline());
      await s.store.settle(a.id, cdrFor('x2', a.id, 50));
      expect(await s.store.extend(a.id, 'x2', 1, 100, deadline())).toMatchObject({ ok: false, reason: 'call_ended' });
      expect(await s.store.extend(a.id, 'nope', 1, 100, deadline())).toMatchObject({ ok: false, reason: 'unknown_call' });
    });
  });

  describe('settle', () => {
    it('debits the cost, returns the unused reservation, and settles exactly once', async () => {
      const a = await fundedAccount(s, 1_000_000);
      await s.store.reserve(a.id, 's1', 1, 600_000, deadline());
      expect(await s.store.settle(a.id, cdrFor('s1', a.id, 250_000))).toEqual({
        ok: true,
        debited: 250_000,
        unrecovered: 0,
        balanceAfter: 750_000,
        duplicate: false,
      });
      expect(await s.store.settle(a.id, cdrFor('s1', a.id, 250_000))).toEqual({
        ok: true,
        debited: 250_000,
        unrecovered: 0,
        balanceAfter: 750_000,
        duplicate: true,
      });
      expect(await s.store.get(a.id)).toMatchObject({ balance: 750_000, reserved: 0, callsInProgress: 0 });
      const events = await s.redis.xrange(s.store.keys.stream(s.store.keys.shardOf(a.id)), '-', '+');
      expect(events.filter(([, f]) => f.includes(`call:${a.id}:s1`))).toHaveLength(1);
    });

    it('never debits below the floor: a cost beyond what the account holds is recorded as unrecovered', async () => {
      const a = await fundedAccount(s, 100_000);
      await s.store.reserve(a.id, 's2', 1, 100_000, deadline());
      expect(await s.store.settle(a.id, cdrFor('s2', a.id, 130_000))).toMatchObject({ ok: true, debited: 100_000, unrecovered: 30_000, balanceAfter: 0 });
    });

    it('settles a call that never reserved (a failed call) with cost 0 and its CDR', async () => {
      const a = await fundedAccount(s, 100_000);
      expect(await s.store.settle(a.id, cdrFor('s3', a.id, 0))).toMatchObject({ ok: true, debited: 0, balanceAfter: 100_000 });
      expect(await s.store.get(a.id)).toMatchObject({ callsInProgress: 0, reserved: 0 });
    });

    it('rejects a negative or non-integer cost without changing anything', async () => {
      const a = await fundedAccount(s, 100_000);
      await expect(s.store.settle(a.id, cdrFor('s4', a.id, -5))).rejects.toThrow(RangeError);
      await expect(s.store.settle(a.id, cdrFor('s5', a.id, 1.5))).rejects.toThrow(RangeError);
      expect((await s.store.get(a.id))!.balance).toBe(100_000);
    });
  });

  describe('release', () => {
    it('gives the reservation back once, with no charge', async () => {
      const a = await fundedAccount(s, 100_000);
      await s.store.reserve(a.id, 'rel1', 1, 60_000, deadline());
      expect(await s.store.release(a.id, 'rel1')).toEqual({ released: 60_000, duplicate: false });
      expect(await s.store.release(a.id, 'rel1')).toEqual({ released: 0, duplicate: true });
      expect(await s.store.get(a.id)).toMatchObject({ balance: 100_000, reserved: 0, callsInProgress: 0 });
    });
  });

  describe('top-up and adjust', () => {
    it('credits a top-up exactly once per idempotency key', async () => {
      const a = await fundedAccount(s, 0);
      expect(await s.store.topUp(a.id, 'k1', 5_000_000, 'stripe', 'pi_1')).toEqual({ ok: true, balanceAfter: 5_000_000, duplicate: false });
      expect(await s.store.topUp(a.id, 'k1', 5_000_000, 'stripe', 'pi_1')).toEqual({ ok: true, balanceAfter: 5_000_000, duplicate: true });
      expect(await s.store.topUp(a.id, 'k1', 9_000_000, 'stripe', 'pi_1')).toEqual({ ok: false, reason: 'idempotency_conflict' });
      expect((await s.store.get(a.id))!.balance).toBe(5_000_000);
    });

    it('refuses negative, zero and non-integer amounts and unknown accounts, changing nothing', async () => {
      const a = await fundedAccount(s, 1_000);
      await expect(s.store.topUp(a.id, 'k2', -1, 'p', 'r')).rejects.toThrow(RangeError);
      await expect(s.store.topUp(a.id, 'k3', 0, 'p', 'r')).rejects.toThrow(RangeError);
      await expect(s.store.topUp(a.id, 'k4', 0.5, 'p', 'r')).rejects.toThrow(RangeError);
      await expect(s.store.topUp(a.id, 'k5', 2 ** 60, 'p', 'r')).rejects.toThrow(RangeError);
      await expect(s.store.topUp(a.id, 'bad key', 10, 'p', 'r')).rejects.toThrow(RangeError);
      expect(await s.store.topUp(123456789, 'k6', 10, 'p', 'r')).toEqual({ ok: false, reason: 'unknown_account' });
      expect((await s.store.get(a.id))!.balance).toBe(1_000);
    });

    it('applies an operator adjustment with a reason, once', async () => {
      const a = await fundedAccount(s, 1_000_000);
      expect(await s.store.adjust(a.id, 'adj-1', -250_000, 'goodwill reversal')).toMatchObject({ ok: true, balanceAfter: 750_000 });
      expect(await s.store.adjust(a.id, 'adj-1', -250_000, 'goodwill reversal')).toMatchObject({ ok: true, duplicate: true });
      await expect(s.store.adjust(a.id, 'adj-2', 10, '  ')).rejects.toThrow(RangeError);
      expect((await s.store.get(a.id))!.balance).toBe(750_000);
    });

    it('refuses a top-up to a closed account', async () => {
      const a = await fundedAccount(s, 0);
      await s.store.syncAccount({ accountId: a.id, creditFloor: 0, maxConcurrentCalls: 2, dailySpendCap: null, status: 'closed' });
      expect(await s.store.topUp(a.id, 'k7', 10, 'p', 'r')).toEqual({ ok: false, reason: 'account_closed' });
    });
  });
});
