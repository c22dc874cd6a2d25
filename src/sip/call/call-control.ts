import type { Logger } from 'pino';
import type { Account } from '../../accounts/account-service.ts';
import type { RefusalReason } from '../../billing/balance/balance-store.ts';
import type { CallCredit } from '../../billing/credit/call-credit.ts';
import { MAX_MICROS } from '../../billing/money.ts';
import { maxCallCostProblem } from '../../billing/rating/index.ts';
import type { Rate, Tariff } from '../../billing/rating/index.ts';
import { sipStatusOf } from '../../errors.ts';
import type { ErrorCode } from '../../errors.ts';
import { planRoutes } from '../routing/route-plan.ts';
import type { Carrier, RouteAttempt, RoutingMode } from '../routing/route-plan.ts';
import { CreditTimer } from './credit-timer.ts';
import { realClock } from '../../common/clock.ts';
import type { Clock, TimerHandle } from '../../common/clock.ts';
import { readDialled } from './dialled-number.ts';
import type { CallLegs } from './leg-state.ts';
import { LiveCallRegistry } from './live-call-registry.ts';
import { CallState } from './prepaid-call.ts';
import type { PrepaidCall } from './prepaid-call.ts';

/**
 * What every outbound prepaid call shares, whichever way the caller arrived (a device's INVITE,
 * or a caller in the access-number IVR):
 *
 *   authorise:  normalise → account status → blocklist → rate → reserve (CallCredit) → plan routes
 *   dial:       the routes in order, a no-answer deadline each, next route on 408/5xx
 *   supervise:  extend ahead of the cover, warn, cut at the covered second or the hard maximum
 *   settle:     exactly once, with the CDR, however the call ended
 *
 * How a leg is placed (a B2BUA for devices, a UAC leg bridged in the media server for the IVR) is
 * the caller's: dial() takes one attempt function per route.
 */
export interface CallControlDeps {
  credit: CallCredit;
  tariff(tariffId: string): Promise<Tariff>;
  carriers(): Promise<Carrier[]>;
  isBlocked(destination: string): Promise<boolean>;
  log: Logger;
  /** The time source of the no-answer timeout, keep-alives, credit timers and settling (default: the process clock). */
  clock?: Clock;
  settings: {
    routingMode: RoutingMode;
    noAnswerTimeoutMs: number;
    maxCallSeconds: number;
    extendLeadSeconds: number;
    warnSeconds: number;
    /** Calls the credit cannot carry this long are refused (402 Insufficient Credit) instead of connected (0: any). */
    minCallSeconds?: number;
  };
  /** Called when a call is answered (for metrics and tests). */
  onAnswered?: (call: PrepaidCall) => void;
  /** Called with every finished call (for metrics and tests). */
  onSettled?: (call: PrepaidCall, result: unknown) => void;
  /** Called after every gateway attempt, and with an answered call's seconds when it ends (per-gateway metrics). */
  onGatewayAttempt?: (e: GatewayAttempt) => void;
  onGatewayCallEnded?: (e: { gatewayId: number; carrierId: string; seconds: number }) => void;
  /**
   * Call-state durability: every answered call's legs are kept in this registry with a keep-alive
   * every `keepAliveMs`, so that another process can end the call if this one dies (OrphanReaper).
   */
  durable?: { registry: LiveCallRegistry; owner: string; keepAliveMs: number };
}

/** One try of one gateway: how it ended, its final status, and the post-dial delay (INVITE sent → 180/183 or answer). */
export interface GatewayAttempt {
  gatewayId: number;
  carrierId: string;
  result: 'answered' | 'failed' | 'no_answer' | 'cancelled';
  status: number;
  postDialDelayMs?: number;
}

export type Authorised = { ok: true; rate: Rate; maxSeconds: number; coveredSeconds: number; routes: RouteAttempt[] };
export type Refused = { ok: false; code: ErrorCode; detail?: string };

export type DialOutcome<T> =
  | { kind: 'answered'; value: T; route: RouteAttempt }
  | { kind: 'cancelled' }
  /** Every route failed: the status to give the caller (the callee's own for 4xx/6xx, 503 when all gateways failed). */
  | { kind: 'failed'; status: number; reason: string };

