import type pg from 'pg';
import type { Logger } from 'pino';
import type { Config } from '../config/config.ts';
import { AuditLog } from './audit-log.ts';

/**
 * Retention jobs. Each is idempotent (a second run finds nothing more to do), logged, written to
 * the audit log, and runnable by hand (`softswitch retention ...`). `now` is a parameter so the
 * jobs can be tested against any date.
 *
 * - call records: kept `months` months to the day: monthly partitions of `cdrs` whose whole month
 *   is older are dropped, then the older rows of the month straddling the cutoff deleted; access-
 *   number session records older than `months` deleted;
 * - contact data of closed customers: erased `years` after closure (the erasure of eraseCustomer);
 * - payment references: the provider's reference on top-ups older than `months`, and the saved
 *   payment tokens of accounts closed longer than that, are removed;
 * - ledger entries: a call's entry stops naming its call (reference, event id) when the call record
 *   goes; entries older than `ledgerYears` are folded into one opening entry per account;
 * - audit log: entries older than `auditYears` deleted;
 * - consent history: events older than `consentEventYears` deleted, except each list's latest of a
 *   customer not erased.
 */
export interface RetentionPolicy {
  cdrMonths: number;
  contactYears: number;
  paymentReferenceMonths: number;
  ledgerYears: number;
  auditYears: number;
  consentEventYears: number;
  mailMonths: number;
  /** Call recordings are deleted (file and record) this many days after the call (default 90). */
  recordingDays?: number;
}

/** The retention periods the settings give (the API and the CLI run the same jobs with them). */
export function retentionPolicyOf(config: Config): RetentionPolicy {
  return {
    cdrMonths: config.cdrRetentionMonths,
    contactYears: config.contactRetentionYears,
    paymentReferenceMonths: config.paymentReferenceRetentionMonths,
    ledgerYears: config.ledgerRetentionYears,
    auditYears: config.auditRetentionYears,
    consentEventYears: config.consentEventRetentionYears,
    mailMonths: config.mailRetentionMonths,
    recordingDays: config.recordingRetentionDays,
  };
}

function monthsBefore(now: Date, months: number): Date {
  const d = new Date(now.getTime());
  d.setUTCMonth(d.getUTCMonth() - months);
  return d;
}

export async function cdrPartitions(pool: pg.Pool): Promise<{ name: string; monthStart: Date }[]> {
  const { rows } = await pool.query<{ name: string }>(
    `select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid join pg_class p on p.oid = i.inhparent
       join pg_namespace n on n.oid = p.relnamespace where p.relname = 'cdrs' and n.nspname = current_schema() order by c.relname`,
  );
  return rows.flatMap((r) => {
    const m = /^cdrs_(\d{4})_(\d{2})$/.exec(r.name);
    return m ? [{ name: r.name, monthStart: new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, 1)) }] : [];
  });
}

export async function dropExpiredCdrPartitions(pool: pg.Pool, now: Date, months: number, log?: Logger): Promise<string[]> {
  const cutoff = monthsBefore(now, months);
  const dropped: string[] = [];
  for (const p of await cdrPartitions(pool)) {
    const monthEnd = new Date(Date.UTC(p.monthStart.getUTCFullYear(), p.monthStart.getUTCMonth() + 1, 1));
    if (monthEnd > cutoff) continue;
    await pool.query(`drop table if exists "${p.name}"`);
    dropped.push(p.name);
    log?.info({ partition: p.name }, 'retention: call-record partition dropped');
  }
  if (dropped.length)
    await new AuditLog(pool).write({ actor: 'retention', action: 'retention.cdr_partitions_dropped', detail: { partitions: dropped, months } });
  return dropped;
}

/**
 * Call records older than `months` months to the day: whole monthly partitions go with
 * dropExpiredCdrPartitions; this deletes what is left of the oldest month row by row (only the
 * partition straddling the cutoff is scanned), so no record outlives the period by up to a month.
 */
export async function deleteExpiredCdrRows(pool: pg.Pool, now: Date, months: number, log?: Logger): Promise<number> {
  const r = await pool.query('delete from cdrs where start_time < $1', [monthsBefore(now, months)]);
  const n = r.rowCount ?? 0;
  if (n > 0) {
    log?.info({ records: n }, 'retention: call records deleted');
    await new AuditLog(pool).write({ actor: 'retention', action: 'retention.cdr_rows_deleted', detail: { records: n, months } });
  }
  return n;
}

/** Access-number session records (ivr_sessions) are call records too: kept as long, then deleted. */
export async function deleteExpiredIvrSessions(pool: pg.Pool, now: Date, months: number, log?: Logger): Promise<number> {
  const r = await pool.query('delete from ivr_sessions where start_time < $1', [monthsBefore(now, months)]);
  const n = r.rowCount ?? 0;
  if (n > 0) {
    log?.info({ sessions: n }, 'retention: access-number session records deleted');
    await new AuditLog(pool).write({ actor: 'retention', action: 'retention.ivr_sessions_deleted', detail: { sessions: n, months } });
  }
  return n;
}

