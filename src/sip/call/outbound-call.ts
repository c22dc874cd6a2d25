import type { Logger } from 'pino';
import type { Account } from '../../accounts/account-service.ts';
import { realClock } from '../../common/clock.ts';
import type { Clock } from '../../common/clock.ts';
import { sipStatusOf } from '../../errors.ts';
import { cutReasonHeader } from './call-control.ts';
import type { CallControl } from './call-control.ts';
import { onDialogEnd } from './dialog-end.ts';
import { dialogStillUp } from './dialog-probe.ts';
import { sendCreditWarning } from './credit-warning-message.ts';
import { byeBothLegs } from './leg-ender.ts';
import type { OutOfDialogSender } from './leg-ender.ts';
import { readCallLegs } from './leg-state.ts';
import type { MediaLeg, MediaServer, MediaSession, Recording } from '../../media/media-port.ts';
import type { CallRecorder } from './call-recording.ts';
import { PrepaidCall } from './prepaid-call.ts';
import type { CallFacts } from './prepaid-call.ts';

/** What the outbound leg needs of drachtio-srf (its objects satisfy these structurally). */
export interface B2bRequest {
  get(name: string): string | undefined;
  readonly body?: string;
  on(event: 'cancel', fn: (req: unknown) => void): void;
  removeAllListeners(event: string): void;
}
export interface B2bResponse {
  send(status: number, reason?: string, opts?: { headers?: Record<string, string> }): void;
}
export interface SipDialog {
  readonly connected?: boolean;
  on(event: 'destroy', fn: () => void): void;
  once(event: 'destroy', fn: () => void): unknown;
  destroy(opts?: { headers?: Record<string, string> }): Promise<unknown> | void;
  request(opts: { method: string; headers?: Record<string, string>; body?: string }): Promise<{ status: number }>;
}
export interface UacRequest {
  cancel(opts?: unknown): void;
}
export interface B2bSrf {
  createB2BUA(
    req: B2bRequest,
    res: B2bResponse,
    uri: string,
    opts: Record<string, unknown>,
    cbs: { cbRequest?: (err: unknown, uacReq: UacRequest) => void; cbProvisional?: (res: { status: number }) => void; cbFinalizedUac?: (uac: unknown) => void },
  ): Promise<{ uas: SipDialog; uac: SipDialog }>;
}

export interface OutboundCallDeps {
  srf: B2bSrf & OutOfDialogSender;
  /** The SIP server this process is connected to (its hostport list), for the call's durable state. */
  server?: () => string | undefined;
  /** The shared rating / authorisation / routing / supervision / settling steps. */
  control: CallControl;
  log: Logger;
  /** Called when an outbound INVITE is handed to the SIP server, with the milliseconds since the caller's INVITE reached the app. */
  onBLegSent?: (call: PrepaidCall, sinceInviteMs: number) => void;
  /** The time source of the call's start (default: the process clock). */
  clock?: Clock;
  /** Warn the device before a cut for lack of credit with an in-dialog MESSAGE (DEVICE_CREDIT_WARNING=message). */
  warnByMessage?: boolean;
  /**
   * Call recording: a call of an account whose holder consented is anchored through the media
   * server (the device is answered with the media server's SDP, the callee offered its leg's) and
   * recorded from the answer; other calls keep their media end to end. None: never recorded.
   */
  recording?: { media: Pick<MediaServer, 'open'>; recorder: CallRecorder };
}

/** A device call's media through the media server (anchored for recording). */
interface Anchor {
  session: MediaSession;
  leg: MediaLeg;
  /** The answer for the device's offer (sent in its 200 once the callee answered). */
  localSdp: string;
  recording?: Promise<Recording | undefined>;
}

/**
 * An outbound prepaid call from an authenticated device to a dialled number: the shared call
 * control (rate, authorise and reserve, route with failover, supervise, settle once) with the
 * legs placed as a B2BUA (the caller's INVITE is forwarded to each route in turn).
 */
export class OutboundCall {
  constructor(private readonly deps: OutboundCallDeps) {}

  /** Ends an answered call this process holds (see CallControl.hangup); false when it holds none. */
  hangup(callId: string, accountId: number | null): boolean {
    return this.deps.control.hangup(callId, accountId);
  }