/**
 * One try on one route. Call `sent` with a way to cancel the request once it is on the wire (starts
 * the no-answer deadline), and `ringing` when the route reports the callee alerted (180/183).
 */
export type DialAttempt<T> = (route: RouteAttempt, sent: (cancel: () => void) => void, ringing: () => void) => Promise<T>;

/** How a supervised call's legs are hung up when the credit or the hard maximum runs out, and how the caller is warned. */
/**
 * `signalling_lost`: the SIP server no longer holds the call's dialogs (it restarted); `server_lost`:
 * the connection to the SIP server stayed lost (SIP_SERVER_LOST_SECONDS), so this process can
 * neither hear nor end the call and gives it up (CallControl.serverLost).
 */
export type CutReason = 'credit_exhausted' | 'max_duration' | 'hangup_requested' | 'signalling_lost' | 'server_lost';

export interface SupervisedLegs {
  /** `at`: the instant the call ends for billing when the switch cut it at a planned one (the paid second). */
  hangUp(reason: CutReason, at?: number): void;
  warn?(secondsLeft: number): void;
  /**
   * Whether the SIP server still holds the call's dialog (asked after a reconnect to it): false
   * when a restarted server no longer knows it, or the far end answers 481.
   */
  stillUp?(): Promise<boolean>;
  /** What it takes to end both legs without their Dialog objects (kept in the registry while the call is up). */
  state?: CallLegs;
}

/** How a supervised call is ended from outside, and asked whether its signalling survived. */
export interface LiveCall {
  /** `endAt`: the instant the call is known to have been lost (the CDR ends there; never later than now). */
  cut(reason: Extract<CutReason, 'hangup_requested' | 'signalling_lost' | 'server_lost'>, endAt?: number): void;
  stillUp?: () => Promise<boolean>;
}

export interface Supervision {
  /** The call ended (a BYE, a media timeout…): stop the timers and settle once. Later calls do nothing. */
  /** `endAt`: the call ended at a planned instant (a paired leg cut at its paid second); the CDR ends there, never later than now. */
  end(disposition: string, endAt?: number): Promise<void>;
  readonly ended: boolean;
}

const REFUSAL_CODE: Record<RefusalReason, ErrorCode> = {
  insufficient_credit: 'INSUFFICIENT_CREDIT',
  daily_cap: 'DAILY_CAP_REACHED',
  too_many_calls: 'TOO_MANY_CALLS',
  unknown_account: 'UNKNOWN_ACCOUNT',
  account_suspended: 'ACCOUNT_SUSPENDED',
  account_closed: 'ACCOUNT_CLOSED',
  call_ended: 'SERVICE_UNAVAILABLE',
  unknown_call: 'SERVICE_UNAVAILABLE',
};

/** Final responses that mean "try the next gateway" (RFC 3261 §16.7 style serial forking). */
function isRetryable(status: number): boolean {
  return status === 408 || status >= 500;
}

function statusOf(err: unknown): number {
  const s = (err as { status?: unknown }).status;
  return typeof s === 'number' ? s : 500;
}

/** No unanswered call rings, or waits in the IVR, longer than this (all routes tried, with time to spare). */
const KEEP_ALIVE_LIMIT_MS = 15 * 60_000;

export class CallControl {
  /** Answered calls this process supervises, by account and Call-ID: what ends each one on request. */
  private readonly live = new Map<string, Map<number, LiveCall>>();
  /** The route each answered call went over, until it is settled (its seconds count for that gateway). */
  private readonly answeredVia = new WeakMap<PrepaidCall, RouteAttempt>();
  /** Sign-of-life timers of authorised calls not answered yet. */
  private readonly keepAlives = new Map<PrepaidCall, TimerHandle>();
  /** Answered calls written to the live-call registry, by registry member. */
  private readonly durableCalls = new Map<string, { accountId: number; callId: string }>();
  private readonly durableTimer: TimerHandle | undefined;
  private readonly clock: Clock;

