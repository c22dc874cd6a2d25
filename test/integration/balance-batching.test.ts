import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BalanceScriptError, BalanceStore, MAX_BATCH_OPS } from '../../src/billing/balance/balance-store.ts';
import { cdrFor, fundedAccount } from '../support/fixtures.ts';
import { setupServices, TEST_REDIS_URL } from '../support/services.ts';
import type { TestServices } from '../support/services.ts';

// One shard: every call of every account below falls in the same batch when issued in one tick.
let s: TestServices;
beforeAll(async () => {
  s = await setupServices('batching', { shards: 1 });
});
afterAll(async () => {
  await s.teardown();
});

const deadline = () => Date.now() + 60_000;
const sent = (store: BalanceStore) => ({ ...store.batchStats });

describe('auto-batching of call-path operations', () => {
  it('sends the reserves of one tick for one shard as one script call, each with its own result', async () => {
    const a = await fundedAccount(s, 1_000_000);
    const before = sent(s.store);
    const results = await Promise.all([1, 2, 3, 4, 5].map((i) => s.store.reserve(a.id, `b-${i}`, 100_000, 300_000, deadline())));
    const after = sent(s.store);
    expect(after.scriptCalls - before.scriptCalls).toBe(1);
    expect(after.operations - before.operations).toBe(5);
    // run in order inside the script: the credit runs out part-way through the batch
    expect(results).toEqual([
      { ok: true, amount: 300_000, available: 1_000_000, duplicate: false },
      { ok: true, amount: 300_000, available: 700_000, duplicate: false },
      { ok: true, amount: 300_000, available: 400_000, duplicate: false },
      { ok: true, amount: 100_000, available: 100_000, duplicate: false },
      { ok: false, reason: 'insufficient_credit', available: 0 },
    ]);
    expect(await s.store.get(a.id)).toMatchObject({ reserved: 1_000_000, callsInProgress: 4, balance: 1_000_000 });
  });

  it('is idempotent inside a batch: the same reserve or settle twice in one tick takes effect once', async () => {
    const a = await fundedAccount(s, 1_000_000);
    const [r1, r2] = await Promise.all([s.store.reserve(a.id, 'twice', 1, 400_000, deadline()), s.store.reserve(a.id, 'twice', 1, 400_000, deadline())]);
    expect(r1).toEqual({ ok: true, amount: 400_000, available: 1_000_000, duplicate: false });
    expect(r2).toMatchObject({ ok: true, amount: 400_000, duplicate: true });
    const [s1, s2] = await Promise.all([s.store.settle(a.id, cdrFor('twice', a.id, 150_000)), s.store.settle(a.id, cdrFor('twice', a.id, 150_000))]);
    expect(s1).toEqual({ ok: true, debited: 150_000, unrecovered: 0, balanceAfter: 850_000, duplicate: false });
    expect(s2).toEqual({ ok: true, debited: 150_000, unrecovered: 0, balanceAfter: 850_000, duplicate: true });
    expect(await s.store.get(a.id)).toMatchObject({ balance: 850_000, reserved: 0, callsInProgress: 0 });
    const events = await s.redis.xrange(s.store.keys.stream(0), '-', '+');
    expect(events.filter(([, f]) => f.includes(`call:${a.id}:twice`))).toHaveLength(1);
  });

  it('a call that fails inside a batch fails alone: its neighbours get their results and their effects', async () => {
    const good = await fundedAccount(s, 1_000_000);
    const broken = await fundedAccount(s, 1_000_000);
    await s.redis.hset(s.store.keys.account(broken.id), 'bal', 'not-a-number');
    const before = sent(s.store);
    const [x, y, z, w] = await Promise.allSettled([
      s.store.reserve(good.id, 'n1', 1, 100_000, deadline()),
      s.store.reserve(broken.id, 'n2', 1, 100_000, deadline()),
      s.store.reserve(999_999_999, 'n3', 1, 100_000, deadline()),
      s.store.reserve(good.id, 'n4', 1, 100_000, deadline()),
    ]);
    expect(sent(s.store).scriptCalls - before.scriptCalls).toBe(1);
    expect(x).toEqual({ status: 'fulfilled', value: { ok: true, amount: 100_000, available: 1_000_000, duplicate: false } });
    expect(y.status).toBe('rejected');
    expect((y as PromiseRejectedResult).reason).toBeInstanceOf(BalanceScriptError);
    expect(z).toEqual({ status: 'fulfilled', value: { ok: false, reason: 'unknown_account' } });
    expect(w).toEqual({ status: 'fulfilled', value: { ok: true, amount: 100_000, available: 900_000, duplicate: false } });
    expect(await s.store.get(good.id)).toMatchObject({ reserved: 200_000, callsInProgress: 2 });
    expect(await s.redis.hget(s.store.keys.call(broken.id, 'n2'), 'state')).toBeNull();
    // settles and releases of the good calls in one batch, next to a settle that fails
    const [s1, s2, s3] = await Promise.allSettled([
      s.store.settle(good.id, cdrFor('n1', good.id, 40_000)),
      s.store.settle(broken.id, cdrFor('n2', broken.id, 40_000)),
      s.store.release(good.id, 'n4'),
    ]);
    expect(s1).toEqual({ status: 'fulfilled', value: { ok: true, debited: 40_000, unrecovered: 0, balanceAfter: 960_000, duplicate: false } });
    expect(s2.status).toBe('rejected');
    expect(s3).toEqual({ status: 'fulfilled', value: { released: 100_000, duplicate: false } });
    expect(await s.store.get(good.id)).toMatchObject({ balance: 960_000, reserved: 0, callsInProgress: 0 });
  });

  it("splits a tick's operations into script calls of at most MAX_BATCH_OPS, results in order", async () => {
    const a = await fundedAccount(s, 1_000_000_000);
    const n = MAX_BATCH_OPS * 2 + 7;
    const before = sent(s.store);
    const results = await Promise.all(Array.from({ length: n }, (_, i) => s.store.reserve(a.id, `m-${i}`, 1, 1_000 + i, deadline())));
    expect(sent(s.store).scriptCalls - before.scriptCalls).toBe(3);
    results.forEach((r, i) => expect(r).toMatchObject({ ok: true, amount: 1_000 + i, duplicate: false }));
    await Promise.all(Array.from({ length: n }, (_, i) => s.store.extend(a.id, `m-${i}`, 1, 10, deadline())));
    const settled = await Promise.all(Array.from({ length: n }, (_, i) => s.store.settle(a.id, cdrFor(`m-${i}`, a.id, 500))));
    settled.forEach((r) => expect(r).toMatchObject({ ok: true, debited: 500, duplicate: false }));
    expect(await s.store.get(a.id)).toMatchObject({ balance: 1_000_000_000 - n * 500, reserved: 0, callsInProgress: 0 });
  });

  it('gives the same results with batching off (one script call per operation)', async () => {
    const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 2 });
    try {
      const plain = new BalanceStore(redis, { namespace: s.namespace, shards: 1, batching: false });
      const a = await fundedAccount(s, 1_000_000);
      const before = sent(plain);
      const results = await Promise.all([1, 2, 3, 4].map((i) => plain.reserve(a.id, `p-${i}`, 100_000, 300_000, deadline())));
      expect(sent(plain).scriptCalls - before.scriptCalls).toBe(4);
      expect(results.map((r) => r.ok && r.amount)).toEqual([300_000, 300_000, 300_000, 100_000]);
    } finally {
      redis.disconnect();
    }
  });
});
