import type pg from 'pg';
import type { Logger } from 'pino';
import type { AccountLookup } from '../accounts/account-ports.ts';
import type { BalanceStore } from '../billing/balance/balance-store.ts';
import { eraseCustomer } from './erasure.ts';
import {
  deleteExpiredRecordings,
  closedCustomersDue,
  deleteExpiredCdrRows,
  deleteExpiredIvrSessions,
  deleteOldAuditEntries,
  deleteOldConsentEvents,
  deleteOldMails,
  dropExpiredCdrPartitions,
  dropExpiredPaymentReferences,
  foldOldLedgerEntries,
  unnameOldLedgerCalls,
} from './retention.ts';
import type { RetentionPolicy } from './retention.ts';

/** Every retention job, in the order they run; a scheduled run does them all. */
export const RETENTION_JOBS = ['cdrs', 'contacts', 'payments', 'ledger', 'audit', 'consents', 'mail', 'recordings'] as const;
export type RetentionJob = (typeof RETENTION_JOBS)[number];

/** The retention jobs together, as the CLI (`softswitch retention`) and the API run them. */
export interface RetentionDeps {
  pool: pg.Pool;
  log: Logger;
  accounts: AccountLookup;
  balances: BalanceStore;
  policy: RetentionPolicy;
  endSessions?: (accountId: number) => Promise<void>;
  registrations?: { forget(aor: string): Promise<void> };
  /** The call recordings' files (RECORDINGS_DIR): the recordings job and erasure delete from it. */
  recordingStore?: { delete(key: string): Promise<boolean>; sweep?(before: Date): Promise<number> };
}

export async function runRetention(ctx: RetentionDeps, now: Date, jobs: string[], actor: string) {
  const p = ctx.policy;
  const out: {
    droppedPartitions: string[];
    cdrRowsDeleted: number;
    erasedCustomers: number[];
    lateCallRecordsUnlinked: number;
    paymentReferences: { topUps: number; tokens: number };
    ivrSessionsDeleted: number;
    ledgerCallsUnnamed: number;
    ledgerEntriesFolded: number;
    auditEntriesDeleted: number;
    consentEventsDeleted: number;
    mailsDeleted: number;
    recordingsDeleted: number;
  } = {
    droppedPartitions: [],
    cdrRowsDeleted: 0,
    erasedCustomers: [],
    lateCallRecordsUnlinked: 0,
    paymentReferences: { topUps: 0, tokens: 0 },
    ivrSessionsDeleted: 0,
    ledgerCallsUnnamed: 0,
    ledgerEntriesFolded: 0,
    auditEntriesDeleted: 0,
    consentEventsDeleted: 0,
    mailsDeleted: 0,
    recordingsDeleted: 0,
  };
  if (jobs.includes('cdrs')) {
    out.droppedPartitions = await dropExpiredCdrPartitions(ctx.pool, now, p.cdrMonths, ctx.log);
    out.cdrRowsDeleted = await deleteExpiredCdrRows(ctx.pool, now, p.cdrMonths, ctx.log);
    out.ivrSessionsDeleted = await deleteExpiredIvrSessions(ctx.pool, now, p.cdrMonths, ctx.log);
    out.ledgerCallsUnnamed = await unnameOldLedgerCalls(ctx.pool, now, p.cdrMonths, ctx.log);
  }
  if (jobs.includes('contacts')) {
    for (const id of await closedCustomersDue(ctx.pool, now, p.contactYears)) {
      await eraseCustomer(ctx, id, `retention(${actor})`);
      out.erasedCustomers.push(id);
      ctx.log.info({ customerId: id }, "retention: closed customer's contact data erased");
    }
    // call records of erased customers written after their erasure (a call that ended, or a ledger
    // event that was written, afterwards) are unlinked the same way
    const { rows } = await ctx.pool.query<{ n: number }>('select unlink_erased_calls() as n');
    out.lateCallRecordsUnlinked = rows[0]?.n ?? 0;
    if (out.lateCallRecordsUnlinked > 0) ctx.log.info({ count: out.lateCallRecordsUnlinked }, 'retention: late call records of erased customers unlinked');
  }
  if (jobs.includes('payments')) out.paymentReferences = await dropExpiredPaymentReferences(ctx.pool, now, p.paymentReferenceMonths, ctx.log);
  if (jobs.includes('ledger')) out.ledgerEntriesFolded = await foldOldLedgerEntries(ctx.pool, now, p.ledgerYears, ctx.log);
  if (jobs.includes('consents')) out.consentEventsDeleted = await deleteOldConsentEvents(ctx.pool, now, p.consentEventYears, ctx.log);
  if (jobs.includes('audit')) out.auditEntriesDeleted = await deleteOldAuditEntries(ctx.pool, now, p.auditYears, ctx.log);
  if (jobs.includes('mail')) out.mailsDeleted = await deleteOldMails(ctx.pool, now, p.mailMonths, ctx.log);
  if (jobs.includes('recordings')) {
    if (ctx.recordingStore === undefined) ctx.log.warn('retention: no recording store given, call recordings not looked at');
    else out.recordingsDeleted = await deleteExpiredRecordings(ctx.pool, ctx.recordingStore, now, p.recordingDays ?? 90, ctx.log);
  }
  return out;
}
