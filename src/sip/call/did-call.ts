import type { Logger } from 'pino';
import type { CallCredit } from '../../billing/credit/call-credit.ts';
import { realClock } from '../../common/clock.ts';
import type { Clock, TimerHandle } from '../../common/clock.ts';
import { sipStatusOf } from '../../errors.ts';
import { sendSipError } from '../sip-error.ts';
import type { Binding } from '../registrar/binding-store.ts';
import { cutLogMessage, cutReasonHeader } from './call-control.ts';
import type { CallControl, CutReason } from './call-control.ts';
import { onDialogEnd } from './dialog-end.ts';
import { dialogStillUp } from './dialog-probe.ts';
import { sendCreditWarning } from './credit-warning-message.ts';
import { byeBothLegs } from './leg-ender.ts';
import type { OutOfDialogSender } from './leg-ender.ts';
import { readCallLegs } from './leg-state.ts';
import type { CallLegs } from './leg-state.ts';
import { LiveCallRegistry } from './live-call-registry.ts';
import type { B2bRequest, B2bResponse, SipDialog, UacRequest } from './outbound-call.ts';
import { CallState, PrepaidCall } from './prepaid-call.ts';

export interface ForkSrf {
  createUAC(
    uri: string,
    opts: Record<string, unknown>,
    cbs: { cbRequest?: (err: unknown, req: UacRequest) => void; cbProvisional?: (res: { status: number; body?: string }) => void },
  ): Promise<SipDialog & { remote: { sdp: string } }>;
  createUAS(req: B2bRequest, res: B2bResponse, opts: { localSdp: string }): Promise<SipDialog>;
}

export interface DidCallDeps {
  srf: ForkSrf;
  credit: CallCredit;
  log: Logger;
  ringTimeoutMs: number;
  /** The time source of the ring timeout and the call's times (default: the process clock). */
  clock?: Clock;
  /** Called when a call is answered and with every finished call (for metrics and tests). */
  onAnswered?: (call: PrepaidCall) => void;
  onSettled?: (call: PrepaidCall, result: unknown) => void;
  /** The live bindings of the account's devices the number rings. */
  bindingsFor(accountId: number, sipUsername: string | null): Promise<Binding[]>;
  /**
   * Call-state durability, as for device calls: an answered call's legs and CDR facts are kept in
   * the live-call registry with a keep-alive every `keepAliveMs`, so that if this process dies
   * another one sends both legs a BYE and writes the CDR (OrphanReaper).
   */
  durable?: { registry: LiveCallRegistry; owner: string; keepAliveMs: number };
  /** The SIP server this process is connected to (its hostport list), for the call's stored legs. */
  server?: () => string | undefined;
  /**
   * The calls this process holds: an answered call joins them, so that an operator's hang-up, the
   * check after a reconnect to the SIP server and the shutdown's drain reach it too.
   */
  control?: Pick<CallControl, 'track'>;
  /** Sends a BYE outside any Dialog object (after a SIP server restart, from the legs' stored state). */
  sender?: OutOfDialogSender;
}

/**
 * The paying caller of an on-net call (on-net-call.ts): told when the callee's device answers
 * (with what hangs both legs up, for the caller's credit supervision) and how the call ended.
 */
export interface CallerSide {
  /** The callee answered on `device`; returns what is called once when the call ends, however it ends. */
  answered(
    device: string | null,
    legs: { hangUp(reason: CutReason): void; stillUp(): Promise<boolean>; warn(secondsLeft: number): void; state?: CallLegs },
  ): { end(disposition: string): void };
  /** The call ended unanswered (no device, busy, no answer, cancelled, failed). */
  unanswered(outcome: { sipCode: number | null; sipReason: string | null; disposition: string }): Promise<void>;
}

/** The subscriber a call rings: a personal number's account and device user, or an on-net callee. */
export interface DidTarget {
  /** What the callee's CDR records as dialled (a personal number, or the username or account number dialled). */
  number: string;
  accountId: number;
  /** The SIP user to ring (null: all the account's). */
  sipUsername: string | null;
  /** When none of those is registered: the device user the callee's personal number rings instead (its normal routing). */
  orElse?: string | null;
}

/** Where to send a request for a binding: its Contact, through the address it registered from (NAT). */
export function forkTarget(b: Binding): { uri: string; proxy: string } {
  const host = b.source.address.includes(':') ? `[${b.source.address}]` : b.source.address;
  return { uri: b.uri, proxy: `sip:${host}:${b.source.port};transport=${b.source.transport.toLowerCase()}` };
}

/** The device a binding stands for, as CDRs name devices: the SIP username of its address of record. */
export function deviceOf(b: Binding): string {
  return b.aor.split('@')[0]!;
}

/**
 * A call from a carrier to a personal number: ring every registered device at once; the first to
 * answer gets the call and the others are CANCELled (RFC 3261 §16.7 parallel forking, done as a
 * B2BUA). 480 when no device is registered. The CDR is written on the account with cost 0.
 */
