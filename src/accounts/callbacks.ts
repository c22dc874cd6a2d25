import { createHmac } from 'node:crypto';
import type { RedisClient } from '../common/redis-connection.ts';
import type pg from 'pg';
import { AppError } from '../errors.ts';
import type { ErrorCode } from '../errors.ts';
import type { CallbackQueue } from './callback-queue.ts';

/**
 * Callback requests: the platform calls the customer (`callMe`, leg A) and, once answered,
 * connects them to `connectTo` (leg B). Both numbers are read with the account's dialling plan and
 * screened like a device's call (emergency and short codes refused, the destination blocklist);
 * the reading and the blocklist belong to the SIP app and are handed in by the composition roots.
 *
 * Toll-fraud and harassment limits, in Redis (shared by every API process), one hour windows:
 *
 *   <ns>:{callback}:acct:<account> requests by the account      (maxPerHour)
 *   <ns>:{callback}:num:<hmac>     requests ringing or connecting the number, whatever the account
 *                                  (maxPerNumberPerHour); the key names a keyed hash of the number,
 *                                  not the number (no phone number in Redis key names)
 *
 * All counters are checked and counted in one script, so concurrent requests cannot overshoot (one
 * hash tag, so on a Redis Cluster they are one slot and one script may touch them all); a
 * refused request counts nothing. A request is stored ('queued') and then queued on the stream for
 * one SIP app process (callback-queue.ts); if the stream cannot take it the row is marked failed
 * and the caller gets 503, so no request is left waiting that nobody will place.
 */
export type CallbackStatus = 'queued' | 'placing' | 'calling-a' | 'calling-b' | 'connected' | 'completed' | 'failed';
export type CallbackOrigin = 'self-care' | 'operator' | 'caller-id';

export interface CallbackRequest {
  id: string;
  accountId: number;
  /** E.164 digits without '+'. */
  callMe: string;
  /** Null: a menu request (the customer is put in the access-number menu, logged in as the account, and dials from there). */
  connectTo: string | null;
  origin: CallbackOrigin;
  status: CallbackStatus;
  reason: string | null;
  legACallId: string | null;
  legBCallId: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** A dialled string read with the account's country (src/sip/call/dialled-number.ts `readDialled`). */
export type DialledReader = (dialled: string, country: string) => { ok: true; destination: string } | { ok: false; code: ErrorCode; detail: string };

export interface CallbackLimits {
  /** Requests are accepted at all (CALLBACK_ENABLED); when not, CALLBACK_UNAVAILABLE and nothing is stored. */
  enabled: boolean;
  namespace: string;
  /** Keys the hash of a number in its counter's name. */
  key: string;
  maxPerHour: number;
  maxPerNumberPerHour: number;
}

const WINDOW_SECONDS = 3600;

/** The key of the number counters' hashes, the same in every process (API and SIP app): derived from the voucher key. */
export const callbackKeyOf = (voucherKey: string): string => createHmac('sha256', voucherKey).update('callback numbers').digest('hex');

const ROW = `id, account_id::int as "accountId", call_me as "callMe", connect_to as "connectTo", origin, status, reason,
  leg_a_call_id as "legACallId", leg_b_call_id as "legBCallId", created_at as "createdAt", updated_at as "updatedAt"`;

/** KEYS[1]: the account's counter, KEYS[2..]: the numbers'; ARGV: account max, number max, window. 0: counted; 1: account; 2: number. */
const COUNT = `if tonumber(redis.call('get', KEYS[1]) or '0') >= tonumber(ARGV[1]) then return 1 end
for i = 2, #KEYS do if tonumber(redis.call('get', KEYS[i]) or '0') >= tonumber(ARGV[2]) then return 2 end end
for i = 1, #KEYS do
  if redis.call('incr', KEYS[i]) == 1 then redis.call('expire', KEYS[i], ARGV[3]) end
end
return 0`;

/** The callback counters (see above): one hash tag, one cluster slot. */
export const callbackAccountCounterKey = (ns: string, accountId: number): string => `${ns}:{callback}:acct:${accountId}`;
export const callbackNumberCounterKey = (ns: string, numberHash: string): string => `${ns}:{callback}:num:${numberHash}`;

export class CallbackRequests {
  constructor(
    private readonly pool: pg.Pool,
    private readonly redis: RedisClient,
    private readonly queue: CallbackQueue,
    private readonly ports: { read: DialledReader; isBlocked(destination: string): Promise<boolean> },
    private readonly limits: CallbackLimits,
  ) {}

  private async screen(dialled: string, country: string, which: string): Promise<string> {
    const r = this.ports.read(dialled, country);
    if (!r.ok) throw new AppError(r.code, `${which}: ${r.detail}`);
    if (await this.ports.isBlocked(r.destination)) throw new AppError('DESTINATION_BLOCKED', `${which}: calls to that number are not allowed`);
    return r.destination;
  }

