import type { RedisClient } from '../common/redis-connection.ts';
import type pg from 'pg';
import { dayIn, timeZoneOfCountry } from '../billing/balance/account-day.ts';
import type { BalanceStore } from '../billing/balance/balance-store.ts';
import { decodeEvent } from './stream-event.ts';

export interface BalanceDifference {
  accountId: number;
  redis: number | null;
  postgres: number;
  unwritten: number;
}

/** Balance changes still in the streams (not yet in Postgres), per account. */
export async function unwrittenDeltas(redis: RedisClient, store: BalanceStore): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  for (const stream of store.keys.allStreams()) {
    let start = '-';
    for (;;) {
      const entries = await redis.xrange(stream, start, '+', 'COUNT', 1000);
      for (const [id, fields] of entries) {
        const e = decodeEvent(stream, id, fields);
        if (e.accountId !== null) out.set(e.accountId, (out.get(e.accountId) ?? 0) + e.amount);
      }
      if (entries.length < 1000) break;
      start = `(${entries[entries.length - 1]![0]}`;
    }
  }
  return out;
}

/**
 * Compares every account's live Redis balance with its durable Postgres balance plus the
 * changes still on their way through the stream. Any difference is reported.
 */
export async function reconcile(pool: pg.Pool, redis: RedisClient, store: BalanceStore): Promise<{ checked: number; differences: BalanceDifference[] }> {
  const unwritten = await unwrittenDeltas(redis, store);
  const differences: BalanceDifference[] = [];
  let checked = 0;
  let after = 0;
  for (;;) {
    const { rows } = await pool.query<{ id: number; balance: number }>('select id, balance from accounts where id > $1 order by id limit 1000', [after]);
    if (rows.length === 0) break;
    // one HGET per account, sent together (the accounts' shards are different cluster slots: no pipeline)
    const res = await Promise.all(rows.map((r) => redis.hget(store.keys.account(r.id), 'bal')));
    rows.forEach((r, i) => {
      checked++;
      const v = res[i];
      const live = v == null ? null : Number(v);
      const pending = unwritten.get(r.id) ?? 0;
      if (live !== r.balance + pending) differences.push({ accountId: r.id, redis: live, postgres: r.balance, unwritten: pending });
    });
    after = rows[rows.length - 1]!.id;
  }
  return { checked, differences };
}

/**
 * Rebuilds every account's live state in Redis from Postgres: balance = durable balance plus
 * unwritten stream changes; open reservations are recounted from the open calls that still
 * exist; today's spend from today's ledger. Safe to run while calls are up.
 */
export async function rebuildBalances(pool: pg.Pool, redis: RedisClient, store: BalanceStore, now = new Date()): Promise<number> {
  const unwritten = await unwrittenDeltas(redis, store);
  const open = await store.openReservations();
  // today's spend is counted from midnight in each account's time zone (account-day.ts): the last
  // 50 hours of call debits in quarter-hour buckets (every zone offset is a multiple of 15 minutes),
  // each bucket kept when it falls on the account's today
  const { rows: spent } = await pool.query<{ accountId: number; bucket: string; spent: string }>(
    `select account_id as "accountId", (floor(extract(epoch from occurred_at) / 900) * 900000)::bigint::text as bucket,
            (-sum(amount))::text as spent
       from ledger_entries where kind = 'call' and occurred_at >= $1 group by 1, 2`,
    [new Date(now.getTime() - 50 * 3_600_000)],
  );
  const spentByBucket = new Map<number, { bucket: number; spent: number }[]>();
  for (const r of spent) {
    const list = spentByBucket.get(r.accountId) ?? [];
    list.push({ bucket: Number(r.bucket), spent: Number(r.spent) });
    spentByBucket.set(r.accountId, list);
  }
  const spentToday = (accountId: number, zone: string): number => {
    const today = dayIn(now.getTime(), zone);
    return (spentByBucket.get(accountId) ?? []).filter((b) => dayIn(b.bucket, zone) === today).reduce((sum, b) => sum + b.spent, 0);
  };
  let n = 0;
  let after = 0;
  for (;;) {
    const { rows } = await pool.query<{
      id: number;
      balance: number;
      floor: number;
      maxCalls: number;
      cap: number | null;
      status: 'active' | 'suspended' | 'closed';
      country: string | null;
      rec: boolean;
    }>(
      `select id, balance, credit_floor as floor, max_concurrent_calls as "maxCalls", daily_spend_cap as cap, status, country, recording_consent as rec
         from accounts where id > $1 order by id limit 1000`,
      [after],
    );
    if (rows.length === 0) break;
    for (const r of rows) {
      const o = open.get(r.id) ?? { reserved: 0, calls: 0 };
      const timeZone = timeZoneOfCountry(r.country);
      await store.syncAccount(
        { accountId: r.id, creditFloor: r.floor, maxConcurrentCalls: r.maxCalls, dailySpendCap: r.cap, status: r.status, timeZone, recording: r.rec },
        { rebuild: { balance: r.balance + (unwritten.get(r.id) ?? 0), reserved: o.reserved, openCalls: o.calls, spentToday: spentToday(r.id, timeZone) } },
      );
      n++;
    }
    after = rows[rows.length - 1]!.id;
  }
  return n;
}