  constructor(private readonly deps: CallControlDeps) {
    this.clock = deps.clock ?? realClock;
    if (deps.durable)
      this.durableTimer = this.clock.setInterval(() => {
        void this.keepAnsweredAlive();
      }, deps.durable.keepAliveMs);
  }

  /** Stops the keep-alive of answered calls (the process is shutting down). */
  stop(): void {
    if (this.durableTimer !== undefined) this.clock.clearInterval(this.durableTimer);
  }

  /**
   * The keep-alive of every answered call this process holds: its score in the live-call registry
   * (what tells other processes that its owner lives) and, beside its reservation, the last moment
   * it was known alive (what a sweeper or a reaper bills up to if this process dies), in one pass.
   */
  private async keepAnsweredAlive(): Promise<void> {
    const d = this.deps.durable;
    if (!d || this.durableCalls.size === 0) return;
    try {
      await d.registry.keepAlive([...this.durableCalls.keys()]);
      await Promise.all([...this.durableCalls.values()].map((c) => this.deps.credit.keepAlive(c.accountId, c.callId)));
    } catch (err) {
      this.deps.log.warn({ err: (err as Error).message }, 'keeping answered calls alive failed');
    }
  }
  /**
   * Ends an answered call this process holds (BYE to its legs, settled as usual); false when it
   * holds no such call. With an account, only that account's call of that Call-ID.
   */
  hangup(callId: string, accountId: number | null): boolean {
    const byAccount = this.live.get(callId);
    if (!byAccount) return false;
    const calls = accountId === null ? [...byAccount.values()] : [byAccount.get(accountId)].filter((c) => c !== undefined);
    for (const c of calls) c.cut('hangup_requested');
    return calls.length > 0;
  }

  /**
   * After the connection to the SIP server came back: asks about every supervised call whether
   * the server still holds its dialog. A restarted server holds none, so those calls can no longer
   * be cut or hear a BYE; they are ended here and settled up to now instead of running on until
   * the credit or the hard maximum stops them. Resolves with how many were ended.
   */
  async checkAfterReconnect(log: Logger): Promise<number> {
    const lost = await Promise.all(
      this.allLive().map(async (c) => {
        if (!c.stillUp) return false;
        const up = await c.stillUp().catch(() => false);
        if (!up) c.cut('signalling_lost');
        return !up;
      }),
    );
    const n = lost.filter(Boolean).length;
    if (n > 0) log.warn({ calls: n }, 'calls whose dialogs the SIP server no longer holds were ended and settled');
    return n;
  }

  /**
   * An answered call that CallControl does not supervise itself (a call to a personal number: no
   * credit to control) joins the calls this process holds: an operator's hang-up, the check after a
   * reconnect to the SIP server and the shutdown's drain reach it like the others. Returns what
   * removes it when it ends.
   */
  track(callId: string, accountId: number, call: LiveCall): () => void {
    const byAccount = this.live.get(callId) ?? new Map<number, LiveCall>();
    byAccount.set(accountId, call);
    this.live.set(callId, byAccount);
    return () => {
      const mine = this.live.get(callId);
      if (mine?.get(accountId) === call) mine.delete(accountId);
      if (mine?.size === 0) this.live.delete(callId);
    };
  }

  /**
   * The connection to the SIP server has been lost since `since` and did not come back in time: the
   * server died (its dialogs with it), or it cannot be reached from here. This process can no
   * longer hear a BYE for its calls nor send one, so it ends each of them at `since` (settled,
   * CDR `server_lost`) and hands their legs over in the live-call registry: a process connected
   * to a live SIP server sends both legs a BYE built from their stored state (OrphanReaper).
   * Returns how many calls it gave up.
   */
  serverLost(since: number, log: Logger): number {
    const calls = this.allLive();
    this.deps.durable?.registry.handOver(
      [...this.live.entries()].flatMap(([callId, byAccount]) => [...byAccount.keys()].map((accountId) => LiveCallRegistry.member(accountId, callId))),
      since,
    );
    for (const c of calls) c.cut('server_lost', since);
    if (calls.length > 0)
      log.warn(
        { calls: calls.length, lostAt: new Date(since).toISOString() },
        'SIP server lost: its calls were settled up to the loss and handed over for their BYEs',
      );
    return calls.length;
  }

