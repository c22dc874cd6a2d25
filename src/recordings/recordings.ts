import type pg from 'pg';
import type { RedisClient } from '../common/redis-connection.ts';

const COLUMNS = `r.id, r.call_id as "callId", r.call_start as "callStart", r.account_id::int as "accountId", r.storage_key as "storageKey",
  r.size_bytes::float8 as "sizeBytes", r.duration_ms::float8 as "durationMs", r.sha256, r.created_at as "createdAt"`;

export interface NewRecording {
  callId: string;
  callStart: Date;
  accountId: number;
  storageKey: string;
  sizeBytes: number;
  durationMs: number;
  sha256: string;
}

export interface RecordingRecord extends NewRecording {
  id: string;
  createdAt: Date;
  /** From the call's CDR, when it is written: the number dialled. */
  dialledNumber?: string | null;
}

/**
 * Call recordings' records in Postgres (call_recordings, migration 0029): what the SIP app wrote,
 * for the customer's list, the operators' search by call, the data export, erasure and retention.
 * The bytes are in the RecordingStore under `storageKey`.
 */
export class Recordings {
  constructor(private readonly pool: Pick<pg.Pool, 'query'>) {}

  async add(r: NewRecording): Promise<RecordingRecord> {
    const { rows } = await this.pool.query<RecordingRecord>(
      `insert into call_recordings as r (call_id, call_start, account_id, storage_key, size_bytes, duration_ms, sha256)
       values ($1, $2, $3, $4, $5, $6, $7) returning ${COLUMNS}`,
      [r.callId, r.callStart, r.accountId, r.storageKey, r.sizeBytes, r.durationMs, r.sha256],
    );
    return rows[0]!;
  }

  /** An account's recordings, newest first, with the number dialled from the CDR. */
  async ofAccount(accountId: number, limit = 50): Promise<RecordingRecord[]> {
    const { rows } = await this.pool.query<RecordingRecord>(
      `select ${COLUMNS}, c.dialled_number as "dialledNumber" from call_recordings r
         left join cdrs c on c.call_id = r.call_id and c.start_time = r.call_start
        where r.account_id = $1 order by r.created_at desc, r.id limit $2`,
      [accountId, limit],
    );
    return rows;
  }

  /** The recordings of a call (an access-number session may hold several calls: `<id>`, `<id>/2`…). */
  async ofCall(callId: string): Promise<RecordingRecord[]> {
    const { rows } = await this.pool.query<RecordingRecord>(
      `select ${COLUMNS}, c.dialled_number as "dialledNumber" from call_recordings r
         left join cdrs c on c.call_id = r.call_id and c.start_time = r.call_start
        where r.call_id = $1 order by r.created_at`,
      [callId],
    );
    return rows;
  }

  async get(id: string): Promise<RecordingRecord | undefined> {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id)) return undefined;
    const { rows } = await this.pool.query<RecordingRecord>(`select ${COLUMNS} from call_recordings r where r.id = $1`, [id]);
    return rows[0];
  }

  /** Every recording of a customer's accounts (erasure, export). */
  async ofCustomer(customerId: number): Promise<RecordingRecord[]> {
    const { rows } = await this.pool.query<RecordingRecord>(
      `select ${COLUMNS} from call_recordings r join accounts a on a.id = r.account_id where a.customer_id = $1 order by r.created_at`,
      [customerId],
    );
    return rows;
  }

  /** Recordings made before `before` (the retention job), oldest first, at most `limit`. */
  async olderThan(before: Date, limit: number): Promise<RecordingRecord[]> {
    const { rows } = await this.pool.query<RecordingRecord>(`select ${COLUMNS} from call_recordings r where r.created_at < $1 order by r.created_at limit $2`, [
      before,
      limit,
    ]);
    return rows;
  }

  async remove(ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    const r = await this.pool.query('delete from call_recordings where id = any($1::uuid[])', [ids]);
    return r.rowCount ?? 0;
  }
}

/**
 * Recordings that could not be stored (the store refused the file, or the record was not written):
 * counted across every SIP app process in Redis, with the last failure's time and cause, for the
 * operator console. A failure never holds up or fails a call.
 */
export class RecordingFailures {
  constructor(
    private readonly redis: RedisClient,
    private readonly namespace: string,
  ) {}

  private get key(): string {
    return `${this.namespace}:{stats}:recording-failures`;
  }

  async record(cause: string, at = Date.now()): Promise<void> {
    await this.redis.hset(this.key, 'last', String(at), 'cause', cause.slice(0, 200));
    await this.redis.hincrby(this.key, 'count', 1);
  }

  async read(): Promise<{ count: number; lastAt: Date | null; lastCause: string | null }> {
    const [count, last, cause] = await this.redis.hmget(this.key, 'count', 'last', 'cause');
    return { count: Number(count ?? 0), lastAt: last === null ? null : new Date(Number(last)), lastCause: cause ?? null };
  }
}
