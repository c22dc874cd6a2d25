/**
 * What the INVITE middleware learn about one call as it goes down the list (the Call-ID, whether
 * it came from a carrier, what was called, who is calling), kept beside the request in a typed
 * table rather than written onto drachtio-srf's request object.
 */
import type { Logger } from 'pino';
import type { InviteIdentity } from '../auth/authenticate-invite.ts';
import type { B2bRequest, B2bResponse } from '../call/outbound-call.ts';
import { answerFailure } from '../dependency-failure.ts';
import type { SipMiddleware, SipRequest, SipResponse } from '../sip-types.ts';

/** The call types an INVITE can be (call-type.ts). */
export type CallKind = 'device' | 'access-number' | 'personal-number' | 'callback-number';

/** An INVITE as drachtio-srf delivers it: what the middleware read and what the call flows need. */
export type InviteRequest = SipRequest & B2bRequest & { readonly callingNumber?: string };
export type InviteResponse = SipResponse & B2bResponse;

export interface InviteContext {
  /** performance.now() when the INVITE reached the app (the b-leg latency metric counts from here). */
  readonly receivedAt: number;
  /** The Call-ID, once require-call-id.ts has checked it. */
  callId?: string;
  /** The call type, once classify-invite.ts has decided it. */
  kind?: CallKind;
  /** The carrier the INVITE came from (by source address); undefined for devices. */
  carrier?: string;
  /** The called number (E.164 of the Request-URI's user part), when it is one. */
  called?: string;
  /** The called number is a callback access number (CALLBACK_ACCESS_NUMBERS). */
  callbackNumber?: boolean;
  /** The access number called, when it is one. */
  accessNumber?: { number: string; language: string };
  /** The personal number called and its owner (set by the personal-number call type). */
  personalNumber?: { number: string; accountId: number; sipUsername: string | null };
  /** The authenticated caller (device calls). */
  identity?: InviteIdentity;
}

interface Entry {
  context: InviteContext;
  finish: () => void;
}

const open = new WeakMap<object, Entry>();

/** Opens the context of an INVITE admitted to the list; `finish` runs once when its handling ends. */
export function openInvite(req: SipRequest, receivedAt: number, finish: () => void): InviteContext {
  let finished = false;
  const context: InviteContext = { receivedAt };
  open.set(req, {
    context,
    finish: () => {
      if (!finished) {
        finished = true;
        finish();
      }
    },
  });
  return context;
}

function entryOf(req: SipRequest): Entry {
  const entry = open.get(req);
  if (entry === undefined) throw new Error('INVITE middleware ran before the admission step (admit-invite.ts)');
  return entry;
}

/** The context of an admitted INVITE (a bug if admission did not run). */
export function inviteOf(req: SipRequest): InviteContext {
  return entryOf(req).context;
}

/** A value the list's earlier steps must have set (a bug if they did not). */
export function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`INVITE middleware out of order: no ${what}`);
  return value;
}

/**
 * One step of the INVITE list after admission: resolves true to pass the INVITE on, false once it
 * has answered it (or handed it to a call flow that did). A step that fails is answered as every
 * failure is (dependency-failure.ts: 503 with Retry-After when Redis or Postgres is unreachable,
 * 500 for a bug); either way the INVITE's handling ends there.
 */
export type InviteStep = (req: InviteRequest, res: InviteResponse, context: InviteContext) => boolean | Promise<boolean>;

export function inviteStep(log: Logger, step: InviteStep): SipMiddleware {
  return (req, res, next) => {
    const entry = entryOf(req);
    const failed = (err: unknown) => {
      entry.finish();
      answerFailure(req, res, err, log);
    };
    let outcome: boolean | Promise<boolean>;
    try {
      outcome = step(req as InviteRequest, res as InviteResponse, entry.context);
    } catch (err) {
      failed(err);
      return;
    }
    void Promise.resolve(outcome).then((go) => {
      if (go) next();
      else entry.finish();
    }, failed);
  };
}
