/** The call type's own refusals (503 No Media Server, 404 Number Not Found), before the call is counted. */
import type { Logger } from 'pino';
import { sendSipError } from '../sip-error.ts';
import type { SipMiddleware } from '../sip-types.ts';
import type { CallTypes } from './call-type.ts';
import { inviteStep, required } from './invite-context.ts';

export function acceptCall(types: CallTypes, log: Logger): SipMiddleware {
  return inviteStep(log, async (req, res, context) => {
    const refusal = await types[required(context.kind, 'call kind')].accept(req, context);
    if (refusal !== undefined) {
      sendSipError(res, refusal);
      return false;
    }
    return true;
  });
}
