/**
 * A call from a carrier to a callback access number (CALLBACK_ACCESS_NUMBERS): never answered, so
 * the caller pays the carrier nothing. When the caller ID (P-Asserted-Identity, else From) is
 * registered to an account that has set a callback destination, a callback request (origin
 * 'caller-id') is queued to call that caller ID back and connect it to the destination; the SIP
 * app process that takes the request places it (CallbackCall). Otherwise nothing is queued:
 *
 *   callbacks off (CALLBACK_ENABLED)           403 Callback Unavailable
 *   caller ID withheld or not a number         403 Caller ID Required
 *   scheduled                                  486 Busy Here
 *   caller ID registered to no account         486 Busy Here   (logged)
 *   no callback destination set                486 Busy Here   (CDR `refused`, NO_CALLBACK_DESTINATION)
 *   over the hourly limits                     486 Busy Here   (CDR `refused`, CALLBACK_LIMIT)
 *   account closed / suspended, number refused 486 Busy Here   (CDR `refused`, the registry's code)
 *
 * One answer for every outcome that depends on whose caller ID it is (answerUniformly).
 * The request goes to the registered caller ID only: a caller presenting someone else's number
 * cannot choose where the call goes nor hear it; the per-account and per-number limits bound what
 * a spoofed caller ID can cost the owner.
 */
import type { Logger } from 'pino';
import type { CallbackRequest } from '../../accounts/callbacks.ts';
import type { Clock } from '../../common/clock.ts';
import { AppError } from '../../errors.ts';
import type { ErrorCode } from '../../errors.ts';
import type { CallControl } from '../call/call-control.ts';
import { PrepaidCall } from '../call/prepaid-call.ts';
import { clientAddress } from '../guards/client-address.ts';
import { callerIdentity } from '../ivr/caller-identity.ts';
import { sendSipError } from '../sip-error.ts';
import type { SipResponse } from '../sip-types.ts';
import type { CallType } from './call-type.ts';
import { required } from './invite-context.ts';
import type { InviteRequest } from './invite-context.ts';

export interface CallbackNumberPorts {
  /** Callbacks are placed at all (CALLBACK_ENABLED). */
  enabled: boolean;
  /** The account a caller ID is registered to. */
  accountOfCli(cli: string): Promise<number | undefined>;
  account(id: number): Promise<{ id: number; country: string; status: string; currency: string }>;
  /** The account's callback destination (E.164 digits), or null. */
  destination(accountId: number): Promise<string | null>;
  /** Screens, counts against the limits, stores and queues (CallbackRequests.request). */
  request(account: { id: number; country: string; status: string }, callMe: string, connectTo: string): Promise<CallbackRequest>;
  control: Pick<CallControl, 'refused' | 'settle'>;
  clock: Clock;
  log: Logger;
}

export function callbackNumberCallType(ports: CallbackNumberPorts): CallType & { readonly kind: 'callback-number' } {
  const refuseRecorded = async (
    req: InviteRequest,
    callId: string,
    account: { id: number; currency: string },
    cli: string,
    called: string,
    code: ErrorCode,
    detail?: string,
  ) => {
    const log = ports.log.child({ callId, accountId: account.id });
    const call = new PrepaidCall(
      {
        callId,
        accountId: account.id,
        kind: 'callback',
        cli,
        sourceIp: clientAddress(req),
        accessNumber: called,
        device: null,
        dialledNumber: called,
        currency: account.currency,
      },
      ports.clock.now(),
    );
    try {
      ports.control.refused(call, code, log, detail);
      await ports.control.settle(call, log);
    } catch (err) {
      log.error({ err: (err as Error).message, code }, 'recording a refused call failed');
    }
  };
  return {
    kind: 'callback-number',
    accept(req) {
      if (!ports.enabled) return Promise.resolve('CALLBACK_UNAVAILABLE');
      const id = callerIdentity((name) => req.get(name));
      if (id.withheld || id.cli === null) return Promise.resolve('CALLER_ID_REQUIRED');
      return Promise.resolve(undefined);
    },
    async route(req, res, context) {
      const callId = required(context.callId, 'Call-ID');
      const called = required(context.called, 'called number');
      const cli = required(callerIdentity((name) => req.get(name)).cli ?? undefined, 'caller ID');
      const accountId = await ports.accountOfCli(cli);
      if (accountId === undefined) {
        ports.log.info({ callId, code: 'CALLER_ID_NOT_REGISTERED' }, 'callback by call refused');
        answerUniformly(res);
        return;
      }
      const account = await ports.account(accountId);
      const destination = await ports.destination(accountId);
      let refusal: ErrorCode | undefined;
      let detail: string | undefined;
      if (destination === null) refusal = 'NO_CALLBACK_DESTINATION';
      else {
        try {
          const r = await ports.request(account, cli, `+${destination}`);
          ports.log.info({ callId, accountId, callback: r.id }, 'callback by call queued');
          answerUniformly(res);
          return;
        } catch (err) {
          if (!(err instanceof AppError)) throw err;
          refusal = err.code;
          detail = err.detail;
        }
      }
      answerUniformly(res);
      await refuseRecorded(req, callId, account, cli, called, refusal, detail);
    },
  };
}

/**
 * Whatever became of a call to a callback number from a presented caller ID — scheduled, caller ID
 * registered to nobody, no destination set, over a limit — the caller hears the same `486 Busy
 * Here`: a different answer would tell anyone presenting a caller ID (which a caller chooses)
 * whether it is some account's registered one, and so whether it opens PIN-less calls. The refused
 * call's CDR and the log say why; the customer sees the callback (or its absence) in self-care.
 */
function answerUniformly(res: SipResponse): void {
  sendSipError(res, 'CALLEE_BUSY');
}
