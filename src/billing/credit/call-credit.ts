import type { BalanceStore, CdrRecord, RefusalReason } from '../balance/balance-store.ts';
import { billableSecondsFromMs, billedSeconds, callCost } from '../rating/index.ts';
import type { Rate } from '../rating/index.ts';
import { answeredDeadline, coverAfterExtensionAtMost, secondsCovered, sliceCost } from './credit-plan.ts';
import { realClock } from '../../common/clock.ts';
import type { Clock } from '../../common/clock.ts';

/** Default slack on every reservation deadline (clock differences, a slow extension): RESERVATION_GRACE_SECONDS. */
const DEFAULT_GRACE_SECONDS = 15;

export type Authorisation = { ok: true; maxSeconds: number; coveredSeconds: number; reserved: number } | { ok: false; reason: RefusalReason; maxSeconds: 0 };

/**
 * Per-call credit control over the balance store:
 *   authorise+reserve → extend (each slice, before the last one runs out) → settle (exactly once).
 * Timers belong to the caller (the SIP call); this class only does the money.
 */
export class CallCredit {
  private readonly now: () => number;
  private readonly graceSeconds: number;

  /**
   * `clock` is the time source of the reservation deadlines (default: the process clock); `now`,
   * a bare time function, is the older form of the same and wins when both are given.
   */
  constructor(
    private readonly store: BalanceStore,
    private readonly opts: { sliceSeconds: number; maxCallSeconds: number; graceSeconds?: number; now?: () => number; clock?: Pick<Clock, 'now'> },
  ) {
    const clock = opts.clock ?? realClock;
    this.now = opts.now ?? (() => clock.now());
    this.graceSeconds = opts.graceSeconds ?? DEFAULT_GRACE_SECONDS;
  }

  /**
   * When an open reservation that is not answered yet counts as abandoned if nobody touches it.
   * A call ringing, or whose caller is still in the IVR, is kept alive by its process every
   * `keepAliveEveryMs` (at most a third of a slice), so one slice plus the grace ahead is always
   * beyond the next sign of life, and a call whose process died is settled by a sweeper about one
   * slice after its last one. An answered call's deadline follows its cover instead
   * (answeredDeadline): its process touches it next at the extension, which can be much more
   * than a slice away when the rate's increments round the covered time up.
   */
  private deadline(): number {
    return this.now() + (this.opts.sliceSeconds + this.graceSeconds) * 1000;
  }

  /** How often a process signals that its unanswered calls are alive (a third of the slice, at most 20 s). */
  get keepAliveEveryMs(): number {
    return Math.min(20_000, Math.max(1_000, Math.floor((this.opts.sliceSeconds * 1000) / 3)));
  }

  /** A sign of life for an authorised call that is not answered yet; false once it is settled. */
  keepAlive(accountId: number, callId: string): Promise<boolean> {
    return this.store.keepAlive(accountId, callId, this.deadline());
  }

  /** How long could this account talk at this rate right now (no reservation made). */
  async simulate(accountId: number, rate: Rate): Promise<number> {
    const live = await this.store.get(accountId);
    if (!live || live.status !== 'active') return 0;
    return secondsCovered(rate, live.available, this.opts.maxCallSeconds);
  }

  /** Authorise the call and reserve its first slice. maxSeconds is what the whole available credit would buy. */
  async authorise(accountId: number, callId: string, rate: Rate): Promise<Authorisation> {
    const { min, want } = sliceCost(rate, 0, this.opts.sliceSeconds);
    const r = await this.store.reserve(accountId, callId, min, want, this.deadline());
    if (!r.ok) return { ok: false, reason: r.reason, maxSeconds: 0 };
    return {
      ok: true,
      reserved: r.amount,
      coveredSeconds: secondsCovered(rate, r.amount, this.opts.maxCallSeconds),
      maxSeconds: secondsCovered(rate, r.available, this.opts.maxCallSeconds),
    };
  }

  /**
   * Reserve the next slice of a call answered at `answeredAt`; returns the seconds the call is now
   * covered for (unchanged if refused). The new deadline lies beyond the cover the slice can buy.
   */
  async extend(
    accountId: number,
    callId: string,
    rate: Rate,
    answeredAt: number,
    coveredSeconds: number,
  ): Promise<{ ok: boolean; coveredSeconds: number; reason?: RefusalReason }> {
    const { min, want } = sliceCost(rate, coveredSeconds, this.opts.sliceSeconds);
    const amount = Math.max(want, 1);
    const coverAtMost = coverAfterExtensionAtMost(rate, coveredSeconds, amount, this.opts.maxCallSeconds);
    const r = await this.store.extend(accountId, callId, Math.max(min, 1), amount, answeredDeadline(answeredAt, coverAtMost, this.graceSeconds));
    if (!r.ok) return { ok: false, coveredSeconds, reason: r.reason };
    return { ok: true, coveredSeconds: secondsCovered(rate, r.totalReserved, this.opts.maxCallSeconds) };
  }

  /**
   * The call was answered: record when, at which rate, and its CDR facts beside the reservation,
   * so that if this process dies the sweeper (in any instance) can settle it; its deadline now
   * follows the cover (`coveredSeconds` from the answer).
   */
  async answered(
    accountId: number,
    callId: string,
    rate: Rate,
    answeredAt: number,
    coveredSeconds: number,
    facts: Omit<CdrRecord, 'billedSeconds' | 'cost' | 'ratePrefix' | 'pricePerMinute'>,
  ): Promise<void> {
    const deadline = answeredDeadline(answeredAt, Math.min(coveredSeconds, this.opts.maxCallSeconds), this.graceSeconds);
    await this.store.markAnswered(accountId, callId, answeredAt, JSON.stringify(rate), JSON.stringify(facts), deadline);
  }

  /** Rate the finished call and settle it (idempotent on the call id). */
  async settle(accountId: number, rate: Rate | null, cdr: Omit<CdrRecord, 'billedSeconds' | 'cost' | 'ratePrefix' | 'pricePerMinute'>) {
    const answeredMs = cdr.answerTime === null ? 0 : Math.max(0, cdr.endTime - cdr.answerTime);
    const d = billableSecondsFromMs(answeredMs);
    const answered = cdr.answerTime !== null;
    const cost = rate && answered ? callCost(rate, d, answered) : 0;
    return this.store.settle(accountId, {
      ...cdr,
      billedSeconds: rate && answered ? billedSeconds(rate, d) : 0,
      cost,
      ratePrefix: rate?.prefix ?? null,
      pricePerMinute: rate?.pricePerMinute ?? null,
    });
  }
}