  /** Answered calls this process supervises now. */
  get liveCount(): number {
    let n = 0;
    for (const byAccount of this.live.values()) n += byAccount.size;
    return n;
  }

  /** Ends every supervised call (BYE to both legs; each settles as usual); how many it ended. */
  hangupAll(): number {
    const calls = this.allLive();
    for (const c of calls) c.cut('hangup_requested');
    return calls.length;
  }

  private allLive(): LiveCall[] {
    return [...this.live.values()].flatMap((byAccount) => [...byAccount.values()]);
  }

  /** Screens, rates and authorises `dialled` for the account; on success the first slice is reserved (settle releases it). */
  async authorise(call: PrepaidCall, account: Account, dialled: string, log: Logger): Promise<Authorised | Refused> {
    const read = readDialled(dialled, account.country);
    if (!read.ok) return { ok: false, code: read.code, detail: read.detail };
    const destination = read.destination;
    call.destination = destination;
    if (account.status !== 'active') return { ok: false, code: account.status === 'closed' ? 'ACCOUNT_CLOSED' : 'ACCOUNT_SUSPENDED' };
    if (await this.deps.isBlocked(destination)) return { ok: false, code: 'DESTINATION_BLOCKED' };
    if (!account.tariffId) return { ok: false, code: 'NO_RATE', detail: 'account has no tariff' };
    const rate = (await this.deps.tariff(account.tariffId)).lookup(destination, new Date(call.startTime));
    if (!rate) return { ok: false, code: 'NO_RATE' };
    call.rate = rate;
    // a rate that cannot price the longest call (it slipped past the import's check) is refused, never a 500
    const unratable = maxCallCostProblem(rate, this.deps.settings.maxCallSeconds, MAX_MICROS);
    if (unratable !== undefined) {
      log.error({ prefix: rate.prefix, tariffId: account.tariffId, problem: unratable }, 'rate cannot be applied; fix the tariff');
      return { ok: false, code: 'RATE_UNUSABLE', detail: unratable };
    }

    const auth = await this.deps.credit.authorise(account.id, call.facts.callId, rate);
    if (!auth.ok) return { ok: false, code: REFUSAL_CODE[auth.reason] };
    call.to(CallState.Reserved);
    this.keepAlive(call, log);
    const minimum = this.deps.settings.minCallSeconds ?? 0;
    if (auth.maxSeconds < minimum) return { ok: false, code: 'INSUFFICIENT_CREDIT', detail: `credit for ${auth.maxSeconds} s, below the ${minimum} s minimum` };
    log.info({ destination, prefix: rate.prefix, maxSeconds: auth.maxSeconds }, 'call authorised');
    const routes = planRoutes(await this.deps.carriers(), destination, this.deps.settings.routingMode);
    if (routes.length === 0) return { ok: false, code: 'NO_ROUTE' };
    return { ok: true, rate, maxSeconds: auth.maxSeconds, coveredSeconds: auth.coveredSeconds, routes };
  }

  /**
   * Authorises an on-net call (to another subscriber's devices, never a carrier) at `rate`, the
   * on-net rate: account status, then the reservation as for any call (so a priced on-net call is
   * covered, extended and cut at exhaustion like the others), then the minimum call length.
   */
  async authoriseOnNet(call: PrepaidCall, account: Account, rate: Rate, log: Logger): Promise<Authorised | Refused> {
    if (account.status !== 'active') return { ok: false, code: account.status === 'closed' ? 'ACCOUNT_CLOSED' : 'ACCOUNT_SUSPENDED' };
    call.rate = rate;
    const auth = await this.deps.credit.authorise(account.id, call.facts.callId, rate);
    if (!auth.ok) return { ok: false, code: REFUSAL_CODE[auth.reason] };
    call.to(CallState.Reserved);
    this.keepAlive(call, log);
    const minimum = this.deps.settings.minCallSeconds ?? 0;
    if (rate.pricePerMinute > 0 && auth.maxSeconds < minimum)
      return { ok: false, code: 'INSUFFICIENT_CREDIT', detail: `credit for ${auth.maxSeconds} s, below the ${minimum} s minimum` };
    log.info({ destination: call.destination, maxSeconds: auth.maxSeconds }, 'on-net call authorised');
    return { ok: true, rate, maxSeconds: auth.maxSeconds, coveredSeconds: auth.coveredSeconds, routes: [] };
  }

