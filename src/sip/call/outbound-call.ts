import type { Logger } from 'pino';
import type { Account } from '../../accounts/account-service.ts';
import { normaliseNumber } from '../../accounts/e164.ts';
import type { RefusalReason } from '../../billing/balance/balance-store.ts';
import type { CallCredit } from '../../billing/credit/call-credit.ts';
import type { Rate, Tariff } from '../../billing/rating/index.ts';
import { sipStatusOf } from '../../errors.ts';
import type { ErrorCode } from '../../errors.ts';
import { planRoutes } from '../routing/route-plan.ts';
import type { Carrier, RouteAttempt, RoutingMode } from '../routing/route-plan.ts';
import { CreditTimer } from './credit-timer.ts';
import type { TimerPort } from './credit-timer.ts';
import { dialPlanFor } from './dial-plans.ts';
import { CallState, PrepaidCall } from './prepaid-call.ts';
import type { CallFacts } from './prepaid-call.ts';

/** What the outbound leg needs of drachtio-srf (its objects satisfy these structurally). */
export interface B2bRequest {
  get(name: string): string | undefined;
  readonly body?: string;
  on(event: 'cancel', fn: (req: unknown) => void): void;
  removeAllListeners(event: string): void;
}
export interface B2bResponse { send(status: number, reason?: string, opts?: { headers?: Record<string, string> }): void }
export interface SipDialog { on(event: 'destroy', fn: () => void): void; destroy(opts?: { headers?: Record<string, string> }): Promise<unknown> | void }
export interface UacRequest { cancel(opts?: unknown): void }
export interface B2bSrf {
  createB2BUA(req: B2bRequest, res: B2bResponse, uri: string, opts: Record<string, unknown>,
    cbs: { cbRequest?: (err: unknown, uacReq: UacRequest) => void; cbProvisional?: (res: { status: number }) => void }): Promise<{ uas: SipDialog; uac: SipDialog }>;
}

export interface OutboundCallDeps {
  srf: B2bSrf;
  credit: CallCredit;
  tariff(tariffId: string): Promise<Tariff>;
  carriers(): Promise<Carrier[]>;
  isBlocked(destination: string): Promise<boolean>;
  log: Logger;
  timers?: TimerPort;
  settings: {
    routingMode: RoutingMode;
    noAnswerTimeoutMs: number;
    maxCallSeconds: number;
    extendLeadSeconds: number;
    warnSeconds: number;
  };
  /** Called when a call is answered (for metrics and tests). */
  onAnswered?: (call: PrepaidCall) => void;
  /** Called when an outbound INVITE is handed to the SIP server, with the milliseconds since the caller's INVITE reached the app. */
  onBLegSent?: (call: PrepaidCall, sinceInviteMs: number) => void;
  /** Called with every finished call (for metrics and tests). */
  onSettled?: (call: PrepaidCall, result: unknown) => void;
}

export type OutboundRefusal = { code: ErrorCode; reason?: string };

const REFUSAL_CODE: Record<RefusalReason, ErrorCode> = {
  insufficient_credit: 'INSUFFICIENT_CREDIT', daily_cap: 'DAILY_CAP_REACHED', too_many_calls: 'TOO_MANY_CALLS',
  unknown_account: 'UNKNOWN_ACCOUNT', account_suspended: 'ACCOUNT_SUSPENDED', account_closed: 'ACCOUNT_CLOSED',
  call_ended: 'SERVICE_UNAVAILABLE', unknown_call: 'SERVICE_UNAVAILABLE',
};

/** Final responses that mean "try the next gateway" (RFC 3261 §16.7 style serial forking). */
function isRetryable(status: number): boolean {
  return status === 408 || status >= 500;
}

function statusOf(err: unknown): number {
  const s = (err as { status?: unknown }).status;
  return typeof s === 'number' ? s : 500;
}

