import type { BalanceStore, CdrRecord, SettleResult } from '../balance/balance-store.ts';
import { openCallMember } from '../balance/keys.ts';
import { billableSecondsFromMs, billedSeconds, callCost } from '../rating/index.ts';
import type { Rate } from '../rating/index.ts';

/**
 * Settles an open call from what Redis holds beside its reservation (answer time, rate, CDR facts:
 * CallCredit.answered), charging from the answer to `endAt`, the last moment the call was known to
 * be alive. For a call whose owning process died and that another process ended (OrphanReaper);
 * idempotent like every settle. `{ ok: false }` only for an unknown account; `undefined` when the
 * call is no longer open (settled already).
 */
export async function settleOpenCallAt(store: BalanceStore, accountId: number, callId: string, endAt: number,
  outcome: { disposition: string; sipReason: string }): Promise<SettleResult | undefined> {
  const call = await store.openCall(store.keys.shardOf(accountId), openCallMember(accountId, callId));
  if (!call) return undefined;
  const rate = call.rateJson ? reviveRate(call.rateJson) : null;
  const facts = call.factsJson ? (JSON.parse(call.factsJson) as Partial<CdrRecord>) : {};
  const answeredAt = call.answeredAt;
  const end = answeredAt === null ? call.created : Math.max(endAt, answeredAt);
  const d = answeredAt === null ? 0 : billableSecondsFromMs(end - answeredAt);
  const charged = rate !== null && answeredAt !== null;
  return store.settle(accountId, {
    kind: 'other', cli: null, sourceIp: null, accessNumber: null, device: null, dialledNumber: null, destination: null, currency: null,
    carrier: null, ...facts,
    callId, accountId, startTime: facts.startTime ?? call.created, answerTime: answeredAt, endTime: end,
    durationMs: answeredAt === null ? 0 : end - answeredAt,
    billedSeconds: charged ? billedSeconds(rate, d) : 0,
    cost: charged ? callCost(rate, d, true) : 0,
    ratePrefix: rate?.prefix ?? null, pricePerMinute: rate?.pricePerMinute ?? null,
    disposition: outcome.disposition, sipCode: null, sipReason: outcome.sipReason,
  });
}

function reviveRate(json: string): Rate {
  const r = JSON.parse(json) as Rate & { effectiveFrom: string; effectiveUntil: string | null };
  return { ...r, effectiveFrom: new Date(r.effectiveFrom), effectiveUntil: r.effectiveUntil === null ? null : new Date(r.effectiveUntil) };
}
