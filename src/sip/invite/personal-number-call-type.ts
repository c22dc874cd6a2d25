/**
 * A call from a carrier to a customer's personal number (DID): forked to the owner's registered
 * devices. A number nobody owns: 404 Number Not Found.
 */
import type { DidCall } from '../call/did-call.ts';
import { callerIdentity } from '../ivr/caller-identity.ts';
import type { CallerIdentity } from '../ivr/caller-identity.ts';
import type { CallType } from './call-type.ts';
import { required } from './invite-context.ts';
import { clientAddress } from '../guards/client-address.ts';

export interface PersonalNumberPorts {
  /** The owner of a personal number, if it is one. */
  personalNumber(e164: string): Promise<{ accountId: number; sipUsername: string | null } | undefined>;
  did: Pick<DidCall, 'handle'>;
}

/** The caller ID the subscriber's device and CDR get: none when the caller withheld it (RFC 3323). */
function presentedCli(id: CallerIdentity): string | null {
  return id.withheld ? null : id.cli;
}

export function personalNumberCallType(ports: PersonalNumberPorts): CallType & { readonly kind: 'personal-number' } {
  return {
    kind: 'personal-number',
    async accept(_req, context) {
      const number = context.called;
      const owner = number === undefined ? undefined : await ports.personalNumber(number);
      if (!number || !owner) return 'NUMBER_NOT_FOUND';
      context.personalNumber = { number, ...owner };
      return undefined;
    },
    async route(req, res, context) {
      await ports.did.handle(req, res, required(context.personalNumber, 'personal number'), {
        callId: required(context.callId, 'Call-ID'),
        cli: presentedCli(callerIdentity((name) => req.get(name))),
        sourceIp: clientAddress(req),
        carrier: required(context.carrier, 'carrier'),
      });
    },
  };
}
