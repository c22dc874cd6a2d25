import type pg from 'pg';

/** Reading call records (CDRs) and the money history of accounts, with keyset pagination. */
export interface CallRecord {
  callId: string;
  accountId: number | null;
  kind: string;
  cli: string | null;
  sourceIp: string | null;
  accessNumber: string | null;
  device: string | null;
  dialledNumber: string | null;
  destination: string | null;
  startTime: Date;
  answerTime: Date | null;
  endTime: Date;
  durationMs: number;
  billedSeconds: number;
  ratePrefix: string | null;
  pricePerMinute: number | null;
  cost: number;
  unrecovered: number;
  currency: string | null;
  disposition: string;
  sipCode: number | null;
  sipReason: string | null;
  carrier: string | null;
}

export const CALL_RECORD_FIELDS: (keyof CallRecord)[] = [
  'callId',
  'accountId',
  'kind',
  'cli',
  'sourceIp',
  'accessNumber',
  'device',
  'dialledNumber',
  'destination',
  'startTime',
  'answerTime',
  'endTime',
  'durationMs',
  'billedSeconds',
  'ratePrefix',
  'pricePerMinute',
  'cost',
  'unrecovered',
  'currency',
  'disposition',
  'sipCode',
  'sipReason',
  'carrier',
];

const CDR = `call_id as "callId", account_id as "accountId", kind, cli, host(source_ip) as "sourceIp", access_number as "accessNumber",
  device, dialled_number as "dialledNumber", destination, start_time as "startTime", answer_time as "answerTime", end_time as "endTime",
  duration_ms as "durationMs", billed_seconds as "billedSeconds", rate_prefix as "ratePrefix", price_per_minute as "pricePerMinute",
  cost, unrecovered, currency, disposition, sip_code as "sipCode", sip_reason as "sipReason", carrier`;

export interface CdrFilter {
  accountId?: number;
  from?: Date; // start_time >= from
  to?: Date; // start_time < to
  number?: string; // caller ID, dialled number or destination (digits, with or without +)
  after?: { startTime: number; callId: string }; // newest first: rows strictly older than this
  /** Leave out the records of customers whose processing is restricted (a bulk read with no stated purpose). */
  withoutRestricted?: boolean;
  limit: number;
}

export interface LedgerRow {
  eventId: string;
  kind: string;
  amount: number;
  balanceAfter: number;
  reference: string | null;
  reason: string | null;
  occurredAt: Date;
}

export class CallRecords {
  constructor(private readonly pool: pg.Pool) {}

  async list(f: CdrFilter): Promise<CallRecord[]> {
    const digits = f.number?.replace(/^\+/, '') ?? null;
    const { rows } = await this.pool.query<CallRecord>(
      `select ${CDR} from cdrs
        where ($1::bigint is null or account_id = $1)
          and ($2::timestamptz is null or start_time >= $2)
          and ($3::timestamptz is null or start_time < $3)
          and ($4::text is null or cli = '+' || $4 or cli = $4 or dialled_number = $4 or dialled_number = '+' || $4 or destination = $4)
          and ($5::timestamptz is null or (start_time, call_id) < ($5, $6::text))
          and (not $8 or account_id is null or not exists (select 1 from accounts ra join customers rc on rc.id = ra.customer_id where ra.id = cdrs.account_id and rc.restricted_at is not null))
        order by start_time desc, call_id desc limit $7`,
      [
        f.accountId ?? null,
        f.from ?? null,
        f.to ?? null,
        digits,
        f.after ? new Date(f.after.startTime) : null,
        f.after?.callId ?? '',
        f.limit,
        f.withoutRestricted ?? false,
      ],
    );
    return rows;
  }

  /** Every matching record, newest first, fetched a page at a time (no whole-table buffering). */
  async *stream(f: Omit<CdrFilter, 'after' | 'limit'>, pageSize = 1000): AsyncGenerator<CallRecord> {
    let after: CdrFilter['after'];
    for (;;) {
      const page = await this.list({ ...f, ...(after ? { after } : {}), limit: pageSize });
      yield* page;
      const last = page.at(-1);
      if (page.length < pageSize || !last) return;
      after = { startTime: last.startTime.getTime(), callId: last.callId };
    }
  }

  async ledger(accountId: number, q: { after?: { occurredAt: number; eventId: string }; limit: number }): Promise<LedgerRow[]> {
    const { rows } = await this.pool.query<LedgerRow>(
      `select event_id as "eventId", kind, amount, balance_after as "balanceAfter", reference, reason, occurred_at as "occurredAt"
         from ledger_entries where account_id = $1 and ($2::timestamptz is null or (occurred_at, event_id) < ($2, $3::text))
        order by occurred_at desc, event_id desc limit $4`,
      [accountId, q.after ? new Date(q.after.occurredAt) : null, q.after?.eventId ?? '', q.limit],
    );
    return rows;
  }
}

/** Call records as CSV lines (RFC 4180 quoting), header first. */
export function cdrCsvHeader(): string {
  return `${CALL_RECORD_FIELDS.join(',')}\r\n`;
}

export function cdrCsvLine(r: CallRecord): string {
  return `${CALL_RECORD_FIELDS.map((k) => csvField(r[k])).join(',')}\r\n`;
}

function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = v instanceof Date ? v.toISOString() : String(v);
  // a leading = + - @ would be a formula in a spreadsheet: quote-prefix it
  const safe = /^[=+\-@\t\r]/.test(s) && !/^[+-]?\d+$/.test(s) ? `'${s}` : s;
  return /[",\r\n']/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}
