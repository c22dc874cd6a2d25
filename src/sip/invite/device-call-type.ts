/**
 * A call placed by a registered device (not from a carrier's address): digest-authenticated, then
 * either an on-net call to another subscriber or the outbound prepaid call (rate, reserve, route to
 * a carrier, supervise, settle).
 */
import { e164FromUser } from '../../accounts/e164.ts';
import type { Account } from '../../accounts/account-service.ts';
import { speedDialDialled } from '../../accounts/speed-dials.ts';
import type { InviteIdentity } from '../auth/authenticate-invite.ts';
import type { DidTarget } from '../call/did-call.ts';
import type { OnNetCall } from '../call/on-net-call.ts';
import type { OutboundCall } from '../call/outbound-call.ts';
import { sendSipError } from '../sip-error.ts';
import { userOf } from '../sip-uri.ts';
import type { CallType } from './call-type.ts';
import { required } from './invite-context.ts';
import type { InviteRequest, InviteResponse } from './invite-context.ts';
import { clientAddress } from '../guards/client-address.ts';

/** Another subscriber a device dialled, and how the caller's CDR names them. */
export interface OnNetCallee extends DidTarget {
  /** Their personal number (E.164 digits), or the SIP username or account number dialled. */
  destination: string;
}

export interface DeviceCallPorts {
  /** Digest authentication of the INVITE (authenticate-invite.ts). */
  authenticate(req: InviteRequest, res: InviteResponse): Promise<InviteIdentity | undefined>;
  /** The caller's account (cached for a few seconds). */
  account(accountId: number): Promise<Account>;
  outbound: Pick<OutboundCall, 'handle'>;
  /**
   * Speed dials: `prefix` (SPEED_DIAL_PREFIX, e.g. `*`) then 1–99 is the account's speed dial at
   * that position; `number` is what it stands for (E.164 digits), undefined when none is set.
   */
  speedDials?: { prefix: string; number(accountId: number, position: number): Promise<string | undefined> };
  /**
   * On-net calls: the subscriber `dialled` names (read with the caller's dialling plan; see
   * docs/architecture.md, "On-net calls", for the precedence of numbers, usernames and account
   * numbers), undefined when it is nobody. Such calls ring that subscriber's devices, never a
   * carrier, at the on-net rate; the callee sees the caller's personal number, else their username.
   */
  onNet?: {
    callee(dialled: string, account: Account): Promise<OnNetCallee | undefined>;
    personalNumberOf(accountId: number): Promise<string | undefined>;
    call: Pick<OnNetCall, 'handle'>;
  };
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
      // a speed dial is rated, routed and screened as the number it stands for; the CDR keeps what was dialled
      const position = ports.speedDials && speedDialDialled(dialled, ports.speedDials.prefix);
      let target = dialled;
      if (ports.speedDials && position !== undefined) {
        const number = await ports.speedDials.number(account.id, position);
        if (number === undefined) {
          sendSipError(res, 'UNKNOWN_SPEED_DIAL');
          return;
        }
        target = `+${number}`;
      }
      const callee = await ports.onNet?.callee(target, account);
      if (ports.onNet && callee) {
        const own = await ports.onNet.personalNumberOf(account.id);
        const { destination, ...target } = callee;
        await ports.onNet.call.handle(
          req,
          res,
          account,
          {
            callId: required(context.callId, 'Call-ID'),
            cli: own ?? id.username,
            sourceIp: clientAddress(req),
            device: id.username,
            dialled,
            destination,
          },
          target,
        );
        return;
      }
      await ports.outbound.handle(
        req,
        res,
        account,
        {
          callId: required(context.callId, 'Call-ID'),
          kind: 'device',
          cli: e164FromUser(req.callingNumber ?? '') ?? null,
          sourceIp: clientAddress(req),
          accessNumber: null,
          device: id.username,
          dialledNumber: dialled,
        },
        target,
        context.receivedAt,
      );
    },
  };
}
