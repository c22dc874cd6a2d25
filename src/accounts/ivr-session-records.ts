import type pg from 'pg';

/**
 * Reading access-number sessions (ivr_sessions) for operators: every call a carrier delivered to
 * an access number, with how long the access leg was up, whether or not it led to a call. What an
 * operator reconciles the carrier's invoice for the access legs against. No cost to customers.
 */
export interface IvrSessionRow {
  callId: string;
  accountId: number | null;
  accessNumber: string;
  cli: string | null;
  sourceIp: string | null;
  carrier: string | null;
  startTime: Date;
  endTime: Date;
  durationMs: number;
  outcome: string;
  pinAttempts: number;
  calls: number;
}

/** Per access number and carrier: sessions, access-leg time, and those that placed no call. */
export interface IvrSessionTotals {
  accessNumber: string;
  carrier: string | null;
  sessions: number;
  durationMs: number;
  withoutCalls: number;
}

export interface IvrSessionFilter {
  from?: Date; // start_time >= from
  to?: Date; // start_time < to
  accessNumber?: string;
  accountId?: number;
  after?: { startTime: number; callId: string }; // newest first: rows strictly older than this
  /** Leave out the sessions of customers whose processing is restricted (a bulk read with no stated purpose). */
  withoutRestricted?: boolean;
  limit: number;
}

const ROW = `call_id as "callId", account_id::float8 as "accountId", access_number as "accessNumber", cli, host(source_ip) as "sourceIp",
  carrier, start_time as "startTime", end_time as "endTime", duration_ms::float8 as "durationMs", outcome, pin_attempts as "pinAttempts", calls`;

const WHERE = `($1::timestamptz is null or start_time >= $1) and ($2::timestamptz is null or start_time < $2)
  and ($3::text is null or access_number = $3) and ($4::bigint is null or account_id = $4)`;

export class IvrSessionRecords {
  constructor(private readonly pool: pg.Pool) {}

  async list(f: IvrSessionFilter): Promise<IvrSessionRow[]> {
    const { rows } = await this.pool.query<IvrSessionRow>(
      `select ${ROW} from ivr_sessions where ${WHERE}
          and ($5::timestamptz is null or (start_time, call_id) < ($5, $6::text))
          and (not $8 or account_id is null or not exists (select 1 from accounts ra join customers rc on rc.id = ra.customer_id where ra.id = ivr_sessions.account_id and rc.restricted_at is not null))
        order by start_time desc, call_id desc limit $7`,
      [...params(f), f.after ? new Date(f.after.startTime) : null, f.after?.callId ?? '', f.limit, f.withoutRestricted ?? false],
    );
    return rows;
  }

  async totals(f: Omit<IvrSessionFilter, 'after' | 'limit'>): Promise<IvrSessionTotals[]> {
    const { rows } = await this.pool.query<IvrSessionTotals>(
      `select access_number as "accessNumber", carrier, count(*)::int as sessions, coalesce(sum(duration_ms), 0)::float8 as "durationMs",
              (count(*) filter (where calls = 0))::int as "withoutCalls"
         from ivr_sessions where ${WHERE} group by access_number, carrier order by access_number, carrier`,
      params(f),
    );
    return rows;
  }
}

function params(f: Omit<IvrSessionFilter, 'after' | 'limit'>): unknown[] {
  return [f.from ?? null, f.to ?? null, f.accessNumber ?? null, f.accountId ?? null];
}