/**
 * An outbound prepaid call from an authenticated account to a dialled number: normalise, screen,
 * rate, authorise and reserve, route over the carriers with failover, keep the call covered
 * while it lasts, and settle exactly once with its CDR however it ends.
 */
export class OutboundCall {
  constructor(private readonly deps: OutboundCallDeps) {}

  async handle(req: B2bRequest, res: B2bResponse, account: Account, facts: Omit<CallFacts, 'accountId' | 'currency'>, dialled: string,
    receivedAt = performance.now()): Promise<void> {
    const call = new PrepaidCall({ ...facts, accountId: account.id, currency: account.currency }, Date.now());
    const log = this.deps.log.child({ callId: facts.callId, accountId: account.id });
    let cancelled = false;
    const onCancel = () => { cancelled = true; };
    req.on('cancel', onCancel);

    const refuse = async (code: ErrorCode, detail?: string) => {
      const [status, reason] = sipStatusOf(code);
      log.info({ code, detail }, 'call refused');
      res.send(status, reason);
      call.sipCode = status; call.sipReason = reason; call.disposition = 'refused';
      await this.settle(call, log);
    };

    const e164 = normaliseNumber(dialled, dialPlanFor(account.country));
    if (!e164) return refuse('VALIDATION_FAILED', 'destination is not a diallable number');
    const destination = e164.slice(1);
    call.destination = destination;
    if (account.status !== 'active') return refuse(account.status === 'closed' ? 'ACCOUNT_CLOSED' : 'ACCOUNT_SUSPENDED');
    if (await this.deps.isBlocked(destination)) return refuse('DESTINATION_BLOCKED');
    if (!account.tariffId) return refuse('NO_RATE', 'account has no tariff');
    const rate = (await this.deps.tariff(account.tariffId)).lookup(destination, new Date(call.startTime));
    if (!rate) return refuse('NO_RATE');
    call.rate = rate;

    const auth = await this.deps.credit.authorise(account.id, facts.callId, rate);
    if (!auth.ok) return refuse(REFUSAL_CODE[auth.reason]);
    call.to(CallState.Reserved);
    log.info({ destination, prefix: rate.prefix, maxSeconds: auth.maxSeconds }, 'call authorised');

    const routes = planRoutes(await this.deps.carriers(), destination, this.deps.settings.routingMode);
    if (routes.length === 0) return refuse('NO_ROUTE');
    if (cancelled) { call.sipCode = 487; call.sipReason = 'Request Terminated'; call.disposition = 'cancelled'; return this.settle(call, log); }

    const outcome = await this.connect(req, res, call, routes, log, onCancel, () => cancelled, receivedAt);
    if (!outcome) return this.settle(call, log);
    this.deps.onAnswered?.(call);
    this.supervise(call, rate, auth.coveredSeconds, outcome.uas, outcome.uac, log);
  }