  /**
   * Writes a supervised call's legs to the live-call registry (kept alive, removed when it ends),
   * for a call whose legs are known only after its supervision began (a callback's leg A is billed
   * from its answer, and bridged later). Does nothing without durability or once the call settles.
   */
  recordLegs(call: PrepaidCall, state: CallLegs, log: Logger): void {
    const durable = this.deps.durable;
    if (!durable || call.state !== CallState.Answered) return;
    const { accountId, callId } = call.facts;
    this.durableCalls.set(LiveCallRegistry.member(accountId, callId), { accountId, callId });
    void durable.registry
      .record(accountId, callId, durable.owner, state, call.answerTime!)
      .catch((err: Error) => log.warn({ err: err.message }, "recording the call's legs for other processes failed"));
  }

  /** Records a refusal on the call (CDR facts) and gives the SIP status and reason for it. */
  refused(call: PrepaidCall, code: ErrorCode, log: Logger, detail?: string): [number, string] {
    const [status, reason] = sipStatusOf(code);
    log.info({ code, detail }, 'call refused');
    call.sipCode = status;
    call.sipReason = reason;
    call.disposition = 'refused';
    return [status, reason];
  }

  /**
   * Tries the routes in order until one answers, the caller gives up, or a failure is final.
   * A route that rang (180/183) until the no-answer deadline is a final "no answer" (480, CDR
   * `no_answer`): the callee was alerted and did not answer, so no other carrier rings them again.
   * One that did not even ring by then failed like a 408, and the next route is tried.
   */
  async dial<T>(call: PrepaidCall, routes: readonly RouteAttempt[], attempt: DialAttempt<T>, cancelled: () => boolean, log: Logger): Promise<DialOutcome<T>> {
    let lastStatus = 503;
    let lastReason = 'Service Unavailable';
    const markCancelled = (): DialOutcome<T> => {
      [call.sipCode, call.sipReason] = sipStatusOf('CALL_CANCELLED');
      call.disposition = 'cancelled';
      return { kind: 'cancelled' };
    };
    for (const [i, route] of routes.entries()) {
      if (cancelled()) break;
      call.to(CallState.Ringing);
      call.carrier = route.carrierId;
      let timer: TimerHandle | undefined;
      let timedOut = false;
      let rang = false;
      let sentAt: number | undefined;
      let pdd: number | undefined;
      const report = (result: GatewayAttempt['result'], status: number) =>
        this.deps.onGatewayAttempt?.({
          gatewayId: route.gateway.id,
          carrierId: route.carrierId,
          result,
          status,
          ...(pdd !== undefined ? { postDialDelayMs: pdd } : {}),
        });
      try {
        const value = await attempt(
          route,
          (cancel) => {
            sentAt = this.clock.now();
            timer = this.clock.setTimeout(() => {
              timedOut = true;
              try {
                cancel();
              } catch {
                /* already final */
              }
            }, this.deps.settings.noAnswerTimeoutMs);
          },
          () => {
            if (!rang && sentAt !== undefined) pdd = this.clock.now() - sentAt;
            rang = true;
          },
        );
        if (timer !== undefined) this.clock.clearTimeout(timer);
        if (pdd === undefined && sentAt !== undefined) pdd = this.clock.now() - sentAt;
        report('answered', 200);
        this.answeredVia.set(call, route);
        call.to(CallState.Answered);
        call.answerTime = this.clock.now();
        call.sipCode = 200;
        call.sipReason = 'OK';
        call.disposition = 'answered';
        log.info({ carrier: route.carrierId, gateway: route.gateway.id }, 'call answered');
        return { kind: 'answered', value, route };
      } catch (err) {
        if (timer !== undefined) this.clock.clearTimeout(timer);
        const status = timedOut ? 408 : statusOf(err);
        lastStatus = status;
        lastReason = (err as { reason?: string }).reason ?? (timedOut ? 'Request Timeout' : 'Failed');
        log.info(
          { carrier: route.carrierId, gateway: route.gateway.id, status, attempt: i + 1, rang },
          timedOut && rang ? 'no answer' : 'outbound attempt failed',
        );
        report(cancelled() || status === 487 ? 'cancelled' : timedOut && rang ? 'no_answer' : 'failed', status);
        if (cancelled()) return markCancelled();
        if (timedOut && rang) {
          const [noAnswer, noAnswerReason] = sipStatusOf('NO_ANSWER');
          call.sipCode = noAnswer;
          call.sipReason = noAnswerReason;
          call.disposition = 'no_answer';
          return { kind: 'failed', status: noAnswer, reason: noAnswerReason };
        }
        if (status === 487) return markCancelled();
        if (!isRetryable(status)) break;
      }
    }
    if (cancelled()) return markCancelled();
    const [status, reason] = isRetryable(lastStatus) ? sipStatusOf('ALL_ROUTES_FAILED') : [lastStatus, lastReason];
    call.sipCode = status;
    call.sipReason = reason;
    call.disposition = status === 486 || status === 600 ? 'busy' : 'failed';
    return { kind: 'failed', status, reason };
  }