export class DidCall {
  private readonly clock: Clock;

  constructor(private readonly deps: DidCallDeps) {
    this.clock = deps.clock ?? realClock;
  }

  async handle(
    req: B2bRequest,
    res: B2bResponse,
    did: DidTarget,
    facts: { callId: string; cli: string | null; sourceIp: string | null; carrier: string | null; startedAfter?: number },
    caller?: CallerSide,
  ): Promise<void> {
    const log = this.deps.log.child({ callId: facts.callId, accountId: did.accountId });
    const call = new PrepaidCall(
      {
        callId: facts.callId,
        accountId: did.accountId,
        kind: 'did',
        cli: facts.cli,
        sourceIp: facts.sourceIp,
        accessNumber: null,
        device: null,
        dialledNumber: did.number,
        currency: null,
      },
      // an on-net call's two CDRs share the Call-ID: the callee's starts after the caller's, never
      // in the same millisecond (a CDR is unique by Call-ID and start time)
      facts.startedAfter === undefined ? this.clock.now() : Math.max(this.clock.now(), facts.startedAfter + 1),
    );
    call.destination = did.number.replace(/^\+/, '');
    call.carrier = facts.carrier;
    let bindings = await this.deps.bindingsFor(did.accountId, did.sipUsername);
    if (bindings.length === 0 && did.orElse !== undefined) bindings = await this.deps.bindingsFor(did.accountId, did.orElse);
    if (bindings.length === 0) {
      sendSipError(res, 'CALLEE_UNAVAILABLE');
      [call.sipCode, call.sipReason] = sipStatusOf('CALLEE_UNAVAILABLE');
      call.disposition = 'unavailable';
      return this.settle(call, log, caller);
    }
    call.to(CallState.Reserved);
    call.to(CallState.Ringing);
    const pending = new Set<UacRequest>();
    let answered = false;
    let cancelled = false;
    let ringing = false;
    req.on('cancel', () => {
      cancelled = true;
      for (const r of pending) {
        try {
          r.cancel();
        } catch {
          /* already final */
        }
      }
      sendSipError(res, 'CALL_CANCELLED');
    });
    const ringTimer = this.clock.setTimeout(() => {
      for (const r of pending) {
        try {
          r.cancel();
        } catch {
          /* final */
        }
      }
    }, this.deps.ringTimeoutMs);
    let answeredBy: Binding | undefined;
    const legs = bindings.map((b) => {
      const t = forkTarget(b);
      let mine: UacRequest | undefined;
      return this.deps.srf
        .createUAC(
          t.uri,
          { proxy: t.proxy, localSdp: req.body, callingNumber: facts.cli ?? 'anonymous' },
          {
            cbRequest: (_err, r) => {
              mine = r;
              pending.add(r);
            },
            cbProvisional: (p) => {
              if (!ringing && !answered && !cancelled && (p.status === 180 || p.status === 183)) {
                ringing = true;
                res.send(180, 'Ringing');
              }
            },
          },
        )
        .then(
          (dialog) => {
            if (mine) pending.delete(mine);
            if (answered || cancelled) {
              void Promise.resolve(dialog.destroy()).catch(() => undefined);
              throw new Error('lost the race');
            }
            answered = true;
            answeredBy = b;
            for (const r of pending) {
              try {
                r.cancel();
              } catch {
                /* final */
              }
            }
            return dialog;
          },
          (err: unknown) => {
            if (mine) pending.delete(mine);
            throw err;
          },
        );
    });
    let uac: (SipDialog & { remote: { sdp: string } }) | undefined;
    try {
      uac = await Promise.any(legs);
    } catch (agg) {
      this.clock.clearTimeout(ringTimer);
      const statuses = ((agg as AggregateError).errors ?? []).map((e: unknown) => (e as { status?: number }).status ?? 500);
      if (!cancelled) {
        const busy = statuses.includes(486) || statuses.includes(600);
        const refusal = busy ? 'CALLEE_BUSY' : 'CALLEE_UNAVAILABLE';
        sendSipError(res, refusal);
        [call.sipCode, call.sipReason] = sipStatusOf(refusal);
        call.disposition = busy ? 'busy' : 'no_answer';
      } else {
        call.sipCode = 487;
        call.sipReason = 'Request Terminated';
        call.disposition = 'cancelled';
      }
      return this.settle(call, log, caller);
    }
    this.clock.clearTimeout(ringTimer);
    let uas: SipDialog;
    try {
      uas = await this.deps.srf.createUAS(req, res, { localSdp: uac.remote.sdp });
    } catch (err) {
      // The carrier could not be answered: its CANCEL crossed the device's 200 (the SIP server
      // answered it 487 itself and refused our late 200 as a response to a transaction it no longer
      // has, or srf reported the CANCEL first). The device that answered is hung up and the call
      // recorded once, as the carrier ended it.
      const status = (err as { status?: unknown } | undefined)?.status;
      // srf rejects with the SIP server's refusal text (a string) or an Error
      const why = typeof err === 'string' ? err : (err as Error | undefined)?.message;
      void Promise.resolve(uac.destroy()).catch(() => undefined);
      if (cancelled || status === 487 || /unknown transaction/i.test(why ?? '')) {
        log.info({ err: why }, 'the carrier cancelled as the device answered; the device was hung up');
        call.sipCode = 487;
        call.disposition = 'cancelled';
      } else {
        log.warn({ err: why }, 'the carrier could not be answered; the device was hung up');
        call.sipCode = typeof status === 'number' ? status : 500;
        call.disposition = 'failed';
      }
      return this.settle(call, log, caller);
    }
    call.to(CallState.Answered);
    call.answerTime = this.clock.now();
    call.sipCode = 200;
    call.sipReason = 'OK';
    call.disposition = 'answered';
    call.answeredBy = answeredBy === undefined ? null : deviceOf(answeredBy);
    log.info({ devices: bindings.length, userAgent: answeredBy?.userAgent }, 'personal-number call answered');
    this.deps.onAnswered?.(call);
    const state = readCallLegs(this.deps.server?.(), uas, uac);
    const keepAlive = this.keepDurable(call, state, log);
    let ended = false;
    const end = (disposition?: string) => {
      if (!ended) {
        ended = true;
        keepAlive?.();
        untrack?.();
        if (disposition !== undefined) call.disposition = disposition;
        paying?.end(call.disposition);
        void this.settle(call, log);
      }
    };
    const cut = (reason: CutReason) => {
      if (ended) return;
      log.info({ reason }, cutLogMessage(reason));
      const headers = cutReasonHeader(reason);
      void Promise.resolve(uas.destroy({ headers })).catch(() => undefined);
      void Promise.resolve(uac.destroy({ headers })).catch(() => undefined);
      // a restarted SIP server no longer knows the dialogs: the BYEs are built from their state
      if (reason === 'signalling_lost' && state && this.deps.sender) byeBothLegs(this.deps.sender, state, headers, log);
      end(reason);
    };
    // an on-net call's caller pays: their credit supervision may cut both legs
    const paying = caller?.answered(call.answeredBy, {
      hangUp: cut,
      stillUp: () => dialogStillUp(uac),
      warn: (s) => sendCreditWarning(uas, s, log),
      ...(state ? { state } : {}),
    });
    const untrack = this.deps.control?.track(facts.callId, did.accountId, { cut, stillUp: () => dialogStillUp(uac) });
    onDialogEnd(uas, () => {
      void Promise.resolve(uac!.destroy()).catch(() => undefined);
      end();
    });
    onDialogEnd(uac, () => {
      void Promise.resolve(uas.destroy()).catch(() => undefined);
      end();
    });
  }

