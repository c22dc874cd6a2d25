import type { BalanceStore, CdrRecord, SettleResult } from '../balance/balance-store.ts';
import { openCallMember } from '../balance/keys.ts';
import { billableSecondsFromMs, billedSeconds, callCost } from '../rating/index.ts';
import type { Rate } from '../rating/index.ts';

/** What Redis holds beside an open reservation (CallCredit.answered, keep-alives), as BalanceStore.openCall reads it. */
export type OpenCallRecord = NonNullable<Awaited<ReturnType<BalanceStore['openCall']>>>;

/** How a call settled by another process than its owner ends. */
export interface OpenCallOutcome {
  disposition: string;
  sipReason: string;
}

/**
 * The CDR of an open call settled by a process that is not its owner (the owner is presumed dead):
 * an answered call is charged from its answer to `endAt`, the last moment it was known alive (never
 * before the answer); a call never answered costs nothing. One rule for the stale-call sweeper and
 * the orphan reaper.
 */
export function cdrOfOpenCall(call: OpenCallRecord, endAt: number, outcome: OpenCallOutcome): CdrRecord {
  const rate = call.rateJson ? reviveRate(call.rateJson) : null;
  const facts = call.factsJson ? (JSON.parse(call.factsJson) as Partial<CdrRecord>) : {};
  const answeredAt = call.answeredAt;
  const end = answeredAt === null ? call.created : Math.max(endAt, answeredAt);
  const d = answeredAt === null ? 0 : billableSecondsFromMs(end - answeredAt);
  const charged = rate !== null && answeredAt !== null;
  return {
    kind: 'other',
    cli: null,
    sourceIp: null,
    accessNumber: null,
    device: null,
    dialledNumber: null,
    destination: null,
    currency: null,
    carrier: null,
    ...facts,
    callId: call.callId,
    accountId: call.accountId,
    startTime: facts.startTime ?? call.created,
    answerTime: answeredAt,
    endTime: end,
    durationMs: answeredAt === null ? 0 : end - answeredAt,
    billedSeconds: charged ? billedSeconds(rate, d) : 0,
    cost: charged ? callCost(rate, d, true) : 0,
    ratePrefix: rate?.prefix ?? null,
    pricePerMinute: rate?.pricePerMinute ?? null,
    disposition: outcome.disposition,
    sipCode: null,
    sipReason: outcome.sipReason,
  };
}

/**
 * Settles an open call from what Redis holds beside its reservation, charging from the answer to
 * `endAt`. For a call whose owning process died and that another process ended (OrphanReaper).
 * Settled as `sweeper`: provisional, so an owner that turns out to be alive still replaces it once
 * with its own facts (settle.lua). Idempotent like every settle. `{ ok: false }` only for an
 * unknown account; `undefined` when the call is no longer open (settled already).
 */
export async function settleOpenCallAt(
  store: BalanceStore,
  accountId: number,
  callId: string,
  endAt: number,
  outcome: OpenCallOutcome,
): Promise<SettleResult | undefined> {
  const call = await store.openCall(store.keys.shardOf(accountId), openCallMember(accountId, callId));
  if (!call) return undefined;
  return store.settle(accountId, cdrOfOpenCall(call, endAt, outcome), 'sweeper');
}

/**
 * Settles an answered call that holds no reservation (a call to a personal number, cost 0) from its
 * CDR facts as at the answer (`factsJson`), ending at `endAt` (never before the answer): for such a
 * call whose owning process died (OrphanReaper). Settled as `sweeper`, like settleOpenCallAt; a
 * second settle is a duplicate. `undefined` when the facts are unreadable or name another call.
 */
export async function settleUnreservedCallAt(
  store: BalanceStore,
  accountId: number,
  callId: string,
  factsJson: string,
  endAt: number,
  outcome: OpenCallOutcome,
): Promise<SettleResult | undefined> {
  let facts: Omit<CdrRecord, 'billedSeconds' | 'cost' | 'ratePrefix' | 'pricePerMinute'>;
  try {
    facts = JSON.parse(factsJson) as typeof facts;
  } catch {
    return undefined;
  }
  if (facts.callId !== callId || facts.accountId !== accountId || typeof facts.answerTime !== 'number') return undefined;
  const end = Math.max(endAt, facts.answerTime);
  return store.settle(
    accountId,
    {
      ...facts,
      endTime: end,
      durationMs: end - facts.answerTime,
      billedSeconds: 0,
      cost: 0,
      ratePrefix: null,
      pricePerMinute: null,
      disposition: outcome.disposition,
      sipReason: outcome.sipReason,
    },
    'sweeper',
  );
}

function reviveRate(json: string): Rate {
  const r = JSON.parse(json) as Rate & { effectiveFrom: string; effectiveUntil: string | null };
  return { ...r, effectiveFrom: new Date(r.effectiveFrom), effectiveUntil: r.effectiveUntil === null ? null : new Date(r.effectiveUntil) };
}
