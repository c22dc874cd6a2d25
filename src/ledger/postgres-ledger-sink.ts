import type pg from 'pg';
import type { LedgerEvent } from './stream-event.ts';

/**
 * Writes a batch of stream events to Postgres in one transaction: ledger entries (idempotent on
 * event id) and the durable balance they move, top-up records, and CDRs (idempotent on call id +
 * start time; a correction event's CDR replaces the call's earlier one), and access-number sessions
 * (idempotent on call id). Replaying a batch changes nothing.
 */
/** Event ids of an owner's settle that replaced a sweeper's (settle.lua): its CDR replaces the call's CDR. */
const CORRECTION_PREFIX = 'resettle:';

export class PostgresLedgerSink {
  private readonly months = new Set<string>();

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
      await client.query('begin');
      if (ledger.length > 0) {
        await client.query(
          `with ins as (
             insert into ledger_entries (event_id, account_id, kind, amount, balance_after, reference, reason, occurred_at)
             select e, a, k, am, b, r, nullif(re, ''), to_timestamp(o / 1000.0)
               from unnest($1::text[], $2::bigint[], $3::text[], $4::bigint[], $5::bigint[], $6::text[], $7::text[],
                           $8::bigint[]) as t(e, a, k, am, b, r, re, o)
             on conflict (event_id) do nothing
             returning account_id, amount)
           update accounts a set balance = a.balance + d.delta, updated_at = now()
             from (select account_id, sum(amount)::bigint as delta from ins group by account_id) d
            where a.id = d.account_id`,
          [
            ledger.map((e) => e.eventId), ledger.map((e) => e.accountId), ledger.map((e) => e.type),
            ledger.map((e) => e.amount), ledger.map((e) => e.balanceAfter), ledger.map((e) => e.reference),
            ledger.map((e) => e.reason), ledger.map((e) => e.occurredAt),
          ],
        );
      }
      if (topups.length > 0) {
        await client.query(
          `insert into topups (idempotency_key, account_id, amount, provider, provider_reference, event_id, created_at)
           select k, a, am, p, nullif(r, ''), e, to_timestamp(o / 1000.0)
             from unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::bigint[]) as t(k, a, am, p, r, e, o)
           on conflict (idempotency_key) do nothing`,
          [
            topups.map((e) => e.reference), topups.map((e) => e.accountId), topups.map((e) => e.amount),
            topups.map((e) => e.provider), topups.map((e) => e.providerReference), topups.map((e) => e.eventId),
            topups.map((e) => e.occurredAt),
          ],
        );
      }
      const corrections = cdrs.filter((e) => e.eventId.startsWith(CORRECTION_PREFIX));
      const firsts = cdrs.filter((e) => !e.eventId.startsWith(CORRECTION_PREFIX));
      if (firsts.length > 0) await this.insertCdrs(client, firsts);
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

  private async insertCdrs(client: pg.PoolClient, events: readonly LedgerEvent[]): Promise<void> {
    const cols: unknown[][] = Array.from({ length: 24 }, () => []);
    for (const e of events) {
      const c = e.cdr!;
      const row = [
        c.callId, c.accountId, e.eventId, c.kind, c.cli, c.sourceIp, c.accessNumber, c.device, c.dialledNumber,
        c.destination, c.startTime, c.answerTime, c.endTime, c.durationMs, c.billedSeconds, c.ratePrefix,
        c.pricePerMinute, c.cost, e.unrecovered, c.currency, c.disposition, c.sipCode, c.sipReason, c.carrier,
      ];
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
      const row = [x.callId, e.eventId, x.accountId, x.accessNumber, x.cli, x.sourceIp, x.carrier, x.startTime, x.endTime, x.durationMs, x.outcome, x.pinAttempts, x.calls];
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