  /**
   * Until the call is answered or settled, its reservation is kept alive from here (see
   * CallCredit.deadline): if this process dies while the call rings, the sweeper of any other
   * process settles it about one slice later. The signs stop after KEEP_ALIVE_LIMIT_MS, so a
   * call this process lost track of is left to the sweeper too.
   */
  private keepAlive(call: PrepaidCall, log: Logger): void {
    const { accountId, callId } = call.facts;
    const until = this.clock.now() + KEEP_ALIVE_LIMIT_MS;
    const timer = this.clock.setInterval(() => {
      if (this.clock.now() > until) {
        this.stopKeepAlive(call);
        return;
      }
      void this.deps.credit.keepAlive(accountId, callId).then(
        (open) => {
          if (!open) this.stopKeepAlive(call);
        },
        (err: Error) => log.warn({ err: err.message }, 'keeping the reservation alive failed'),
      );
    }, this.deps.credit.keepAliveEveryMs);
    this.keepAlives.set(call, timer);
  }

  private stopKeepAlive(call: PrepaidCall): void {
    const timer = this.keepAlives.get(call);
    if (timer !== undefined) this.clock.clearInterval(timer);
    this.keepAlives.delete(call);
  }

  /** Keeps an answered call covered: extends ahead, warns, hangs the legs up at the covered second; settles once when it ends. */
  supervise(call: PrepaidCall, rate: Rate, coveredSeconds: number, legs: SupervisedLegs, log: Logger): Supervision {
    this.stopKeepAlive(call);
    this.deps.onAnswered?.(call);
    // beside the reservation, what a sweeper needs to settle this call if this process dies
    void this.deps.credit
      .answered(call.facts.accountId, call.facts.callId, rate, call.answerTime!, coveredSeconds, call.cdr())
      .catch((err: Error) => log.warn({ err: err.message }, 'recording the answer for the sweeper failed'));
    let ended = false;
    let settled: Promise<void> = Promise.resolve();
    const { callId, accountId } = call.facts;
    const durable = this.deps.durable;
    const member = LiveCallRegistry.member(accountId, callId);
    if (legs.state) this.recordLegs(call, legs.state, log);
    /** `endAt`: when the switch itself ended the call at a planned instant (the paid second), the CDR ends there. */
    const end = (disposition: string, endAt?: number): Promise<void> => {
      if (ended) return settled;
      ended = true;
      timer.stop();
      if (durable && this.durableCalls.delete(member)) {
        void durable.registry
          .remove(accountId, callId)
          .catch((err: Error) => log.warn({ err: err.message }, 'removing the call from the live-call registry failed'));
      }
      const byAccount = this.live.get(callId);
      if (byAccount?.get(accountId) === cutFromOutside) byAccount.delete(accountId);
      if (byAccount?.size === 0) this.live.delete(callId);
      call.disposition = disposition;
      // once the cover is final (no extension to come), the call is never billed past it: a cut timer
      // that fires late, or a hang-up that lands after the paid second, ends it there
      const paidUntil = timer.paidUntilMs;
      settled = this.settle(call, log, paidUntil === undefined ? endAt : Math.min(endAt ?? paidUntil, paidUntil));
      return settled;
    };
    const timer = new CreditTimer({
      answeredAt: call.answerTime!,
      coveredSeconds,
      maxCallSeconds: this.deps.settings.maxCallSeconds,
      leadSeconds: this.deps.settings.extendLeadSeconds,
      warnSeconds: this.deps.settings.warnSeconds,
      timers: this.clock,
      extend: (c) => this.deps.credit.extend(call.facts.accountId, call.facts.callId, rate, call.answerTime!, c),
      ...(legs.warn
        ? {
            warn: (s: number) => {
              log.info({ secondsLeft: s }, 'warning the caller');
              legs.warn!(s);
            },
          }
        : {}),
      cut: (reason, at) => {
        log.info({ reason }, 'ending call');
        legs.hangUp(reason, at);
        void end(reason, at);
      },
      onError: (err) => log.warn({ err: (err as Error).message }, 'extending the reservation failed'),
    });
    const cutFromOutside: LiveCall = {
      cut: (reason, endAt) => {
        if (ended) return;
        log.info({ reason }, cutLogMessage(reason));
        legs.hangUp(reason, endAt);
        void end(reason, endAt);
      },
      ...(legs.stillUp ? { stillUp: () => legs.stillUp!() } : {}),
    };
    const byAccount = this.live.get(callId) ?? new Map<number, LiveCall>();
    byAccount.set(accountId, cutFromOutside);
    this.live.set(callId, byAccount);
    return {
      end,
      get ended() {
        return ended;
      },
    };
  }

