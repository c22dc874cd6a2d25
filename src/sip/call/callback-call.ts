import type { Logger } from 'pino';
import type { Account } from '../../accounts/account-service.ts';
import type { CallbackRequest, CallbackRequests } from '../../accounts/callbacks.ts';
import { realClock } from '../../common/clock.ts';
import type { Clock } from '../../common/clock.ts';
import { sipStatusOf } from '../../errors.ts';
import type { CallerDialog, MediaServer, MediaSession } from '../../media/media-port.ts';
import type { MenuCaller } from '../ivr/access-number-call.ts';
import { cutReasonHeader } from './call-control.ts';
import type { Authorised, CallControl, CutReason, Supervision } from './call-control.ts';
import { onDialogEnd } from './dialog-end.ts';
import { dialogStillUp } from './dialog-probe.ts';
import { byeBothLegs } from './leg-ender.ts';
import type { OutOfDialogSender } from './leg-ender.ts';
import { calleeLegOf } from './leg-state.ts';
import type { CallLegs, SrfDialogView } from './leg-state.ts';
import type { SipDialog, UacRequest } from './outbound-call.ts';
import { PrepaidCall } from './prepaid-call.ts';
import type { CallFacts } from './prepaid-call.ts';

/** An answered offer-less INVITE (drachtio-srf createUAC with `noAck`): the far end's offer, and the ACK that carries our answer. */
export interface UnacknowledgedLeg {
  sdp: string;
  ack(sdp: string): Promise<SipDialog>;
  /** ACKs with the far end's own SDP and sends BYE: the leg is given up before it was bridged. */
  destroy(): Promise<void>;
}

/** The part of drachtio-srf's createUAC both legs use (its objects satisfy it structurally). */
export interface CallbackSrf {
  createUAC(
    uri: string,
    opts: Record<string, unknown>,
    cbs: { cbRequest?: (err: unknown, req: UacRequest) => void; cbProvisional?: (res: { status: number }) => void },
  ): Promise<unknown>;
}

export interface CallbackCallDeps {
  srf: CallbackSrf;
  control: CallControl;
  account(accountId: number): Promise<Account>;
  requests: Pick<CallbackRequests, 'progress' | 'finish'>;
  log: Logger;
  /** The SIP server this process is connected to (its hostport list), for the legs' stored state. */
  server?: () => string | undefined;
  /** Sends a BYE outside any Dialog object (after a SIP server restart, from the legs' stored state). */
  sender?: OutOfDialogSender;
  clock?: Clock;
  /**
   * Menu requests (no connectTo): the media server answers leg A's offer and the access-number
   * menu runs on it, logged in as the account (AccessNumberCall.menu). Without it (no media
   * server), a menu request fails before anything is dialled.
   */
  menu?: {
    media: Pick<MediaServer, 'answerOffer'>;
    run(session: MediaSession, account: Account, caller: MenuCaller): Promise<void>;
    /** The prompts' language. */
    language: string;
  };
}

/** The CDR call ids of a request's two legs (each leg's reservation and CDR are its own). */
export function callbackCallIds(requestId: string): { a: string; b: string } {
  return { a: `callback-${requestId}-a`, b: `callback-${requestId}-b` };
}

/**
 * Places a callback request (RFC 3725 §4.1, flow I; no media server):
 *
 *   authorise + reserve leg A (the rate for callMe) and leg B (the rate for connectTo)  ─ either refused: failed, nothing dialled
 *   INVITE A without SDP over A's routes (failover as any call) ── A fails: failed, nothing charged
 *   A's 200 carries A's offer ─▶ INVITE B with it over B's routes ── B fails: A is ACKed and BYEd, charged its answered seconds
 *   B's 200 carries B's answer ─▶ ACK A with it: bridged ('connected')
 *
 * Each leg is supervised by CallControl on its own reservation from its answer; whichever runs out
 * (or is hung up, or cut by an operator) ends both. Each leg is settled once with its own CDR
 * (kind 'callback'); both are written to the live-call registry once bridged, so another process
 * ends them if this one dies.
 */
