/**
 * A call placed by a registered device (not from a carrier's address): digest-authenticated, then
 * the outbound prepaid call (rate, reserve, route to a carrier, supervise, settle).
 */
import { e164FromUser } from '../../accounts/e164.ts';
import type { Account } from '../../accounts/account-service.ts';
import { speedDialDialled } from '../../accounts/speed-dials.ts';
import type { InviteIdentity } from '../auth/authenticate-invite.ts';
import type { DidCall } from '../call/did-call.ts';
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
  /**
   * Speed dials: `prefix` (SPEED_DIAL_PREFIX, e.g. `*`) then 1–99 is the account's speed dial at
   * that position; `number` is what it stands for (E.164 digits), undefined when none is set.
   */
  speedDials?: { prefix: string; number(accountId: number, position: number): Promise<string | undefined> };
  /**
   * On-net calls: the subscriber whose personal number `dialled` is (read with the caller's
   * dialling plan), with the caller's own personal number for the caller ID; undefined when it is
   * nobody's. Such calls ring that subscriber's devices (`did`), never a carrier, and are free.
   */
  onNet?: {
    callee(dialled: string, account: Account): Promise<{ number: string; accountId: number; sipUsername: string | null } | undefined>;
    personalNumberOf(accountId: number): Promise<string | undefined>;
    did: Pick<DidCall, 'handle'>;
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
        await ports.onNet.did.handle(req, res, callee, {
          callId: required(context.callId, 'Call-ID'),
          cli: own ?? e164FromUser(req.callingNumber ?? '') ?? null,
          sourceIp: req.source_address,
          carrier: null,
        });
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
          sourceIp: req.source_address,
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