  /**
   * Settles the call once (later calls do nothing); a failure leaves the reservation to the
   * sweeper. It ends now, or at `endAt` when the switch cut it at a planned instant (never later than now).
   */
  async settle(call: PrepaidCall, log: Logger, endAt?: number): Promise<void> {
    this.stopKeepAlive(call);
    const now = this.clock.now();
    if (!call.beginSettling(endAt === undefined ? now : Math.min(now, endAt))) return;
    try {
      const r = await this.deps.credit.settle(call.facts.accountId, call.rate, call.cdr());
      call.to(CallState.Settled);
      log.info({ disposition: call.disposition, result: r }, 'call settled');
      const via = this.answeredVia.get(call);
      if (via && call.answerTime !== null && call.endTime !== null) {
        this.answeredVia.delete(call);
        this.deps.onGatewayCallEnded?.({ gatewayId: via.gateway.id, carrierId: via.carrierId, seconds: Math.max(0, call.endTime - call.answerTime) / 1000 });
      }
      if (r.ok && r.correctedSweep) log.warn({ cost: r.debited }, 'a sweeper had settled this live call; its settlement was replaced by this one');
      this.deps.onSettled?.(call, r);
    } catch (err) {
      // the reservation stays in Redis with its deadline: the sweeper settles it
      log.error({ err: (err as Error).message }, 'settling failed; left to the sweeper');
    }
  }
}

/** The Reason header (RFC 3326) for a call the switch ended. */
export function cutReasonHeader(reason: CutReason | 'rtp_timeout'): Record<string, string> {
  // Q.850: 16 normal clearing (credit used up, operator hang-up), 41 temporary failure (media or signalling lost), 102 timer expiry (hard maximum)
  const cause =
    reason === 'credit_exhausted' || reason === 'hangup_requested'
      ? 16
      : reason === 'rtp_timeout' || reason === 'signalling_lost' || reason === 'server_lost'
        ? 41
        : 102;
  return { Reason: `Q.850;cause=${cause};text="${reason}"` };
}

/** The log line of a call the switch ends. */
export function cutLogMessage(reason: CutReason): string {
  if (reason === 'signalling_lost') return 'ending call: the SIP server lost its dialog';
  if (reason === 'server_lost') return 'ending call: the SIP server is lost';
  if (reason === 'hangup_requested') return 'ending call on request';
  return 'ending call';
}