export class CallbackCall {
  private readonly clock: Clock;

  constructor(private readonly deps: CallbackCallDeps) {
    this.clock = deps.clock ?? realClock;
  }

  /** Resolves once the request is bridged ('connected'; a menu request: in the menu) or has ended ('failed'). */
  async place(r: CallbackRequest): Promise<void> {
    const { control, requests } = this.deps;
    const ids = callbackCallIds(r.id);
    const log = this.deps.log.child({ callback: r.id, accountId: r.accountId });
    const account = await this.deps.account(r.accountId);
    if (r.connectTo === null && !this.deps.menu) return requests.finish(r.id, 'failed', 'the menu is not offered by this call server (no media server)');
    const callA = callbackLeg(account, ids.a, r.callMe, this.clock.now());
    const logA = log.child({ callId: ids.a });
    const authA = await control.authorise(callA, account, r.callMe, logA);
    if (!authA.ok) {
      control.refused(callA, authA.code, logA, authA.detail);
      await control.settle(callA, logA);
      return requests.finish(r.id, 'failed', `callMe: ${authA.code}`);
    }
    if (r.connectTo === null) return this.placeMenu(r, account, callA, authA, log);
    // a CDR is unique by call id and start time: leg B starts after leg A
    const callB = callbackLeg(account, ids.b, r.connectTo, Math.max(this.clock.now(), callA.startTime + 1));
    const logB = log.child({ callId: ids.b });
    const authB = await control.authorise(callB, account, r.connectTo, logB);
    if (!authB.ok) {
      control.refused(callB, authB.code, logB, authB.detail);
      [callA.sipCode, callA.sipReason] = sipStatusOf('CALL_CANCELLED');
      callA.disposition = 'cancelled';
      await Promise.all([control.settle(callB, logB), control.settle(callA, logA)]);
      return requests.finish(r.id, 'failed', `connectTo: ${authB.code}`);
    }
    await requests.progress(r.id, 'calling-a', { a: ids.a, b: ids.b });

    const outcomeA = await this.dialA(r, callA, authA, logA);
    if (outcomeA.kind !== 'answered') {
      [callB.sipCode, callB.sipReason] = sipStatusOf('CALL_CANCELLED');
      callB.disposition = 'cancelled';
      await Promise.all([control.settle(callA, logA), control.settle(callB, logB)]);
      const why = outcomeA.kind === 'failed' ? `${outcomeA.status} ${outcomeA.reason}` : 'cancelled';
      return requests.finish(r.id, 'failed', `callMe: ${why}`);
    }
    const a = outcomeA.value;
    let dialogA: SipDialog | undefined;
    let dialogB: SipDialog | undefined = undefined;
    let pendingB: UacRequest | undefined;
    let over = false;
    let bridged = false;
    let state: CallLegs | undefined = undefined;
    let supervisionB: Supervision | undefined = undefined;
    /**
     * Ends both legs (BYE each one up, CANCEL B if it still rings) and the supervisions, once. The
     * supervision that cut (`by`) ends itself at its paid second; the other ends now.
     */
    /** `at`: the planned instant a leg was cut at (its paid second); the other leg ends there too. */
    const hangUpBoth = (reason: CutReason | undefined, by?: 'a' | 'b', at?: number) => {
      if (over) return;
      over = true;
      const headers = reason === undefined ? undefined : cutReasonHeader(reason);
      if (dialogA) void Promise.resolve(dialogA.destroy(headers ? { headers } : undefined)).catch(() => undefined);
      else void a.destroy().catch(() => undefined);
      if (dialogB) void Promise.resolve(dialogB.destroy(headers ? { headers } : undefined)).catch(() => undefined);
      else if (pendingB) {
        try {
          pendingB.cancel();
        } catch {
          /* already final */
        }
      }
      // a restarted SIP server no longer knows the dialogs: the BYEs are built from their state
      if (reason === 'signalling_lost' && headers && state && this.deps.sender) byeBothLegs(this.deps.sender, state, headers, log);
      if (by !== 'a') void supervisionA.end(reason ?? callA.disposition, at);
      if (by !== 'b') void supervisionB?.end(reason ?? callB.disposition, at);
      if (bridged) void requests.finish(r.id, 'completed').catch((err: Error) => log.warn({ err: err.message }, 'recording the callback as completed failed'));
    };
    // A is billed from its answer: its cover is extended (or runs out) while B rings
    const supervisionA = control.supervise(
      callA,
      authA.rate,
      authA.coveredSeconds,
      { hangUp: (reason, at) => hangUpBoth(reason, 'a', at), stillUp: () => (dialogA ? dialogStillUp(dialogA) : Promise.resolve(true)) },
      logA,
    );
    await requests.progress(r.id, 'calling-b');

    // leg B: offered the customer's SDP
    const outcomeB = await control.dial(
      callB,
      authB.routes,
      (route, sent, ringing) =>
        this.deps.srf.createUAC(
          route.uri,
          { localSdp: a.sdp, callingNumber: r.callMe, ...(route.gateway.auth ? { auth: route.gateway.auth } : {}) },
          {
            cbRequest: (_err, req) => {
              pendingB = req;
              sent(() => req.cancel());
            },
            cbProvisional: (p) => {
              if (p.status === 180 || p.status === 183) ringing();
            },
          },
        ) as Promise<SipDialog & { remote: { sdp: string } }>,
      () => over,
      logB,
    );
    pendingB = undefined;
    if (outcomeB.kind !== 'answered') {
      log.info({ status: callB.sipCode }, 'connectTo not answered: the customer is hung up');
      if (!over) {
        over = true;
        void a.destroy().catch(() => undefined);
        await supervisionA.end('answered');
      }
      await control.settle(callB, logB);
      const why = outcomeB.kind === 'failed' ? `${outcomeB.status} ${outcomeB.reason}` : 'the customer hung up or the credit ran out';
      return requests.finish(r.id, 'failed', `connectTo: ${why}`);
    }
    dialogB = outcomeB.value;
    if (over) {
      // A ended (its cover ran out) as B answered
      void Promise.resolve(dialogB.destroy()).catch(() => undefined);
      callB.disposition = 'answered';
      await control.settle(callB, logB);
      return requests.finish(r.id, 'failed', 'the customer hung up or the credit ran out');
    }
    try {
      dialogA = await a.ack(outcomeB.value.remote.sdp);
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'leg A could not be acknowledged');
      hangUpBoth(undefined);
      await control.settle(callB, logB);
      return requests.finish(r.id, 'failed', 'callMe: the answer could not be sent');
    }
    if (over) {
      // A's cover ran out while it was being acknowledged: both legs are hung up, B billed its moment
      void Promise.resolve(dialogA.destroy()).catch(() => undefined);
      callB.disposition = 'answered';
      await control.settle(callB, logB);
      return requests.finish(r.id, 'failed', 'the credit ran out');
    }
    state = this.legsOf(dialogA, dialogB);
    supervisionB = control.supervise(
      callB,
      authB.rate,
      authB.coveredSeconds,
      { hangUp: (reason, at) => hangUpBoth(reason, 'b', at), stillUp: () => dialogStillUp(dialogB!), ...(state ? { state } : {}) },
      logB,
    );
    bridged = true;
    if (state) control.recordLegs(callA, state, logA);
    await requests.progress(r.id, 'connected');
    log.info('callback connected');
    // either side hanging up ends both (our own BYEs end no listener: drachtio-srf emits 'destroy' for the far end's)
    onDialogEnd(dialogA, () => hangUpBoth(undefined));
    onDialogEnd(dialogB, () => hangUpBoth(undefined));
  }

  /**
   * Leg A: an INVITE without SDP over callMe's routes; its 200 carries the customer's phone's offer.
   * The caller ID shown is never connectTo (a number the account was not shown to reach): the
   * customer sees their own number; B sees callMe, the party that answered leg A.
   */
  private dialA(r: CallbackRequest, callA: PrepaidCall, authA: Authorised, logA: Logger) {
    return this.deps.control.dial(
      callA,
      authA.routes,
      (route, sent, ringing) =>
        this.deps.srf.createUAC(
          route.uri,
          { noAck: true, callingNumber: r.callMe, ...(route.gateway.auth ? { auth: route.gateway.auth } : {}) },
          {
            cbRequest: (_err, req) => sent(() => req.cancel()),
            cbProvisional: (p) => {
              if (p.status === 180 || p.status === 183) ringing();
            },
          },
        ) as Promise<UnacknowledgedLeg>,
      () => false,
      logA,
    );
  }

  /**
   * A menu request: leg A as for any request (authorised and reserved before dialling, billed from
   * its answer); the customer's offer is answered by the media server in A's ACK, and the
   * access-number menu runs on the leg logged in as the account (no PIN: the request came from
   * the authenticated customer or an operator). Each call placed from the menu is a leg B of its
   * own (call ids `callback-<id>-b`, `-b2`, …; the request's leg B id names the latest), rated,
   * reserved beside A's reservation, supervised and settled by the menu as an access-number
   * call's. A's cover running out, an operator's hang-up or a lost SIP server end the menu and any
   * leg B with it; the customer hanging up, or the menu ending, settles A for its answered seconds
   * and completes the request. While up, A is in the live-call registry on its own (and with each
   * leg B beside it), so another process's OrphanReaper ends and settles it if this one dies.
   */
  private async placeMenu(r: CallbackRequest, account: Account, callA: PrepaidCall, authA: Authorised, log: Logger): Promise<void> {
    const { control, requests } = this.deps;
    const menu = this.deps.menu!;
    const ids = callbackCallIds(r.id);
    const logA = log.child({ callId: ids.a });
    await requests.progress(r.id, 'calling-a', { a: ids.a });
    const outcomeA = await this.dialA(r, callA, authA, logA);
    if (outcomeA.kind !== 'answered') {
      await control.settle(callA, logA);
      const why = outcomeA.kind === 'failed' ? `${outcomeA.status} ${outcomeA.reason}` : 'cancelled';
      return requests.finish(r.id, 'failed', `callMe: ${why}`);
    }
    const a = outcomeA.value;
    let dialogA: SipDialog | undefined;
    let session: MediaSession | undefined;
    let state: CallLegs | undefined = undefined;
    let over = false;
    /** The BYE that ends leg A carries the Reason of a cut (the session sends it when it is destroyed). */
    let byeHeaders: Record<string, string> | undefined;
    const hangUp = (reason: CutReason) => {
      if (over) return;
      over = true;
      byeHeaders = cutReasonHeader(reason);
      // the menu sees its caller gone and ends any leg B it holds (settled by its own supervision)
      if (session) void session.destroy();
      else if (dialogA) void Promise.resolve(dialogA.destroy({ headers: byeHeaders })).catch(() => undefined);
      else void a.destroy().catch(() => undefined);
      if (reason === 'signalling_lost' && state && this.deps.sender) byeBothLegs(this.deps.sender, state, byeHeaders, log);
    };
    // A is billed from its answer, menu time included: the customer's phone is off-hook
    const supervisionA = control.supervise(
      callA,
      authA.rate,
      authA.coveredSeconds,
      { hangUp, stillUp: () => (dialogA ? dialogStillUp(dialogA) : Promise.resolve(true)) },
      logA,
    );
    try {
      session = await menu.media.answerOffer(
        a.sdp,
        async (localSdp) => {
          const d = await a.ack(localSdp);
          dialogA = d;
          return callerDialogOf(d, () => byeHeaders);
        },
        { language: menu.language },
      );
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'the menu could not be started: the customer is hung up');
      over = true;
      if (dialogA) void Promise.resolve(dialogA.destroy()).catch(() => undefined);
      else void a.destroy().catch(() => undefined);
      await supervisionA.end('answered');
      return requests.finish(r.id, 'failed', 'callMe: the menu could not be started');
    }
    if (over) {
      // A's cover ran out, or it was cut, while the media server answered
      await session.destroy();
      return requests.finish(r.id, 'failed', 'callMe: ended as the menu started (the credit ran out or it was cut)');
    }
    const dialog = dialogA!;
    state = this.legOf(dialog);
    if (state) control.recordLegs(callA, state, logA);
    await requests.progress(r.id, 'connected');
    log.info('callback answered into the menu');
    const caller: MenuCaller = {
      id: ids.a,
      language: menu.language,
      callFacts: (seq, dialled, acct) => callbackFacts(acct, seq === 1 ? ids.b : `${ids.b}${seq}`, dialled),
      presented: { number: r.callMe, withheld: false },
      voucherSource: `cli:${r.callMe}`,
      callerLeg: () => calleeLegOf(dialog as unknown as SrfDialogView),
      placing: (callId) => requests.progress(r.id, 'connected', { b: callId }),
    };
    void menu
      .run(session, account, caller)
      .catch((err: Error) => log.error({ err: err.message }, 'the callback menu failed'))
      .then(async () => {
        // the customer hung up, the menu said goodbye, or A was cut (then its supervision has settled it already)
        await supervisionA.end('answered');
        await requests.finish(r.id, 'completed');
      })
      .catch((err: Error) => log.warn({ err: err.message }, 'recording the callback as completed failed'));
  }

  /** Leg A alone (the customer in the menu), for the live-call registry. */
  private legOf(a: SipDialog): CallLegs | undefined {
    const server = this.deps.server?.();
    if (server === undefined) return undefined;
    try {
      return { server, caller: calleeLegOf(a as unknown as SrfDialogView) };
    } catch {
      return undefined;
    }
  }

  private legsOf(a: SipDialog, b: SipDialog): CallLegs | undefined {
    const server = this.deps.server?.();
    if (server === undefined) return undefined;
    try {
      return { server, caller: calleeLegOf(a as unknown as SrfDialogView), callee: calleeLegOf(b as unknown as SrfDialogView) };
    } catch {
      return undefined;
    }
  }
}

/** The CDR facts of one leg of a callback, a call of the account (kind 'callback'). */
function callbackFacts(account: Account, callId: string, dialled: string): CallFacts {
  return {
    callId,
    accountId: account.id,
    kind: 'callback',
    cli: null,
    sourceIp: null,
    accessNumber: null,
    device: null,
    dialledNumber: dialled,
    currency: account.currency,
  };
}

/** One leg of a callback as a prepaid call of the account. */
function callbackLeg(account: Account, callId: string, dialled: string, start: number): PrepaidCall {
  return new PrepaidCall(callbackFacts(account, callId, dialled), start);
}

/**
 * Leg A's dialog as the media session's caller dialog: the session's BYE (when it is destroyed)
 * carries the Reason of a cut, when there was one.
 */
function callerDialogOf(d: SipDialog, headers: () => Record<string, string> | undefined): CallerDialog {
  const dialog = d as SipDialog & { on(event: string, fn: (...args: never[]) => void): unknown };
  return {
    get connected() {
      return d.connected;
    },
    on: (event: string, fn: (...args: never[]) => void) => dialog.on(event, fn),
    destroy: () => {
      const h = headers();
      return d.destroy(h ? { headers: h } : undefined);
    },
  } as CallerDialog;
}
