/** Hands the call to its call type, which carries it to its end: the last INVITE step. */
import type { Logger } from 'pino';
import type { SipMiddleware } from '../sip-types.ts';
import type { CallTypes } from './call-type.ts';
import { inviteStep, required } from './invite-context.ts';

export function routeCall(types: CallTypes, log: Logger): SipMiddleware {
  return inviteStep(log, async (req, res, context) => {
    await types[required(context.kind, 'call kind')].route(req, res, context);
    return false;
  });
}