export async function closedCustomersDue(pool: pg.Pool, now: Date, years: number): Promise<number[]> {
  const { rows } = await pool.query<{ id: number }>(
    'select id from customers where closed_at is not null and erased_at is null and closed_at < $1 order by id',
    [monthsBefore(now, years * 12)],
  );
  return rows.map((r) => r.id);
}

export async function dropExpiredPaymentReferences(pool: pg.Pool, now: Date, months: number, log?: Logger): Promise<{ topUps: number; tokens: number }> {
  const cutoff = monthsBefore(now, months);
  const t = await pool.query('update topups set provider_reference = null where provider_reference is not null and created_at < $1', [cutoff]);
  await pool.query('update auto_topup_charges set provider_reference = null where provider_reference is not null and at < $1', [cutoff]);
  const k = await pool.query(`delete from auto_topups where account_id in (select id from accounts where status = 'closed' and closed_at < $1)`, [cutoff]);
  // online orders: the provider's checkout id and payment reference, and the record of its events
  const o = await pool.query(
    `update orders set checkout_id = null, checkout_url = null, provider_reference = null, name = null, email = null, email_code_hash = null, updated_at = now()
      where created_at < $1 and (checkout_id is not null or provider_reference is not null or name is not null or email is not null)`,
    [cutoff],
  );
  const e = await pool.query('delete from payment_events where received_at < $1', [cutoff]);
  // orders count with the top-ups (the reference of a payment either way)
  const r = { topUps: (t.rowCount ?? 0) + (o.rowCount ?? 0), tokens: k.rowCount ?? 0 };
  const events = e.rowCount ?? 0;
  if (r.topUps || r.tokens || events) {
    log?.info({ ...r, paymentEvents: events }, 'retention: payment references dropped');
    await new AuditLog(pool).write({ actor: 'retention', action: 'retention.payment_references_dropped', detail: { ...r, paymentEvents: events, months } });
  }
  return r;
}

/**
 * Ledger call entries name their call (reference = call id, event id `call:<account>:<call id>`),
 * and a call id often ends in the caller's address. Once the call record itself is gone (the same
 * cutoff as the call records), the entry keeps its amount and time but no longer names the call.
 */
export async function unnameOldLedgerCalls(pool: pg.Pool, now: Date, months: number, log?: Logger): Promise<number> {
  const r = await pool.query(
    `update ledger_entries set event_id = 'call-' || gen_random_uuid(), reference = null
      where kind = 'call' and occurred_at < $1 and event_id not like 'call-%' and event_id not like 'erased-%'`,
    [monthsBefore(now, months)],
  );
  const n = r.rowCount ?? 0;
  if (n > 0) {
    log?.info({ entries: n }, 'retention: ledger call entries no longer name their calls');
    await new AuditLog(pool).write({ actor: 'retention', action: 'retention.ledger_calls_unnamed', detail: { entries: n, months } });
  }
  return n;
}

/**
 * Ledger entries older than `years` years: per account, folded into one `opening` entry with their
 * sum and the balance after the last of them, so the remaining entries still add up to the
 * balance. An account whose only old entry is such an opening entry is left alone (idempotent).
 */
export async function foldOldLedgerEntries(pool: pg.Pool, now: Date, years: number, log?: Logger): Promise<number> {
  const cutoff = monthsBefore(now, years * 12);
  const { rows } = await pool.query<{ folded: string }>(
    `with old as (
       select account_id, sum(amount) as amount, max(occurred_at) as last_at, count(*) as n from ledger_entries
        where occurred_at < $1 group by account_id having count(*) > 1 or bool_or(kind <> 'opening')
     ), last as (
       select distinct on (l.account_id) l.account_id, l.balance_after from ledger_entries l join old using (account_id)
        where l.occurred_at < $1 order by l.account_id, l.occurred_at desc, l.written_at desc, l.event_id desc
     ), gone as (
       delete from ledger_entries l using old where l.account_id = old.account_id and l.occurred_at < $1 returning 1
     ), added as (
       insert into ledger_entries (event_id, account_id, kind, amount, balance_after, reason, occurred_at)
       select 'opening-' || gen_random_uuid(), old.account_id, 'opening', old.amount, last.balance_after,
              'carried forward: entries before ' || to_char($1::timestamptz at time zone 'UTC', 'YYYY-MM-DD'), old.last_at
         from old join last using (account_id)
       returning 1
     )
     select (select count(*) from gone)::text as folded`,
    [cutoff],
  );
  const n = Number(rows[0]?.folded ?? 0);
  if (n > 0) {
    log?.info({ entries: n }, 'retention: old ledger entries folded into opening entries');
    await new AuditLog(pool).write({ actor: 'retention', action: 'retention.ledger_folded', detail: { entries: n, years } });
  }
  return n;
}

