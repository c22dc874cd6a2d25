import type pg from 'pg';
import type { Logger } from 'pino';
import type { AccountLookup } from '../accounts/account-ports.ts';
import type { BalanceStore } from '../billing/balance/balance-store.ts';
import { eraseCustomer } from './erasure.ts';
import { closedCustomersDue, deleteExpiredIvrSessions, dropExpiredCdrPartitions, dropExpiredPaymentReferences } from './retention.ts';
import type { RetentionPolicy } from './retention.ts';

/** The retention jobs together, as the CLI (`softswitch retention`) and the API run them. */
export interface RetentionDeps {
  pool: pg.Pool;
  log: Logger;
  accounts: AccountLookup;
  balances: BalanceStore;
  policy: RetentionPolicy;
  endSessions?: (accountId: number) => Promise<void>;
}

export async function runRetention(ctx: RetentionDeps, now: Date, jobs: string[], actor: string) {
  const p = ctx.policy;
  const out: { droppedPartitions: string[]; erasedCustomers: number[]; paymentReferences: { topUps: number; tokens: number } } = {
    droppedPartitions: [],
    erasedCustomers: [],
    paymentReferences: { topUps: 0, tokens: 0 },
  };
  if (jobs.includes('cdrs')) {
    out.droppedPartitions = await dropExpiredCdrPartitions(ctx.pool, now, p.cdrMonths, ctx.log);
    await deleteExpiredIvrSessions(ctx.pool, now, p.cdrMonths, ctx.log);
  }
  if (jobs.includes('contacts')) {
    for (const id of await closedCustomersDue(ctx.pool, now, p.contactYears)) {
      await eraseCustomer(ctx, id, `retention(${actor})`);
      out.erasedCustomers.push(id);
      ctx.log.info({ customerId: id }, "retention: closed customer's contact data erased");
    }
  }
  if (jobs.includes('payments')) out.paymentReferences = await dropExpiredPaymentReferences(ctx.pool, now, p.paymentReferenceMonths, ctx.log);
  return out;
}
