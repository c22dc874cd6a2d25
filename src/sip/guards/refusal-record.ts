/**
 * A refusal by a guard outside the call flow (the account's calls-per-second limit) leaves the
 * same trace as one inside it (no credit, daily cap, blocklist…): a log line with the call and
 * account, a CDR `refused` with the SIP status and reason, and through the settled event the
 * refusal metric (softswitch_calls_refused_total{reason}). No money moves: the call reserved nothing.
 */
import type { Logger } from 'pino';
import { e164FromUser } from '../../accounts/e164.ts';
import type { Clock } from '../../common/clock.ts';
import type { ErrorCode } from '../../errors.ts';
import type { CallControl } from '../call/call-control.ts';
import { PrepaidCall } from '../call/prepaid-call.ts';
import type { InviteContext, InviteRequest } from '../invite/invite-context.ts';
import { userOf } from '../sip-uri.ts';
import { clientAddress } from './client-address.ts';

export interface RefusalRecordDeps {
  /** The caller's account currency (the CDR's). */
  currency(accountId: number): Promise<string | null>;
  control: Pick<CallControl, 'refused' | 'settle'>;
  clock: Clock;
  log: Logger;
}

export type RecordRefusal = (req: InviteRequest, context: InviteContext, code: ErrorCode, detail?: string) => Promise<void>;

/** Records a refusal of an authenticated caller's INVITE (the response is the caller's to send). */
export function refusalRecorder(deps: RefusalRecordDeps): RecordRefusal {
  return async (req, context, code, detail) => {
    const identity = context.identity;
    if (identity === undefined || context.callId === undefined) return;
    const log = deps.log.child({ callId: context.callId, accountId: identity.accountId });
    try {
      const call = new PrepaidCall(
        {
          callId: context.callId,
          accountId: identity.accountId,
          kind: 'device',
          cli: e164FromUser(req.callingNumber ?? '') ?? null,
          sourceIp: clientAddress(req),
          accessNumber: null,
          device: identity.username,
          dialledNumber: userOf(req.uri) ?? null,
          currency: await deps.currency(identity.accountId),
        },
        deps.clock.now(),
      );
      deps.control.refused(call, code, log, detail);
      await deps.control.settle(call, log);
    } catch (err) {
      log.error({ err: (err as Error).message, code }, 'recording a refused call failed');
    }
  };
}
