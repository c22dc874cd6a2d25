/**
 * A call placed by a registered device (not from a carrier's address): digest-authenticated, then
 * the outbound prepaid call (rate, reserve, route to a carrier, supervise, settle).
 */
import { e164FromUser } from '../../accounts/e164.ts';
import type { Account } from '../../accounts/account-service.ts';
import type { InviteIdentity } from '../auth/authenticate-invite.ts';
import type { OutboundCall } from '../call/outbound-call.ts';
import { sendSipError } from '../sip-error.ts';
import { userOf } from '../sip-uri.ts';
import type { CallType } from './call-type.ts';
import { required } from './invite-context.ts';
import type { InviteRequest, InviteResponse } from './invite-context.ts';

export interface DeviceCallPorts {
  /** Digest authentication of the INVITE (authenticate-invite.ts). */
  authenticate(req: InviteRequest, res: InviteResponse): Promise<InviteIdentity | undefined>;
  /** The caller's account (cached for a few seconds). */
  account(accountId: number): Promise<Account>;
  outbound: Pick<OutboundCall, 'handle'>;
}

export function deviceCallType(ports: DeviceCallPorts): CallType & { readonly kind: 'device' } {
  return {
    kind: 'device',
    accept: () => Promise.resolve(undefined),
    authenticate: (req, res) => ports.authenticate(req, res),
    async route(req, res, context) {
      const id = required(context.identity, 'caller identity');
      const dialled = userOf(req.uri);
      if (!dialled) {
        sendSipError(res, 'BAD_REQUEST_URI');
        return;
      }
      const account = await ports.account(id.accountId);
      await ports.outbound.handle(
        req,
        res,
        account,
        {
          callId: required(context.callId, 'Call-ID'),
          kind: 'device',
          cli: e164FromUser(req.callingNumber ?? '') ?? null,
          sourceIp: req.source_address,
          accessNumber: null,
          device: id.username,
          dialledNumber: dialled,
        },
        dialled,
        context.receivedAt,
      );
    },
  };
}
