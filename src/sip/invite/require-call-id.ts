/** Refuses an INVITE without a usable Call-ID (400 Bad Call-ID): every call is keyed by it. */
import type { Logger } from 'pino';
import { callIdOf } from '../sip-types.ts';
import { sendSipError } from '../sip-error.ts';
import type { SipMiddleware } from '../sip-types.ts';
import { inviteStep } from './invite-context.ts';

export function requireCallId(log: Logger): SipMiddleware {
  return inviteStep(log, (req, res, context) => {
    const callId = callIdOf(req);
    if (!callId) {
      sendSipError(res, 'BAD_CALL_ID');
      return false;
    }
    context.callId = callId;
    return true;
  });
}
