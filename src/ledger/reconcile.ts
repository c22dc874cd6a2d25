import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { BalanceStore } from '../billing/balance/balance-store.ts';
import { decodeEvent } from './stream-event.ts';

export interface BalanceDifference {
  accountId: number;
  redis: number | null;
  postgres: number;
  unwritten: number;
}

/** Balance changes still in the streams (not yet in Postgres), per account. */
export async function unwrittenDeltas(redis: Redis, store: BalanceStore): Promise<Map<number, number>> {
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
export async function reconcile(pool: pg.Pool, redis: Redis, store: BalanceStore): Promise<{ checked: number; differences: BalanceDifference[] }> {
  const unwritten = await unwrittenDeltas(redis, store);
  const differences: BalanceDifference[] = [];
  let checked = 0;
  let after = 0;
  for (;;) {
    const { rows } = await pool.query<{ id: number; balance: number }>('select id, balance from accounts where id > $1 order by id limit 1000', [after]);
    if (rows.length === 0) break;
    const pipe = redis.pipeline();
    for (const r of rows) pipe.hget(store.keys.account(r.id), 'bal');
    const res = (await pipe.exec()) ?? [];
    rows.forEach((r, i) => {
      checked++;
      const v = res[i]?.[1] as string | null | undefined;
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
export async function rebuildBalances(pool: pg.Pool, redis: Redis, store: BalanceStore, now = new Date()): Promise<number> {
  const unwritten = await unwrittenDeltas(redis, store);
  const open = await store.openReservations();
  const dayStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  const { rows: spent } = await pool.query<{ accountId: number; spent: string }>(
    `select account_id as "accountId", (-sum(amount))::text as spent from ledger_entries
      where kind = 'call' and occurred_at >= $1 group by account_id`,
    [dayStart],
  );
  const spentBy = new Map(spent.map((r) => [r.accountId, Number(r.spent)]));
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
    }>(
      `select id, balance, credit_floor as floor, max_concurrent_calls as "maxCalls", daily_spend_cap as cap, status
         from accounts where id > $1 order by id limit 1000`,
      [after],
    );
    if (rows.length === 0) break;
    for (const r of rows) {
      const o = open.get(r.id) ?? { reserved: 0, calls: 0 };
      await store.syncAccount(
        { accountId: r.id, creditFloor: r.floor, maxConcurrentCalls: r.maxCalls, dailySpendCap: r.cap, status: r.status },
        { rebuild: { balance: r.balance + (unwritten.get(r.id) ?? 0), reserved: o.reserved, openCalls: o.calls, spentToday: spentBy.get(r.id) ?? 0 } },
      );
      n++;
    }
    after = rows[rows.length - 1]!.id;
  }
  return n;
}
