/**
 * Authenticates the caller when the call type needs it (device calls: digest, 407 with
 * Proxy-Authenticate, 403 counted as an authentication failure, 400 for malformed credentials).
 */
import type { Logger } from 'pino';
import type { SipMiddleware } from '../sip-types.ts';
import type { CallTypes } from './call-type.ts';
import { inviteStep, required } from './invite-context.ts';

export function authenticateCaller(types: CallTypes, log: Logger): SipMiddleware {
  return inviteStep(log, async (req, res, context) => {
    const type = types[required(context.kind, 'call kind')];
    if (!type.authenticate) return true;
    const identity = await type.authenticate(req, res);
    if (!identity) return false;
    context.identity = identity;
    return true;
  });
}