/** Audit-log entries older than `years` years are deleted (the deletion itself is a new entry). */
export async function deleteOldAuditEntries(pool: pg.Pool, now: Date, years: number, log?: Logger): Promise<number> {
  const r = await pool.query('delete from audit_log where at < $1', [monthsBefore(now, years * 12)]);
  const n = r.rowCount ?? 0;
  if (n > 0) {
    log?.info({ entries: n }, 'retention: audit-log entries deleted');
    await new AuditLog(pool).write({ actor: 'retention', action: 'retention.audit_deleted', detail: { entries: n, years } });
  }
  return n;
}

/**
 * Consent history older than `years` years is deleted, except each list's latest event of a
 * customer not erased: that one is the evidence of the consent (or opt-out) still relied on.
 */
export async function deleteOldConsentEvents(pool: pg.Pool, now: Date, years: number, log?: Logger): Promise<number> {
  const r = await pool.query(
    `delete from consent_events e where e.at < $1 and (
       exists (select 1 from customers c where c.id = e.customer_id and c.erased_at is not null)
       or exists (select 1 from consent_events n where n.customer_id = e.customer_id and n.list = e.list and (n.at, n.id) > (e.at, e.id)))`,
    [monthsBefore(now, years * 12)],
  );
  const n = r.rowCount ?? 0;
  if (n > 0) {
    log?.info({ events: n }, 'retention: consent events deleted');
    await new AuditLog(pool).write({ actor: 'retention', action: 'retention.consent_events_deleted', detail: { events: n, years } });
  }
  return n;
}

/**
 * Mails sent or given up on more than `months` months ago are deleted with their address and
 * bodies (the outbox is the record of what we told whom; a receipt's figures stay in the ledger).
 * Mails still waiting are never deleted here.
 */
export async function deleteOldMails(pool: pg.Pool, now: Date, months: number, log?: Logger): Promise<number> {
  const r = await pool.query(`delete from mail_outbox where status in ('sent', 'failed', 'erased') and coalesce(sent_at, created_at) < $1`, [
    monthsBefore(now, months),
  ]);
  const n = r.rowCount ?? 0;
  if (n > 0) {
    log?.info({ mails: n }, 'retention: old mails deleted');
    await new AuditLog(pool).write({ actor: 'retention', action: 'retention.mails_deleted', detail: { mails: n, months } });
  }
  return n;
}

/**
 * Call recordings older than `days` days (from when the recording was made, at the call's end) are
 * deleted: each file from the store, then its record. A file the store cannot delete keeps its
 * record (logged), so the next run tries again; a file already gone is taken as deleted. Then
 * every file of a day more than three days before the cutoff goes, with or without a record (left by a
 * process that died mid-call, or whose record could not be written).
 */
export async function deleteExpiredRecordings(
  pool: pg.Pool,
  store: { delete(key: string): Promise<boolean>; sweep?(before: Date): Promise<number> },
  now: Date,
  days: number,
  log?: Logger,
): Promise<number> {
  const before = new Date(now.getTime() - days * 86_400_000);
  let n = 0;
  for (;;) {
    const { rows } = await pool.query<{ id: string; key: string }>(
      'select id, storage_key as key from call_recordings where created_at < $1 order by created_at limit 500',
      [before],
    );
    const gone: string[] = [];
    for (const r of rows) {
      try {
        await store.delete(r.key);
        gone.push(r.id);
      } catch (err) {
        log?.error({ err: (err as Error).message, recordingId: r.id }, 'retention: recording file not deleted; its record is kept for the next run');
      }
    }
    if (gone.length > 0) n += (await pool.query('delete from call_recordings where id = any($1::uuid[])', [gone])).rowCount ?? 0;
    if (rows.length < 500 || gone.length === 0) break;
  }
  // files no record names (a process that died mid-call, a record that could not be written), of days wholly past the
  // period: a recording is filed under the day it started, and a call lasts at most MAX_CALL_SECONDS (≤ 48 h)
  const swept = (await store.sweep?.(new Date(before.getTime() - 3 * 86_400_000))) ?? 0;
  if (swept > 0) log?.warn({ files: swept }, 'retention: recording files without a record deleted');
  if (n > 0 || swept > 0) {
    log?.info({ recordings: n }, 'retention: call recordings deleted');
    await new AuditLog(pool).write({ actor: 'retention', action: 'retention.recordings_deleted', detail: { recordings: n, filesWithoutRecord: swept, days } });
  }
  return n;
}
