import { readFileSync } from 'node:fs';
import { scanKeys } from '../../common/redis-connection.ts';
import type { RedisClient } from '../../common/redis-connection.ts';
import { assertMicros } from '../money.ts';
import { BalanceKeys, openCallMember, parseOpenCallMember } from './keys.ts';
import { cardNumberRefusal, containsCardNumber } from '../../common/card-number.ts';
import { dayAtOffset, dayIn, zoneOffset } from './account-day.ts';

/**
 * The live balance store: every operation is one Lua script, atomic and idempotent, and every
 * balance change appends its ledger event (and CDR) to the account's shard stream in the same
 * script. Expected outcomes (no credit, limit reached, duplicate) are returned as values.
 */

const LUA_DIR = new URL('./lua/', import.meta.url);
const COMMON = readFileSync(new URL('common.lua', LUA_DIR), 'utf8');
const SCRIPTS = {
  ssReserve: { file: 'reserve.lua', keys: 3 },
  ssExtend: { file: 'extend.lua', keys: 3 },
  ssSettle: { file: 'settle.lua', keys: 4 },
  ssRelease: { file: 'release.lua', keys: 3 },
  ssCredit: { file: 'credit.lua', keys: 3 },
  ssCdrOnly: { file: 'cdr-only.lua', keys: 2 },
  ssSyncAccount: { file: 'sync-account.lua', keys: 1 },
  ssAnswered: { file: 'answered.lua', keys: 2 },
  ssKeepAlive: { file: 'keep-alive.lua', keys: 2 },
  ssIvrSession: { file: 'ivr-session.lua', keys: 2 },
  ssZone: { file: 'zone.lua', keys: 1 },
} as const;
type ScriptName = keyof typeof SCRIPTS;

/**
 * The call-path operations that auto-batch: calls issued in the same event-loop tick for one
 * shard go to Redis as one `ssBatch` script call (batch.lua runs each in turn, each under pcall,
 * and returns one result per operation). The op code is the first field of an operation in the
 * batch's ARGV; see batch.lua for the layout.
 */
const BATCHED = { r: 'ssReserve', e: 'ssExtend', s: 'ssSettle', l: 'ssRelease' } as const satisfies Record<string, ScriptName>;
type OpCode = keyof typeof BATCHED;
/** Operations per batch script call at most: bounds how long one script holds Redis (~50 µs each here, so a few ms). */
export const MAX_BATCH_OPS = 64;

/** batch.lua with each batched script's body as a function of its own KEYS and ARGV. */
function batchScript(): string {
  const ops = Object.entries(BATCHED).map(
    ([code, name]) => `local function op_${code}(KEYS, ARGV)\n${readFileSync(new URL(SCRIPTS[name].file, LUA_DIR), 'utf8')}\nend`,
  );
  const table = `local OPS = { ${Object.keys(BATCHED)
    .map((c) => `${c} = op_${c}`)
    .join(', ')} }`;
  return `${COMMON}\n${ops.join('\n')}\n${table}\n${readFileSync(new URL('batch.lua', LUA_DIR), 'utf8')}`;
}

interface QueuedOp {
  code: OpCode;
  keys: string[];
  args: (string | number)[];
  resolve(r: (string | number)[]): void;
  reject(err: Error): void;
}

/** A batched operation whose script raised an error; its neighbours in the batch are unaffected. */
export class BalanceScriptError extends Error {}

export type RefusalReason =
  'insufficient_credit' | 'daily_cap' | 'too_many_calls' | 'unknown_account' | 'account_suspended' | 'account_closed' | 'call_ended' | 'unknown_call';

export type ReserveResult = { ok: true; amount: number; available: number; duplicate: boolean } | { ok: false; reason: RefusalReason; available?: number };

export type ExtendResult =
  { ok: true; amount: number; totalReserved: number } | { ok: false; reason: RefusalReason; totalReserved?: number; available?: number };

/** A call holding a reservation, as listOpenCalls reads it (times in epoch ms). */
export interface OpenCallView {
  callId: string;
  accountId: number | null;
  state: string;
  reserved: number;
  createdAt: number | null;
  deadline: number | null;
  answeredAt: number | null;
  dialledNumber: string | null;
}