  /**
   * Validates, counts against the limits, stores and queues a request. `connectTo` null: a menu
   * request (leg A answered into the access-number menu, logged in as the account); only callMe
   * is screened and counted then.
   */
  async request(
    account: { id: number; country: string; status: string },
    callMe: string,
    connectTo: string | null,
    origin: CallbackOrigin,
  ): Promise<CallbackRequest> {
    if (!this.limits.enabled) throw new AppError('CALLBACK_UNAVAILABLE');
    if (account.status === 'closed') throw new AppError('ACCOUNT_CLOSED');
    if (account.status === 'suspended') throw new AppError('ACCOUNT_SUSPENDED');
    const a = await this.screen(callMe, account.country, 'callMe');
    const b = connectTo === null ? null : await this.screen(connectTo, account.country, 'connectTo');
    if (a === b) throw new AppError('INVALID_CALLBACK', 'callMe and connectTo are the same number');
    const ns = this.limits.namespace;
    const numbers = [...new Set(b === null ? [a] : [a, b])].map((n) =>
      callbackNumberCounterKey(ns, createHmac('sha256', this.limits.key).update(n).digest('hex').slice(0, 32)),
    );
    const counted = Number(
      await this.redis.eval(
        COUNT,
        1 + numbers.length,
        callbackAccountCounterKey(ns, account.id),
        ...numbers,
        this.limits.maxPerHour,
        this.limits.maxPerNumberPerHour,
        WINDOW_SECONDS,
      ),
    );
    if (counted === 1) throw new AppError('CALLBACK_LIMIT', `at most ${this.limits.maxPerHour} callbacks an hour per account`);
    if (counted === 2) throw new AppError('CALLBACK_LIMIT', `at most ${this.limits.maxPerNumberPerHour} callbacks an hour to the same number`);
    const { rows } = await this.pool.query<CallbackRequest>(
      `insert into callback_requests (account_id, call_me, connect_to, origin) values ($1, $2, $3, $4) returning ${ROW}`,
      [account.id, a, b, origin],
    );
    const r = rows[0]!;
    try {
      await this.queue.add(r.id);
    } catch {
      await this.finish(r.id, 'failed', 'the request could not be handed to the call servers');
      throw new AppError('SERVICE_UNAVAILABLE', 'the callback could not be queued; retry later');
    }
    return r;
  }

  async get(id: string): Promise<CallbackRequest | undefined> {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id)) return undefined;
    const { rows } = await this.pool.query<CallbackRequest>(`select ${ROW} from callback_requests where id = $1`, [id]);
    return rows[0];
  }

  /** The number a call to a callback access number connects the account's caller to (E.164 digits), or null. */
  async destination(accountId: number): Promise<string | null> {
    const { rows } = await this.pool.query<{ d: string | null }>('select callback_destination as d from accounts where id = $1', [accountId]);
    if (rows.length === 0) throw new AppError('UNKNOWN_ACCOUNT');
    return rows[0]!.d;
  }

  /** Sets (screened like a request's `connectTo`) or clears the account's callback destination. */
  async setDestination(account: { id: number; country: string }, dialled: string | null): Promise<string | null> {
    const d = dialled === null ? null : await this.screen(dialled, account.country, 'number');
    await this.pool.query('update accounts set callback_destination = $2 where id = $1', [account.id, d]);
    return d;
  }

  /** The account's most recent requests, newest first. */
  async recent(accountId: number, limit: number): Promise<CallbackRequest[]> {
    const { rows } = await this.pool.query<CallbackRequest>(
      `select ${ROW} from callback_requests where account_id = $1 order by created_at desc, id desc limit $2`,
      [accountId, Math.max(1, Math.min(100, Math.trunc(limit)))],
    );
    return rows;
  }

  /**
   * Takes a queued request for placing: 'queued' → 'placing', once. Undefined when it was already
   * taken (delivered twice, or by another process) or is unknown: the caller acknowledges and skips.
   */
  async take(id: string, placedBy: string): Promise<CallbackRequest | undefined> {
    if (!/^[0-9a-f-]{36}$/.test(id)) return undefined;
    const { rows } = await this.pool.query<CallbackRequest>(
      `update callback_requests set status = 'placing', placed_by = $2, updated_at = now() where id = $1 and status = 'queued' returning ${ROW}`,
      [id, placedBy],
    );
    return rows[0];
  }

  /** Records a leg's call id (the CDR's) and the state the request is in. */
  async progress(id: string, status: 'calling-a' | 'calling-b' | 'connected', leg?: { a?: string; b?: string }): Promise<void> {
    await this.pool.query(
      `update callback_requests set status = $2, leg_a_call_id = coalesce($3, leg_a_call_id), leg_b_call_id = coalesce($4, leg_b_call_id), updated_at = now()
        where id = $1 and status not in ('completed', 'failed')`,
      [id, status, leg?.a ?? null, leg?.b ?? null],
    );
  }

  /** The request's end; a request that has ended keeps its first end. */
  async finish(id: string, status: 'completed' | 'failed', reason?: string): Promise<void> {
    await this.pool.query(`update callback_requests set status = $2, reason = $3, updated_at = now() where id = $1 and status not in ('completed', 'failed')`, [
      id,
      status,
      reason ?? null,
    ]);
  }
}