  /**
   * Writes the answered call to the live-call registry (its legs, its CDR facts) and keeps it alive
   * there; returns what removes it when the call ends (undefined without durability, or when the
   * dialogs' state cannot be read).
   */
  private keepDurable(call: PrepaidCall, state: CallLegs | undefined, log: Logger): (() => void) | undefined {
    const d = this.deps.durable;
    if (!d || !state) {
      if (d) log.warn("the call's dialog state could not be read: it cannot be ended by another process");
      return undefined;
    }
    const { accountId, callId } = call.facts;
    const member = LiveCallRegistry.member(accountId, callId);
    const recorded = d.registry
      .record(accountId, callId, d.owner, state, call.answerTime!, undefined, JSON.stringify(call.cdr()))
      .catch((err: Error) => log.warn({ err: err.message }, "recording the call's legs for other processes failed"));
    const timer: TimerHandle = this.clock.setInterval(() => {
      void d.registry.keepAlive([member]).catch((err: Error) => log.warn({ err: err.message }, 'keeping the call alive failed'));
    }, d.keepAliveMs);
    return () => {
      this.clock.clearInterval(timer);
      // after the record is written, so a call that ends at once is not left behind as an orphan
      void recorded
        .then(() => d.registry.remove(accountId, callId))
        .catch((err: Error) => log.warn({ err: err.message }, 'removing the call from the live-call registry failed'));
    };
  }

  private async settle(call: PrepaidCall, log: Logger, caller?: CallerSide): Promise<void> {
    if (caller) await caller.unanswered({ sipCode: call.sipCode, sipReason: call.sipReason, disposition: call.disposition });
    if (!call.beginSettling(this.clock.now())) return;
    try {
      const r = await this.deps.credit.settle(call.facts.accountId, null, call.cdr());
      call.to(CallState.Settled);
      this.deps.onSettled?.(call, r);
    } catch (err) {
      log.error({ err: (err as Error).message }, 'writing the personal-number CDR failed');
    }
  }
}
