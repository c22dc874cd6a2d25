/**
 * Access numbers (and callback access numbers) are reached through carriers only: the same number called by a device (or from
 * any address that is not a carrier's) is refused with 403 Access Number Only Via Carrier, before
 * any authentication, so that PIN-less login by caller ID can never be reached with a forged From.
 */
import type { Logger } from 'pino';
import { sendSipError } from '../sip-error.ts';
import type { SipMiddleware } from '../sip-types.ts';
import { inviteStep } from './invite-context.ts';

export function refuseAccessNumberOffCarrier(log: Logger): SipMiddleware {
  return inviteStep(log, (_req, res, context) => {
    if ((context.accessNumber || context.callbackNumber) && context.carrier === undefined) {
      sendSipError(res, 'ACCESS_NUMBER_VIA_CARRIER_ONLY');
      return false;
    }
    return true;
  });
}
