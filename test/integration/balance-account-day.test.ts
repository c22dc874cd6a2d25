/**
 * The balance scripts derive the account's day (daily spend cap) from the UTC offset stored in its
 * hash: a process's first operation on an account is one script call and nothing else (no read of
 * the account's time zone), and the cap stays right across offset changes, where the script asks
 * for the next offset and the operation runs again (property, through the real scripts in Redis).
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dayIn, zoneOffset } from '../../src/billing/balance/account-day.ts';
import { BalanceStore } from '../../src/billing/balance/balance-store.ts';
import { cdrFor } from '../support/fixtures.ts';
import { deleteNamespace } from '../support/redis-namespace.ts';
import { TEST_REDIS_URL } from '../support/services.ts';
import { ZONES } from '../support/time-zones.ts';

const namespace = `t:acctday_${randomBytes(4).toString('hex')}`;
let clock = Date.UTC(2026, 0, 1);
let redis: Redis;
let store: BalanceStore;
beforeAll(() => {
  redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 2 });
  store = new BalanceStore(redis, { namespace, shards: 4, now: () => clock });
});
afterAll(async () => {
  await deleteNamespace(redis, namespace);
  redis.disconnect();
});

const CAP = 1_000_000;
let nextId = 1_000;
async function account(timeZone: string, at: number): Promise<number> {
  const accountId = ++nextId;
  clock = at;
  await store.syncAccount({ accountId, creditFloor: 0, maxConcurrentCalls: 10, dailySpendCap: CAP, status: 'active', timeZone }, { openingBalance: 100 * CAP });
  return accountId;
}

/** A connection that records the name of every command it sends (a process of its own). */
async function countingConnection(): Promise<{ redis: Redis; sent: string[] }> {
  const r = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 2 });
  await r.ping();
  const sent: string[] = [];
  const send = r.sendCommand.bind(r);
  r.sendCommand = ((cmd: { name: string }, ...rest: unknown[]) => {
    sent.push(cmd.name);
    return (send as (...a: unknown[]) => unknown)(cmd, ...rest);
  }) as typeof r.sendCommand;
  return { redis: r, sent };
}

describe("account day from the hash's stored offset", () => {
  it("a process's first reserve, settle and balance read on an account send one command each (no time-zone read)", async () => {
    const id = await account('America/New_York', Date.parse('2026-01-15T12:00:00Z'));
    // scripts loaded on the server already (another process ran them): no NOSCRIPT retry in the count
    expect((await store.reserve(id, 'warm', 1, 1000, clock + 60_000)).ok).toBe(true);
    await store.release(id, 'warm');
    const { redis: r, sent } = await countingConnection();
    try {
      const fresh = new BalanceStore(r, { namespace, shards: 4, now: () => clock });
      expect(await fresh.reserve(id, 'first', 1, 100_000, clock + 60_000)).toMatchObject({ ok: true, amount: 100_000 });
      expect(sent).toEqual(['evalsha']);
      expect((await fresh.settle(id, cdrFor('first', id, 40_000))).ok).toBe(true);
      expect(sent).toEqual(['evalsha', 'evalsha']);
      expect(await fresh.get(id)).toMatchObject({ spentToday: 40_000, balance: 100 * CAP - 40_000 });
      expect(sent).toEqual(['evalsha', 'evalsha', 'hmget']);
    } finally {
      r.disconnect();
    }
  });

  it('an account synced before offsets were stored gets its offset on its first operation, then runs as usual', async () => {
    const id = await account('Europe/London', Date.parse('2026-07-01T22:30:00Z'));
    await redis.hdel(store.keys.account(id), 'off', 'offuntil');
    expect(await store.reserve(id, 'old-1', 1, CAP, clock + 60_000)).toMatchObject({ ok: true, amount: CAP });
    const [off, until] = await redis.hmget(store.keys.account(id), 'off', 'offuntil');
    expect([Number(off), Number(until)]).toEqual([3_600_000, Date.parse('2026-10-25T01:00:00Z')]);
    expect((await store.settle(id, cdrFor('old-1', id, CAP))).ok).toBe(true);
    expect(await redis.hget(store.keys.account(id), 'day')).toBe('2026-07-01'); // 23:30 BST on 1 July
  });

  it('daily cap across offset changes in many zones: the day the script counts is the zone day (property)', async () => {
    const HOUR = 3_600_000;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ZONES),
        fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2034, 0, 1) }),
        fc.oneof(
          fc.integer({ min: -4 * HOUR, max: 4 * HOUR }).map((j) => ({ nearChange: true, d: j })),
          fc.integer({ min: 0, max: 400 * 24 * HOUR }).map((d) => ({ nearChange: false, d })),
        ),
        fc.integer({ min: 0, max: 30 * HOUR }),
        async (zone, t0, spendAt, laterBy) => {
          const id = await account(zone, t0);
          const t1 = spendAt.nearChange ? Math.max(t0, zoneOffset(t0, zone).until + spendAt.d) : t0 + spendAt.d;
          clock = t1;
          expect(await store.reserve(id, 'spend', 1, CAP, t1 + 60_000)).toMatchObject({ ok: true, amount: CAP });
          expect((await store.settle(id, cdrFor('spend', id, CAP))).ok).toBe(true);
          expect(await redis.hget(store.keys.account(id), 'day')).toBe(dayIn(t1, zone));
          const t2 = t1 + laterBy;
          clock = t2;
          const sameDay = dayIn(t2, zone) === dayIn(t1, zone);
          expect((await store.get(id))!.spentToday).toBe(sameDay ? CAP : 0);
          const r = await store.reserve(id, 'later', 1, 1000, t2 + 60_000);
          expect(r.ok).toBe(!sameDay);
          if (!sameDay) expect(await store.release(id, 'later')).toMatchObject({ released: 1000 });
          else expect(r).toMatchObject({ ok: false, reason: 'daily_cap' });
        },
      ),
      { numRuns: 150 },
    );
  });
});