  /** Tries the routes in order; resolves with the two dialogs, or undefined once the caller has had a final failure. */
  private async connect(req: B2bRequest, res: B2bResponse, call: PrepaidCall, routes: RouteAttempt[], log: Logger, onCancel: () => void,
    cancelled: () => boolean, receivedAt: number) {
    let lastStatus = 503;
    let lastReason = 'Service Unavailable';
    for (const [i, route] of routes.entries()) {
      if (cancelled()) break;
      call.to(CallState.Ringing);
      call.carrier = route.carrierId;
      let timer: NodeJS.Timeout | undefined;
      let timedOut = false;
      // a failed attempt's CANCEL forwarding must not outlive it
      req.removeAllListeners('cancel');
      req.on('cancel', onCancel);
      try {
        const dialogs = await this.deps.srf.createB2BUA(req, res, route.uri, {
          passFailure: false,
          proxyRequestHeaders: ['User-Agent'],
          ...(route.gateway.auth ? { auth: route.gateway.auth } : {}),
        }, {
          cbRequest: (_err, uacReq) => {
            this.deps.onBLegSent?.(call, performance.now() - receivedAt);
            timer = setTimeout(() => { timedOut = true; try { uacReq.cancel(); } catch { /* already final */ } }, this.deps.settings.noAnswerTimeoutMs);
          },
        });
        clearTimeout(timer);
        call.to(CallState.Answered);
        call.answerTime = Date.now();
        call.sipCode = 200; call.sipReason = 'OK'; call.disposition = 'answered';
        log.info({ carrier: route.carrierId, gateway: route.gateway.id }, 'call answered');
        return dialogs;
      } catch (err) {
        clearTimeout(timer);
        const status = timedOut ? 408 : statusOf(err);
        lastStatus = status;
        lastReason = (err as { reason?: string }).reason ?? (timedOut ? 'Request Timeout' : 'Failed');
        log.info({ carrier: route.carrierId, gateway: route.gateway.id, status, attempt: i + 1 }, 'outbound attempt failed');
        if (cancelled() || status === 487) { call.sipCode = 487; call.sipReason = 'Request Terminated'; call.disposition = 'cancelled'; return undefined; }
        if (!isRetryable(status)) break;
      }
    }
    if (cancelled()) { call.sipCode = 487; call.sipReason = 'Request Terminated'; call.disposition = 'cancelled'; return undefined; }
    // a clear final failure: the callee's own answer for 4xx/6xx, 503 when every gateway failed
    const [status, reason] = isRetryable(lastStatus) ? [503, 'All Routes Failed'] : [lastStatus, lastReason];
    res.send(status, reason);
    call.sipCode = status; call.sipReason = reason; call.disposition = status === 486 || status === 600 ? 'busy' : 'failed';
    return undefined;
  }

  private supervise(call: PrepaidCall, rate: Rate, covered: number, uas: SipDialog, uac: SipDialog, log: Logger): void {
    let ended = false;
    const end = (by: string) => {
      if (ended) return;
      ended = true;
      timer.stop();
      call.disposition = by === 'credit_exhausted' ? 'credit_exhausted' : by === 'max_duration' ? 'max_duration' : 'answered';
      void this.settle(call, log);
    };
    const timer = new CreditTimer({
      answeredAt: call.answerTime!, coveredSeconds: covered, maxCallSeconds: this.deps.settings.maxCallSeconds,
      leadSeconds: this.deps.settings.extendLeadSeconds, warnSeconds: this.deps.settings.warnSeconds,
      ...(this.deps.timers ? { timers: this.deps.timers } : {}),
      extend: (c) => this.deps.credit.extend(call.facts.accountId, call.facts.callId, rate, c),
      cut: (reason) => {
        log.info({ reason }, 'ending call');
        const headers = { Reason: `Q.850;cause=${reason === 'credit_exhausted' ? 17 : 102};text="${reason}"` };
        void Promise.resolve(uas.destroy({ headers })).catch(() => undefined);
        void Promise.resolve(uac.destroy({ headers })).catch(() => undefined);
        end(reason);
      },
      onError: (err) => log.warn({ err: (err as Error).message }, 'extending the reservation failed'),
    });
    uas.on('destroy', () => { void Promise.resolve(uac.destroy()).catch(() => undefined); end('caller'); });
    uac.on('destroy', () => { void Promise.resolve(uas.destroy()).catch(() => undefined); end('callee'); });
  }

  private async settle(call: PrepaidCall, log: Logger): Promise<void> {
    if (!call.beginSettling(Date.now())) return;
    try {
      const r = await this.deps.credit.settle(call.facts.accountId, call.rate, call.cdr());
      call.to(CallState.Settled);
      log.info({ disposition: call.disposition, result: r }, 'call settled');
      this.deps.onSettled?.(call, r);
    } catch (err) {
      // the reservation stays in Redis with its deadline: the sweeper settles it
      log.error({ err: (err as Error).message }, 'settling failed; left to the sweeper');
    }
  }
}