function dialledNumberOf(factsJson: string | null): string | null {
  if (factsJson === null) return null;
  try {
    const f = JSON.parse(factsJson) as { dialledNumber?: unknown };
    return typeof f.dialledNumber === 'string' ? f.dialledNumber : null;
  } catch {
    return null;
  }
}

/**
 * Who settles a call: its owner (the process that ran it, with the call's real facts) or a
 * stale-call sweeper (which presumes the owner dead and settles from what Redis holds).
 */
export type SettledBy = 'owner' | 'sweeper';

/**
 * `correctedSweep`: a sweeper had settled this call while its owner was still running it; the
 * owner's settle replaced that settlement (its cost, its CDR), and `debited` is the call's total.
 */
export type SettleResult =
  | { ok: true; debited: number; unrecovered: number; balanceAfter: number; duplicate: boolean; correctedSweep?: true }
  | { ok: false; reason: 'unknown_account' };

export type CreditResult =
  { ok: true; balanceAfter: number; duplicate: boolean } | { ok: false; reason: 'unknown_account' | 'account_closed' | 'idempotency_conflict' };

export interface AccountLimits {
  accountId: number;
  creditFloor: number;
  maxConcurrentCalls: number;
  dailySpendCap: number | null;
  status: 'active' | 'suspended' | 'closed';
  /** IANA zone whose midnight resets the daily spend (default UTC); see account-day.ts. */
  timeZone?: string;
  /** Record this account's calls (the holder's consent); the SIP app reads it at answer time. Left as it is when not given. */
  recording?: boolean;
}

export interface RebuildState {
  balance: number;
  reserved: number;
  openCalls: number;
  spentToday: number;
}

export interface LiveBalance {
  accountId: number;
  balance: number;
  reserved: number;
  available: number;
  callsInProgress: number;
  spentToday: number;
  creditFloor: number;
  status: string;
}

/** The CDR as it travels in the stream (JSON); times are epoch milliseconds. */
export interface CdrRecord {
  callId: string;
  accountId: number | null;
  kind: 'device' | 'access_number' | 'did' | 'other' | 'callback';
  cli: string | null;
  sourceIp: string | null;
  accessNumber: string | null;
  device: string | null;
  dialledNumber: string | null;
  destination: string | null;
  startTime: number;
  answerTime: number | null;
  endTime: number;
  durationMs: number;
  billedSeconds: number;
  ratePrefix: string | null;
  pricePerMinute: number | null;
  cost: number;
  currency: string | null;
  disposition: string;
  sipCode: number | null;
  sipReason: string | null;
  carrier: string | null;
}

/** One access-number session as it travels in the stream (JSON); times are epoch milliseconds. No money. */
export interface IvrSessionRecord {
  callId: string;
  accountId: number | null;
  accessNumber: string;
  cli: string | null;
  sourceIp: string | null;
  carrier: string | null;
  startTime: number;
  endTime: number;
  durationMs: number;
  outcome: 'calls_placed' | 'pin_refused' | 'locked' | 'caller_hung_up' | 'no_destination' | 'refused' | 'ended';
  pinAttempts: number;
  calls: number;
}

export interface BalanceStoreOptions {
  namespace: string;
  shards: number;
  now?: () => number;
  /** How long settled-call and top-up markers are kept for idempotency. */
  settledTtlSeconds?: number;
  creditMarkerTtlSeconds?: number;
  /**
   * Auto-batching (default on): reserve, extend, settle and release calls issued in the same
   * event-loop tick for one shard go as one script call (at most MAX_BATCH_OPS operations).
   */
  batching?: boolean;
}

type ScriptFn = (...args: (string | number)[]) => Promise<(string | number)[]>;

const num = (v: string | number | undefined): number => Number(v ?? 0);
const CALL_ID = /^[\x21-\x7e]{1,256}$/;
const IDEM_KEY = /^[\x21-\x7e]{1,128}$/;

export class BalanceStore {
  readonly keys: BalanceKeys;
  private readonly now: () => number;
  private readonly settledTtl: number;
  private readonly creditTtl: number;
  private readonly batching: boolean;
  private readonly queues = new Map<number, QueuedOp[]>();
  private flushScheduled = false;
  /** Script calls sent and operations they carried (for benchmarks and tests). */
  readonly batchStats = { scriptCalls: 0, operations: 0 };

