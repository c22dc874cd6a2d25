import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { LedgerEvent } from './stream-event.ts';

/**
 * Writes a batch of stream events to Postgres in one transaction: ledger entries (idempotent on
 * event id) and the durable balance they move, top-up records, and CDRs (idempotent on call id +
 * start time; a correction event's CDR replaces the call's earlier one), and access-number sessions
 * (idempotent on call id). Replaying a batch changes nothing.
 *
 * The bulk of a batch (every ledger entry and every first CDR) travels as one `COPY ... FROM STDIN`
 * into a session-local staging table, one row per event holding both, then two
 * `INSERT ... SELECT ... ON CONFLICT DO NOTHING` statements move it into ledger_entries (with the
 * balance update) and cdrs. The staging table is `on commit delete rows`: empty outside a batch.
 */
/** Event ids of an owner's settle that replaced a sweeper's (settle.lua): its CDR replaces the call's CDR. */
const CORRECTION_PREFIX = 'resettle:';

export class PostgresLedgerSink {
  private readonly months = new Set<string>();
  /** Connections whose session already has the staging table. */
  private readonly staged = new WeakSet<object>();

  constructor(private readonly pool: pg.Pool) {}

  async write(events: readonly LedgerEvent[]): Promise<void> {
    if (events.length === 0) return;
    const ledger = events.filter((e) => e.accountId !== null && (e.type !== 'call' || e.amount !== 0));
    const topups = events.filter((e) => e.type === 'topup');
    const cdrs = events.filter((e) => e.cdr !== null);
    const sessions = events.filter((e) => e.session !== null);
    await this.ensurePartitions(cdrs);
    const client = await this.pool.connect();
    try {
      await this.ensureStage(client);
      await client.query('begin');
      const firstCdr = (e: LedgerEvent): boolean => e.cdr !== null && !e.eventId.startsWith(CORRECTION_PREFIX);
      const inLedger = new Set(ledger);
      const staged = events.filter((e) => inLedger.has(e) || firstCdr(e));
      if (staged.length > 0) {
        await this.stage(client, staged, inLedger, firstCdr);
        if (ledger.length > 0) {
          await client.query(
            `with ins as (
               insert into ledger_entries (event_id, account_id, kind, amount, balance_after, reference, reason, occurred_at)
               select event_id, account_id, kind, amount, balance_after, reference, nullif(reason, ''), to_timestamp(occurred_ms / 1000.0)
                 from ledger_batch_stage where in_ledger
               on conflict (event_id) do nothing
               returning account_id, amount)
             update accounts a set balance = a.balance + d.delta, updated_at = now()
               from (select account_id, sum(amount)::bigint as delta from ins group by account_id) d
              where a.id = d.account_id`,
          );
        }
        if (staged.some(firstCdr)) {
          await client.query(
            `insert into cdrs (call_id, account_id, event_id, kind, cli, source_ip, access_number, device, dialled_number,
                               destination, start_time, answer_time, end_time, duration_ms, billed_seconds, rate_prefix,
                               price_per_minute, cost, unrecovered, currency, disposition, sip_code, sip_reason, carrier)
             select c_call_id, c_account_id, event_id, c_kind, c_cli, c_source_ip::inet, c_access_number, c_device, c_dialled_number,
                    c_destination, to_timestamp(c_start_ms / 1000.0),
                    case when c_answer_ms is null then null else to_timestamp(c_answer_ms / 1000.0) end, to_timestamp(c_end_ms / 1000.0),
                    c_duration_ms, c_billed_seconds, c_rate_prefix, c_price_per_minute, c_cost, c_unrecovered, c_currency,
                    c_disposition, c_sip_code, c_sip_reason, c_carrier
               from ledger_batch_stage where has_cdr
             on conflict (call_id, start_time) do nothing`,
          );
        }
      }
      if (topups.length > 0) {
        await client.query(
          `insert into topups (idempotency_key, account_id, amount, provider, provider_reference, event_id, created_at)
           select k, a, am, p, nullif(r, ''), e, to_timestamp(o / 1000.0)
             from unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::bigint[]) as t(k, a, am, p, r, e, o)
           on conflict (idempotency_key) do nothing`,
          [
            topups.map((e) => e.reference),
            topups.map((e) => e.accountId),
            topups.map((e) => e.amount),
            topups.map((e) => e.provider),
            topups.map((e) => e.providerReference),
            topups.map((e) => e.eventId),
            topups.map((e) => e.occurredAt),
          ],
        );
      }
      const corrections = cdrs.filter((e) => e.eventId.startsWith(CORRECTION_PREFIX));
      for (const e of corrections) {
        // the owner's CDR replaces the sweeper's (whatever start time the sweeper could give it)
        await client.query('delete from cdrs where call_id = $1 and account_id = $2', [e.cdr!.callId, e.accountId]);
        await this.insertCdrs(client, [e]);
      }
      if (sessions.length > 0) await this.insertSessions(client, sessions);
      await client.query('commit');
    } catch (err) {
      await client.query('rollback').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  /** The session's staging table, created outside any transaction on a connection's first batch. */
  private async ensureStage(client: pg.PoolClient): Promise<void> {
    if (!this.staged.has(client)) {
      await client.query(
        `create temporary table if not exists ledger_batch_stage (
           in_ledger boolean not null, event_id text not null, account_id bigint, kind text, amount bigint, balance_after bigint,
           reference text, reason text, occurred_ms bigint,
           has_cdr boolean not null, c_call_id text, c_account_id bigint, c_kind text, c_cli text, c_source_ip text,
           c_access_number text, c_device text, c_dialled_number text, c_destination text, c_start_ms bigint, c_answer_ms bigint,
           c_end_ms bigint, c_duration_ms bigint, c_billed_seconds int, c_rate_prefix text, c_price_per_minute bigint, c_cost bigint,
           c_unrecovered bigint, c_currency text, c_disposition text, c_sip_code int, c_sip_reason text, c_carrier text
         ) on commit delete rows`,
      );
      this.staged.add(client);
    }
  }

  /** One COPY of the batch's rows into the session's staging table. */
  private async stage(client: pg.PoolClient, events: readonly LedgerEvent[], inLedger: Set<LedgerEvent>, firstCdr: (e: LedgerEvent) => boolean): Promise<void> {
    const lines: string[] = [];
    for (const e of events) {
      const row: unknown[] = inLedger.has(e)
        ? ['t', e.eventId, e.accountId, e.type, e.amount, e.balanceAfter, e.reference, e.reason, e.occurredAt]
        : ['f', e.eventId, null, null, null, null, null, null, null];
      const c = firstCdr(e) ? e.cdr : null;
      if (c) {
        row.push('t', ...cdrValues(e, c));
      } else {
        row.push('f');
        for (let i = 0; i < 23; i++) row.push(null);
      }
      lines.push(row.map(copyField).join('\t'));
    }
    lines.push('');
    await pipeline(Readable.from([lines.join('\n')]), client.query(copyFrom('copy ledger_batch_stage from stdin')));
  }

  private async insertCdrs(client: pg.PoolClient, events: readonly LedgerEvent[]): Promise<void> {
    const cols: unknown[][] = Array.from({ length: 24 }, () => []);
    for (const e of events) {
      const [callId, accountId, ...rest] = cdrValues(e, e.cdr!);
      const row = [callId, accountId, e.eventId, ...rest];
      row.forEach((v, i) => cols[i]!.push(v ?? null));
    }
    await client.query(
      `insert into cdrs (call_id, account_id, event_id, kind, cli, source_ip, access_number, device, dialled_number,
                         destination, start_time, answer_time, end_time, duration_ms, billed_seconds, rate_prefix,
                         price_per_minute, cost, unrecovered, currency, disposition, sip_code, sip_reason, carrier)
       select c1, c2, c3, c4, c5, c6::inet, c7, c8, c9, c10, to_timestamp(c11 / 1000.0),
              case when c12 is null then null else to_timestamp(c12 / 1000.0) end, to_timestamp(c13 / 1000.0),
              c14, c15, c16, c17, c18, c19, c20, c21, c22, c23, c24
         from unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                     $9::text[], $10::text[], $11::bigint[], $12::bigint[], $13::bigint[], $14::bigint[], $15::int[],
                     $16::text[], $17::bigint[], $18::bigint[], $19::bigint[], $20::text[], $21::text[], $22::int[],
                     $23::text[], $24::text[])
           as t(c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15, c16, c17, c18, c19, c20, c21, c22, c23, c24)
       on conflict (call_id, start_time) do nothing`,
      cols,
    );
  }

  /** Access-number sessions, once per session (call id). */
  private async insertSessions(client: pg.PoolClient, events: readonly LedgerEvent[]): Promise<void> {
    const cols: unknown[][] = Array.from({ length: 13 }, () => []);
    for (const e of events) {
      const x = e.session!;
      const row = [
        x.callId,
        e.eventId,
        x.accountId,
        x.accessNumber,
        x.cli,
        x.sourceIp,
        x.carrier,
        x.startTime,
        x.endTime,
        x.durationMs,
        x.outcome,
        x.pinAttempts,
        x.calls,
      ];
      row.forEach((v, i) => cols[i]!.push(v ?? null));
    }
    await client.query(
      `insert into ivr_sessions (call_id, event_id, account_id, access_number, cli, source_ip, carrier, start_time, end_time, duration_ms, outcome, pin_attempts, calls)
       select c1, c2, c3, c4, c5, c6::inet, c7, to_timestamp(c8 / 1000.0), to_timestamp(c9 / 1000.0), c10, c11, c12, c13
         from unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[], $9::bigint[],
                     $10::bigint[], $11::text[], $12::int[], $13::int[])
           as t(c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13)
       on conflict (call_id) do nothing`,
      cols,
    );
  }

  /** Monthly CDR partitions are created on first use (cached per process). */
  private async ensurePartitions(events: readonly LedgerEvent[]): Promise<void> {
    for (const e of events) {
      const month = new Date(e.cdr!.startTime).toISOString().slice(0, 7);
      if (this.months.has(month)) continue;
      await this.pool.query('select ensure_cdr_partition(to_timestamp($1 / 1000.0))', [e.cdr!.startTime]);
      this.months.add(month);
    }
  }
}

const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** A value in COPY's text format: \N for null, backslash, tab, newline and carriage return escaped. */
export function copyField(v: unknown): string {
  if (v === null || v === undefined) return '\\N';
  const text = typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[\\\t\n\r]/.test(text) ? text.replace(/[\\\t\n\r]/g, (ch) => COPY_ESCAPES[ch]!) : text;
}

/** A CDR's columns in table order (call_id, account_id, then kind … carrier), without event_id: one list for the COPY and the INSERT paths. */
function cdrValues(e: LedgerEvent, c: NonNullable<LedgerEvent['cdr']>): unknown[] {
  return [
    c.callId,
    c.accountId,
    c.kind,
    c.cli,
    c.sourceIp,
    c.accessNumber,
    c.device,
    c.dialledNumber,
    c.destination,
    c.startTime,
    c.answerTime,
    c.endTime,
    c.durationMs,
    c.billedSeconds,
    c.ratePrefix,
    c.pricePerMinute,
    c.cost,
    e.unrecovered,
    c.currency,
    c.disposition,
    c.sipCode,
    c.sipReason,
    c.carrier,
  ];
}
