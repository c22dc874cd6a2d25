/**
 * A call from a carrier to an access number: answered by the media server and run through the
 * IVR (PIN or caller-ID login, destination, balance) to the outbound call. Without a media
 * server, 503 No Media Server.
 */
import type { AccessCallFacts } from '../ivr/access-number-call.ts';
import { callerIdentity } from '../ivr/caller-identity.ts';
import type { CallType } from './call-type.ts';
import { required } from './invite-context.ts';
import type { InviteRequest, InviteResponse } from './invite-context.ts';
import { clientAddress } from '../guards/client-address.ts';

export interface AccessNumberPorts {
  /** The IVR (undefined when no media server is configured). */
  ivr: { handle(req: InviteRequest, res: InviteResponse, facts: AccessCallFacts): Promise<void> } | undefined;
}

export function accessNumberCallType(ports: AccessNumberPorts): CallType & { readonly kind: 'access-number' } {
  return {
    kind: 'access-number',
    accept: () => Promise.resolve(ports.ivr ? undefined : 'NO_MEDIA_SERVER'),
    async route(req, res, context) {
      const access = required(context.accessNumber, 'access number');
      await required(ports.ivr, 'media server').handle(req, res, {
        callId: required(context.callId, 'Call-ID'),
        accessNumber: access.number,
        language: access.language,
        sourceIp: clientAddress(req),
        carrierId: required(context.carrier, 'carrier'),
        identity: callerIdentity((name) => req.get(name)),
      });
    },
  };
}
