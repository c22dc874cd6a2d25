/**
 * The call types, peers behind one interface: a device call (digest-authenticated, rated and
 * routed to a carrier), an access-number call (the IVR in the media server) and a personal-number
 * call (forked to the owner's registered devices); callback and on-net calls join them here.
 * The INVITE list (sip-app.ts) runs, for the type classify-invite.ts chose:
 *
 *   accept (the type's own refusals) → authenticate (when the type needs it) → rate → route
 */
import type { SipErrorCode } from '../../errors.ts';
import type { InviteIdentity } from '../auth/authenticate-invite.ts';
import type { CallKind, InviteContext, InviteRequest, InviteResponse } from './invite-context.ts';

export interface CallType {
  readonly kind: CallKind;
  /**
   * The type's own refusal before the call is counted (no media server, a number nobody owns), or
   * undefined to go on. May record on the context what it found (the personal number's owner).
   */
  accept(req: InviteRequest, context: InviteContext): Promise<SipErrorCode | undefined>;
  /**
   * Who is calling, when the type needs the caller authenticated (device calls: digest); resolves
   * undefined once it has answered the request itself (a challenge, 403, 400).
   */
  authenticate?(req: InviteRequest, res: InviteResponse): Promise<InviteIdentity | undefined>;
  /** Carries the call to its end (answered and settled, or refused). */
  route(req: InviteRequest, res: InviteResponse, context: InviteContext): Promise<void>;
}

/** The call types by kind: every kind has exactly one. */
export type CallTypes = { readonly [K in CallKind]: CallType & { readonly kind: K } };
