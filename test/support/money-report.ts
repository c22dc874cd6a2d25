import type pg from 'pg';
import type { BalanceStore } from '../../src/billing/balance/balance-store.ts';

/** One account's money as Redis and Postgres hold it, for the invariant top-ups − Σ cost = balance. */
export interface MoneyReport {
  accountId: number;
  topUps: number;
  /** Σ (cost − unrecovered) over the account's CDRs: what was actually taken. */
  costs: number;
  unrecovered: number;
  redisBalance: number;
  postgresBalance: number;
  reserved: number;
  callsInProgress: number;
  cdrs: number;
  answeredCdrs: number;
  duplicateCdrs: number;
}

/** Reads the report without writing anything (the ledger writer must already have run). */
export async function moneyReport(pool: pg.Pool, store: BalanceStore, accountId: number): Promise<MoneyReport> {
  const live = await store.get(accountId);
  const q = async (sql: string) => Number((await pool.query<{ v: string }>(sql, [accountId])).rows[0]?.v ?? 0);
  return {
    accountId,
    topUps: await q('select coalesce(sum(amount), 0) as v from topups where account_id = $1'),
    costs: await q('select coalesce(sum(cost - unrecovered), 0) as v from cdrs where account_id = $1'),
    unrecovered: await q('select coalesce(sum(unrecovered), 0) as v from cdrs where account_id = $1'),
    redisBalance: live?.balance ?? Number.NaN,
    postgresBalance: await q('select balance as v from accounts where id = $1'),
    reserved: live?.reserved ?? Number.NaN,
    callsInProgress: live?.callsInProgress ?? Number.NaN,
    cdrs: await q('select count(*) as v from cdrs where account_id = $1'),
    answeredCdrs: await q('select count(*) as v from cdrs where account_id = $1 and billed_seconds > 0'),
    duplicateCdrs: await q('select count(*) as v from (select call_id from cdrs where account_id = $1 group by call_id having count(*) > 1) d'),
  };
}
