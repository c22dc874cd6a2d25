/**
 * Decides what an INVITE is: from a carrier's address (by source address) or from a device, and
 * to an access number or not. From a carrier: an access-number call, a callback-number call (a
 * callback access number, CALLBACK_ACCESS_NUMBERS), or else a personal-number call; from anywhere
 * else: a device call (an access or callback number called from a device is refused by the next
 * guard, refuse-access-number-off-carrier.ts).
 */
import type { Logger } from 'pino';
import { e164FromUser } from '../../accounts/e164.ts';
import type { SipMiddleware } from '../sip-types.ts';
import { userOf } from '../sip-uri.ts';
import { inviteStep } from './invite-context.ts';
import type { CallKind } from './invite-context.ts';
import { clientAddress } from '../guards/client-address.ts';

/** What classifying reads: carriers by address, access numbers by number. */
export interface ClassifyPorts {
  carrierForAddress(address: string): Promise<string | undefined>;
  accessNumber(e164: string): Promise<{ number: string; language: string } | undefined>;
  /** A callback access number (E.164 with '+'). */
  callbackNumber(e164: string): boolean;
}

export function classifyInvite(ports: ClassifyPorts, log: Logger): SipMiddleware {
  return inviteStep(log, async (req, _res, context) => {
    const carrier = await ports.carrierForAddress(clientAddress(req));
    const called = e164FromUser(userOf(req.uri) ?? '');
    const access = called === undefined ? undefined : await ports.accessNumber(called);
    const callback = called !== undefined && ports.callbackNumber(called);
    const kind: CallKind = carrier === undefined ? 'device' : access ? 'access-number' : callback ? 'callback-number' : 'personal-number';
    context.kind = kind;
    if (callback) context.callbackNumber = true;
    if (carrier !== undefined) context.carrier = carrier;
    if (called !== undefined) context.called = called;
    if (access) context.accessNumber = access;
    return true;
  });
}