  constructor(
    private readonly redis: RedisClient,
    opts: BalanceStoreOptions,
  ) {
    this.keys = new BalanceKeys(opts.namespace, opts.shards);
    this.now = opts.now ?? Date.now;
    this.settledTtl = opts.settledTtlSeconds ?? 7 * 86400;
    this.creditTtl = opts.creditMarkerTtlSeconds ?? 400 * 86400;
    this.batching = opts.batching ?? true;
    if (!('ssBatch' in redis)) redis.defineCommand('ssBatch', { lua: batchScript() });
    for (const [name, s] of Object.entries(SCRIPTS)) {
      if (!(name in redis)) {
        redis.defineCommand(name, { numberOfKeys: s.keys, lua: `${COMMON}\n${readFileSync(new URL(s.file, LUA_DIR), 'utf8')}` });
      }
    }
  }

  private run(name: ScriptName, ...args: (string | number)[]): Promise<(string | number)[]> {
    return (this.redis as unknown as Record<ScriptName, ScriptFn>)[name](...args);
  }

  /** A call-path operation: queued for this tick's batch of its shard, or run on its own. */
  private op(code: OpCode, shard: number, keys: string[], args: (string | number)[]): Promise<(string | number)[]> {
    if (!this.batching) {
      this.batchStats.scriptCalls++;
      this.batchStats.operations++;
      return this.run(BATCHED[code], ...keys, ...args);
    }
    return new Promise((resolve, reject) => {
      let q = this.queues.get(shard);
      if (!q) {
        q = [];
        this.queues.set(shard, q);
      }
      q.push({ code, keys, args, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        process.nextTick(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    const queues = [...this.queues];
    this.queues.clear();
    for (const [shard, q] of queues) {
      for (let i = 0; i < q.length; i += MAX_BATCH_OPS) this.send(q.slice(i, i + MAX_BATCH_OPS), shard);
    }
  }

  /** One batch of one shard: its open-call index and stream once, then each op's account and call keys. */
  private send(ops: QueuedOp[], shard: number): void {
    this.batchStats.scriptCalls++;
    this.batchStats.operations += ops.length;
    if (ops.length === 1) {
      const o = ops[0]!;
      this.run(BATCHED[o.code], ...o.keys, ...o.args).then(o.resolve, o.reject);
      return;
    }
    const keys: string[] = [this.keys.openCalls(shard), this.keys.stream(shard)];
    const argv: (string | number)[] = [];
    for (const o of ops) {
      keys.push(o.keys[0]!, o.keys[1]!);
      argv.push(o.code, o.args.length, ...o.args);
    }
    const call = (this.redis as unknown as { ssBatch(...a: (string | number)[]): Promise<(string | number)[][]> }).ssBatch(keys.length, ...keys, ...argv);
    call.then(
      (results) => {
        ops.forEach((o, i) => {
          const r = results[i];
          if (!Array.isArray(r)) o.reject(new BalanceScriptError(`balance batch returned no result for operation ${i}`));
          else if (r[0] === 'script_error') o.reject(new BalanceScriptError(`${BATCHED[o.code]}: ${String(r[1])}`));
          else o.resolve(r);
        });
      },
      (err: Error) => {
        for (const o of ops) o.reject(err);
      },
    );
  }

  /** Create or update the account's limits; its balance is set only when it is new, or when `rebuildBalance` is given. */
  async syncAccount(l: AccountLimits, opts: { openingBalance?: number; rebuild?: RebuildState } = {}): Promise<'created' | 'updated' | 'rebuilt'> {
    assertMicros(l.creditFloor, 'creditFloor');
    if (l.dailySpendCap !== null) assertMicros(l.dailySpendCap, 'dailySpendCap', { nonNegative: true });
    const rb = opts.rebuild;
    const bal = assertMicros(rb?.balance ?? opts.openingBalance ?? 0, 'balance');
    const zone = l.timeZone ?? 'UTC';
    const now = this.now();
    const z = zoneOffset(now, zone);
    const [r] = await this.run(
      'ssSyncAccount',
      this.keys.account(l.accountId),
      l.creditFloor,
      l.maxConcurrentCalls,
      l.dailySpendCap ?? -1,
      l.status,
      bal,
      rb ? '1' : '0',
      rb?.reserved ?? 0,
      rb?.openCalls ?? 0,
      dayIn(now, zone),
      rb?.spentToday ?? 0,
      zone,
      z.offsetMs,
      z.until,
      l.recording === undefined ? '' : l.recording ? '1' : '0',
    );
    return r as 'created' | 'updated' | 'rebuilt';
  }

  /** Open calls per account, from the call hashes (for a rebuild that must keep them). */
  async openReservations(): Promise<Map<number, { reserved: number; calls: number }>> {
    const out = new Map<number, { reserved: number; calls: number }>();
    for (let shard = 0; shard < this.keys.shards; shard++) {
      const ids = await this.redis.zrange(this.keys.openCalls(shard), '0', '-1');
      for (const member of ids) {
        const [acct, rsv, state] = await this.redis.hmget(this.keys.callInShard(shard, member), 'acct', 'rsv', 'state');
        if (state !== 'reserved' || acct === null) continue;
        const id = Number(acct);
        const cur = out.get(id) ?? { reserved: 0, calls: 0 };
        cur.reserved += Number(rsv ?? 0);
        cur.calls += 1;
        out.set(id, cur);
      }
    }
    return out;
  }

  /**
   * Authorise a call and reserve its first slice. Reserves `want` micro-units, or what is
   * available if that is less but at least `min` (the cost of the first billable unit).
   * `deadline` is when the slice runs out (epoch ms): the sweeper's cue for a lost call.
   */
  async reserve(accountId: number, callId: string, min: number, want: number, deadline: number): Promise<ReserveResult> {
    this.checkCall(callId);
    assertMicros(min, 'min', { nonNegative: true });
    assertMicros(want, 'want', { nonNegative: true });
    if (want < min) throw new RangeError('want must be >= min');
    const now = this.now();
    const shard = this.keys.shardOf(accountId);
    const r = await this.zonedOp(
      accountId,
      'r',
      shard,
      [this.keys.account(accountId), this.keys.call(accountId, callId), this.keys.openCalls(shard)],
      [openCallMember(accountId, callId), accountId, min, want, now, deadline],
    );
    if (r[0] === 'ok') return { ok: true, amount: num(r[1]), available: num(r[2]), duplicate: false };
    if (r[0] === 'duplicate') return { ok: true, amount: num(r[1]), available: num(r[1]), duplicate: true };
    return { ok: false, reason: r[0] as RefusalReason, ...(r[1] !== undefined && /^\d+$/.test(String(r[1])) ? { available: num(r[1]) } : {}) };
  }

  /** Add the next slice to an open call's reservation. */
  async extend(accountId: number, callId: string, min: number, want: number, deadline: number): Promise<ExtendResult> {
    this.checkCall(callId);
    assertMicros(min, 'min', { nonNegative: true });
    assertMicros(want, 'want', { nonNegative: true });
    const shard = this.keys.shardOf(accountId);
    const r = await this.zonedOp(
      accountId,
      'e',
      shard,
      [this.keys.account(accountId), this.keys.call(accountId, callId), this.keys.openCalls(shard)],
      [openCallMember(accountId, callId), min, want, deadline, this.now()],
    );
    if (r[0] === 'ok') return { ok: true, amount: num(r[1]), totalReserved: num(r[2]) };
    const out: ExtendResult = { ok: false, reason: r[0] as RefusalReason };
    if (r[1] !== undefined && /^\d+$/.test(String(r[1]))) out.totalReserved = num(r[1]);
    if (r[2] !== undefined) out.available = num(r[2]);
    return out;
  }

  /**
   * Settle a call exactly once with its final cost and CDR. A second settle of the same call id
   * changes nothing and returns the first result with duplicate = true, with one exception: the
   * owner's settle after a sweeper's replaces the sweeper's (once), see settle.lua.
   */
  async settle(accountId: number, cdr: CdrRecord, by: SettledBy = 'owner'): Promise<SettleResult> {
    this.checkCall(cdr.callId);
    assertMicros(cdr.cost, 'cost', { nonNegative: true });
    const now = this.now();
    const shard = this.keys.shardOf(accountId);
    const r = await this.zonedOp(
      accountId,
      's',
      shard,
      [this.keys.account(accountId), this.keys.call(accountId, cdr.callId), this.keys.openCalls(shard), this.keys.stream(shard)],
      [openCallMember(accountId, cdr.callId), accountId, cdr.cost, now, JSON.stringify({ ...cdr, accountId }), this.settledTtl, cdr.callId, by],
    );
    if (r[0] === 'ok' || r[0] === 'duplicate') {
      return { ok: true, debited: num(r[1]), unrecovered: num(r[2]), balanceAfter: num(r[3]), duplicate: r[0] === 'duplicate' };
    }
    if (r[0] === 'corrected') return { ok: true, debited: num(r[1]), unrecovered: num(r[2]), balanceAfter: num(r[3]), duplicate: false, correctedSweep: true };
    return { ok: false, reason: 'unknown_account' };
  }

  /** Records an open call's answer, rate and CDR facts, so a sweeper can settle it if its process dies. */
  async markAnswered(accountId: number, callId: string, answeredAt: number, rateJson: string, factsJson: string, deadline: number): Promise<boolean> {
    this.checkCall(callId);
    const r = await this.run(
      'ssAnswered',
      this.keys.call(accountId, callId),
      this.keys.openCalls(this.keys.shardOf(accountId)),
      answeredAt,
      rateJson,
      factsJson,
      openCallMember(accountId, callId),
      deadline,
    );
    return r[0] === 'ok';
  }

  /**
   * A sign of life for an open call that is not answered yet (ringing, or in the IVR): its
   * deadline moves forward to `deadline` (never back). False once the call is settled.
   */
  async keepAlive(accountId: number, callId: string, deadline: number): Promise<boolean> {
    this.checkCall(callId);
    const r = await this.run(
      'ssKeepAlive',
      this.keys.call(accountId, callId),
      this.keys.openCalls(this.keys.shardOf(accountId)),
      openCallMember(accountId, callId),
      deadline,
      this.now(),
    );
    return r[0] === 'ok';
  }

  /** The sweeper's view of an open call (undefined once settled or released). */
  async openCall(
    shard: number,
    member: string,
  ): Promise<
    | {
        accountId: number;
        callId: string;
        answeredAt: number | null;
        seenAt: number | null;
        created: number;
        rateJson: string | null;
        factsJson: string | null;
      }
    | undefined
  > {
    const id = parseOpenCallMember(member);
    if (!id) return undefined;
    const [state, acct, answered, seen, created, rate, facts] = await this.redis.hmget(
      this.keys.callInShard(shard, member),
      'state',
      'acct',
      'answered',
      'seen',
      'created',
      'rate',
      'facts',
    );
    if (state !== 'reserved' || acct === null) return undefined;
    return {
      accountId: id.accountId,
      callId: id.callId,
      answeredAt: answered === null ? null : Number(answered),
      seenAt: seen === null ? null : Number(seen),
      created: Number(created ?? 0),
      rateJson: rate ?? null,
      factsJson: facts ?? null,
    };
  }

  /**
   * Erasure: drops the settled-call hashes of the account (their keys name the call id, which often
   * ends in the caller's address) and the access-number session markers of `ivrCallIds`. Calls
   * still open keep their hash: the settle needs it, and blanks its facts. Returns the keys dropped.
   * A settle repeated for a dropped call would not be recognised as a repeat; erasure closes the
   * account first, and an owner repeats a settle only within seconds of the call.
   */
  async forgetCalls(accountId: number, ivrCallIds: string[] = []): Promise<number> {
    const shard = this.keys.shardOf(accountId);
    const open = new Set((await this.listOpenCalls(accountId)).map((c) => this.keys.call(accountId, c.callId)));
    const prefix = this.keys.callInShard(shard, `${accountId}:`);
    const pattern = `${prefix.replace(/[*?[\]\\]/g, (c) => `\\${c}`)}*`;
    const drop = new Set<string>();
    // every primary of a cluster is walked (a SCAN reaches one node); a key reported twice is dropped once
    await scanKeys(this.redis, pattern, (found) => {
      for (const k of found) if (k.startsWith(prefix) && !open.has(k)) drop.add(k);
    });
    for (const id of ivrCallIds) drop.add(this.keys.ivrSessionMarker(this.keys.shardOfCallId(id), id));
    let n = 0;
    for (const k of drop) n += await this.redis.del(k);
    return n;
  }

  /**
   * Calls holding a reservation (ringing or answered), from the open-call index of every shard,
   * or of the account's shard only; oldest first. The dialled number is known once answered.
   */
  async listOpenCalls(accountId?: number): Promise<OpenCallView[]> {
    const shards = accountId === undefined ? Array.from({ length: this.keys.shards }, (_, i) => i) : [this.keys.shardOf(accountId)];
    const out: OpenCallView[] = [];
    for (const shard of shards) {
      const members = await this.redis.zrange(this.keys.openCalls(shard), '0', '-1');
      if (members.length === 0) continue;
      const p = this.redis.pipeline();
      for (const member of members) p.hmget(this.keys.callInShard(shard, member), 'acct', 'rsv', 'state', 'created', 'deadline', 'answered', 'facts');
      const rows = (await p.exec()) ?? [];
      members.forEach((member, i) => {
        const v = rows[i]?.[1] as (string | null)[] | undefined;
        if (!v || v[2] === null) return;
        const acct = v[0] === null ? null : Number(v[0]);
        if (accountId !== undefined && acct !== accountId) return;
        out.push({
          callId: parseOpenCallMember(member)?.callId ?? member,
          accountId: acct,
          state: v[2] ?? 'unknown',
          reserved: Number(v[1] ?? 0),
          createdAt: v[3] ? Number(v[3]) : null,
          deadline: v[4] ? Number(v[4]) : null,
          answeredAt: v[5] ? Number(v[5]) : null,
          dialledNumber: dialledNumberOf(v[6] ?? null),
        });
      });
    }
    return out.sort((a, b) => (a.createdAt ?? 0) - (b.createdAt ?? 0));
  }

  /** Give back an open call's reservation with no charge and no CDR. */
  async release(accountId: number, callId: string): Promise<{ released: number; duplicate: boolean } | { released: 0; unknown: true }> {
    this.checkCall(callId);
    const shard = this.keys.shardOf(accountId);
    const r = await this.op(
      'l',
      shard,
      [this.keys.account(accountId), this.keys.call(accountId, callId), this.keys.openCalls(shard)],
      [openCallMember(accountId, callId), this.settledTtl],
    );
    if (r[0] === 'unknown_call') return { released: 0, unknown: true };
    return { released: r[0] === 'ok' ? num(r[1]) : 0, duplicate: r[0] === 'duplicate' };
  }

  /** A CDR for a call tied to no account, exactly once per call id. */
  async recordCdr(cdr: CdrRecord): Promise<{ duplicate: boolean }> {
    this.checkCall(cdr.callId);
    const shard = this.keys.shardOfCallId(cdr.callId);
    const r = await this.run(
      'ssCdrOnly',
      this.keys.cdrMarker(shard, cdr.callId),
      this.keys.stream(shard),
      cdr.callId,
      this.now(),
      JSON.stringify({ ...cdr, accountId: null, cost: 0 }),
      this.settledTtl,
    );
    return { duplicate: r[0] === 'duplicate' };
  }

  /** The record of an access-number session, exactly once per session (Call-ID); no balance changes. */
  async recordIvrSession(session: IvrSessionRecord): Promise<{ duplicate: boolean }> {
    this.checkCall(session.callId);
    const shard = this.keys.shardOfCallId(session.callId);
    const r = await this.run(
      'ssIvrSession',
      this.keys.ivrSessionMarker(shard, session.callId),
      this.keys.stream(shard),
      session.callId,
      this.now(),
      JSON.stringify(session),
      this.settledTtl,
    );
    return { duplicate: r[0] === 'duplicate' };
  }

  /** Credit a top-up exactly once per idempotency key. */
  async topUp(accountId: number, key: string, amount: number, provider: string, providerReference: string): Promise<CreditResult> {
    assertMicros(amount, 'amount', { positive: true });
    return this.credit('topup', accountId, key, amount, provider, providerReference, '');
  }

  /** Operator adjustment (signed, non-zero) with a reason, exactly once per adjustment id. */
  async adjust(accountId: number, adjustmentId: string, amount: number, reason: string): Promise<CreditResult> {
    assertMicros(amount, 'amount');
    if (amount === 0) throw new RangeError('amount must not be zero');
    if (reason.trim().length === 0 || reason.length > 500) throw new RangeError('reason must be 1-500 characters');
    return this.credit('adjust', accountId, adjustmentId, amount, '', '', reason);
  }

  private async credit(
    kind: 'topup' | 'adjust',
    accountId: number,
    key: string,
    amount: number,
    provider: string,
    ref: string,
    reason: string,
  ): Promise<CreditResult> {
    if (!IDEM_KEY.test(key)) throw new RangeError('idempotency key must be 1-128 printable characters without spaces');
    // the ledger keeps these for years: never a card number among them (the API and CLI say so first)
    for (const [field, text] of [
      ['idempotency key', key],
      ['provider', provider],
      ['provider reference', ref],
      ['reason', reason],
    ] as const) {
      if (containsCardNumber(text)) throw new RangeError(cardNumberRefusal(field));
    }
    const shard = this.keys.shardOf(accountId);
    const r = await this.run(
      'ssCredit',
      this.keys.account(accountId),
      this.keys.creditMarker(accountId, kind, key),
      this.keys.stream(shard),
      kind,
      key,
      accountId,
      amount,
      this.now(),
      this.creditTtl,
      provider,
      ref,
      reason,
    );
    if (r[0] === 'ok') return { ok: true, balanceAfter: num(r[1]), duplicate: false };
    if (r[0] === 'duplicate') return { ok: true, balanceAfter: num(r[1]), duplicate: true };
    return { ok: false, reason: r[0] as 'unknown_account' | 'account_closed' | 'idempotency_conflict' };
  }

  /**
   * A reserve, extend or settle, which derives the account's day from the UTC offset in its hash. When
   * the zone's next offset change has passed (or no offset was stored), the script changes nothing
   * and returns 'zone_stale' with the zone: the new offset is stored and the operation runs again.
   * (Twice a year per account in a zone with daylight saving, once a year or so otherwise.)
   */
  private async zonedOp(accountId: number, code: OpCode, shard: number, keys: string[], args: (string | number)[]): Promise<(string | number)[]> {
    let r = await this.op(code, shard, keys, args);
    for (let tries = 0; r[0] === 'zone_stale' && tries < 3; tries++) {
      const zone = String(r[1] ?? 'UTC');
      const z = zoneOffset(this.now(), zone);
      await this.run('ssZone', this.keys.account(accountId), zone, z.offsetMs, z.until);
      r = await this.op(code, shard, keys, args);
    }
    if (r[0] === 'zone_stale') throw new BalanceScriptError(`the UTC offset of account ${accountId}'s time zone could not be stored`);
    return r;
  }

  /** The account's day now, from the offset in its hash (as the scripts derive it), or from its zone once that has expired. */
  private dayFromHash(tz: string | null, off: string | null, until: string | null): string {
    const now = this.now();
    if (off !== null && until !== null && now < Number(until)) return dayAtOffset(now, Number(off));
    return dayIn(now, tz ?? 'UTC');
  }

  async get(accountId: number): Promise<LiveBalance | undefined> {
    const v = await this.redis.hmget(this.keys.account(accountId), 'bal', 'rsv', 'floor', 'calls', 'day', 'dayspent', 'status', 'tz', 'off', 'offuntil');
    if (v[0] === null) return undefined;
    const balance = num(v[0] ?? 0),
      reserved = num(v[1] ?? 0),
      floor = num(v[2] ?? 0);
    return {
      accountId,
      balance,
      reserved,
      creditFloor: floor,
      available: balance - reserved - floor,
      callsInProgress: num(v[3] ?? 0),
      spentToday: v[4] === this.dayFromHash(v[7] ?? null, v[8] ?? null, v[9] ?? null) ? num(v[5] ?? 0) : 0,
      status: v[6] ?? 'active',
    };
  }

  /** Whether the account holder has asked for their calls to be recorded (the `rec` field syncAccount keeps in step with Postgres). */
  async recordingConsent(accountId: number): Promise<boolean> {
    return (await this.redis.hget(this.keys.account(accountId), 'rec')) === '1';
  }

  /** Open calls whose reservation deadline has passed, per shard (for the stale-call sweeper). */
  async overdueCalls(before: number, limit = 100): Promise<{ shard: number; member: string; deadline: number }[]> {
    const out: { shard: number; member: string; deadline: number }[] = [];
    for (let shard = 0; shard < this.keys.shards && out.length < limit; shard++) {
      const r = await this.redis.zrangebyscore(this.keys.openCalls(shard), '-inf', before, 'WITHSCORES', 'LIMIT', 0, limit - out.length);
      for (let i = 0; i + 1 < r.length; i += 2) out.push({ shard, member: r[i]!, deadline: Number(r[i + 1]) });
    }
    return out;
  }

  private checkCall(callId: string): void {
    if (!CALL_ID.test(callId)) throw new RangeError('call id must be 1-256 printable characters without spaces');
  }
}