  async handle(
    req: B2bRequest,
    res: B2bResponse,
    account: Account,
    facts: Omit<CallFacts, 'accountId' | 'currency'>,
    dialled: string,
    receivedAt = performance.now(),
  ): Promise<void> {
    const { control } = this.deps;
    const call = new PrepaidCall({ ...facts, accountId: account.id, currency: account.currency }, (this.deps.clock ?? realClock).now());
    const log = this.deps.log.child({ callId: facts.callId, accountId: account.id });
    let cancelled = false;
    const onCancel = () => {
      cancelled = true;
    };
    req.on('cancel', onCancel);

    const auth = await control.authorise(call, account, dialled, log);
    if (!auth.ok) {
      const [status, reason] = control.refused(call, auth.code, log, auth.detail);
      res.send(status, reason);
      return control.settle(call, log);
    }
    if (cancelled) {
      [call.sipCode, call.sipReason] = sipStatusOf('CALL_CANCELLED');
      call.disposition = 'cancelled';
      return control.settle(call, log);
    }
    const anchor = await this.anchor(req, call, log);
    let bridged = false;
    const anchored = anchor
      ? {
          localSdpB: anchor.leg.localSdp,
          // the callee answered: the notice to them, then the device hears them through the media server
          localSdpA: async (sdpB: string) => {
            await anchor.leg.setRemoteSdp(sdpB);
            if (this.deps.recording!.recorder.deps.announce) await anchor.session.announce(anchor.leg, ['recording-notice']);
            await anchor.session.bridge(anchor.leg);
            bridged = true;
            return anchor.localSdp;
          },
        }
      : {};

    const outcome = await control.dial(
      call,
      auth.routes,
      (route, sent, ringing) => {
        // a failed attempt's CANCEL forwarding must not outlive it
        req.removeAllListeners('cancel');
        req.on('cancel', onCancel);
        let calleeAnswered = false;
        return this.deps.srf
          .createB2BUA(
            req,
            res,
            route.uri,
            {
              passFailure: false,
              proxyRequestHeaders: ['User-Agent'],
              ...anchored,
              ...(route.gateway.auth ? { auth: route.gateway.auth } : {}),
            },
            {
              cbRequest: (_err, uacReq) => {
                this.deps.onBLegSent?.(call, performance.now() - receivedAt);
                sent(() => uacReq.cancel());
              },
              cbProvisional: (p) => {
                if (p.status === 180 || p.status === 183) ringing();
              },
              cbFinalizedUac: () => {
                calleeAnswered = true;
              },
            },
          )
          .catch((err: unknown) => {
            // The callee answered but the caller could not be: its INVITE transaction had already
            // ended (a CANCEL that crossed the callee's 200 at the SIP server, which answered it 487
            // itself; drachtio-srf drops a CANCEL that arrives after the app sent its 200). srf has
            // sent the callee a BYE. The caller is gone: no other route is tried.
            if (calleeAnswered && !cancelled) {
              log.info({ err: (err as Error).message }, 'the caller cancelled as the callee answered');
              cancelled = true;
            }
            throw err;
          });
      },
      () => cancelled,
      log,
    );
    if (outcome.kind === 'failed') res.send(outcome.status, outcome.reason);
    if (outcome.kind !== 'answered') {
      if (anchor) void anchor.session.destroy();
      return control.settle(call, log);
    }
    if (anchor && bridged) anchor.recording = this.deps.recording!.recorder.start(anchor.session, call, log);
    let mediaFreed = false;
    const freeMedia = () => {
      if (!anchor || mediaFreed) return;
      mediaFreed = true;
      this.deps.recording!.recorder.close(anchor.recording, call, log);
      void anchor.session.destroy();
    };

    const { uas, uac } = outcome.value;
    const state = readCallLegs(this.deps.server?.(), uas, uac);
    if (!state && this.deps.server?.() !== undefined) log.warn("the call's dialog state could not be read: it cannot be ended by another process");
    const supervision = control.supervise(
      call,
      auth.rate,
      auth.coveredSeconds,
      {
        hangUp: (reason) => {
          freeMedia();
          const headers = cutReasonHeader(reason);
          void Promise.resolve(uas.destroy({ headers })).catch(() => undefined);
          void Promise.resolve(uac.destroy({ headers })).catch(() => undefined);
          // a restarted SIP server no longer knows the dialogs: the BYEs are built from their state
          if (reason === 'signalling_lost' && state) byeBothLegs(this.deps.srf, state, headers, log);
        },
        stillUp: () => dialogStillUp(uac),
        ...(this.deps.warnByMessage ? { warn: (s: number) => sendCreditWarning(uas, s, log) } : {}),
        ...(state ? { state } : {}),
      },
      log,
    );
    // either leg may already have ended (a BYE read together with the answer): see onDialogEnd
    onDialogEnd(uas, () => {
      freeMedia();
      void Promise.resolve(uac.destroy()).catch(() => undefined);
      void supervision.end('answered');
    });
    onDialogEnd(uac, () => {
      freeMedia();
      void Promise.resolve(uas.destroy()).catch(() => undefined);
      void supervision.end('answered');
    });
  }

  /** The call's media through the media server when it is to be recorded; undefined: media end to end (also when the media server cannot take it). */
  private async anchor(req: B2bRequest, call: PrepaidCall, log: Logger): Promise<Anchor | undefined> {
    const r = this.deps.recording;
    const offer = (req as { body?: string }).body;
    if (r === undefined || r.media.open === undefined || offer === undefined || offer.trim() === '') return undefined;
    if (!(await r.recorder.wanted(call, log))) return undefined;
    let session: MediaSession | undefined;
    try {
      const o = await r.media.open(offer);
      session = o.session;
      return { session, leg: await session.createLeg(), localSdp: o.localSdp };
    } catch (err) {
      if (session) void session.destroy();
      log.warn({ err: (err as Error).message }, 'the call could not be anchored for recording: media end to end, unrecorded');
      r.recorder.deps.failed(call.facts.callId, `not anchored: ${(err as Error).message}`);
      return undefined;
    }
  }
}
