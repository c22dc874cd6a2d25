import type { Logger } from 'pino';
import type { Account } from '../../accounts/account-service.ts';
import type { Rate } from '../../billing/rating/index.ts';
import { realClock } from '../../common/clock.ts';
import type { Clock } from '../../common/clock.ts';
import type { CallControl } from './call-control.ts';
import type { DidCall, DidTarget } from './did-call.ts';
import type { B2bRequest, B2bResponse } from './outbound-call.ts';
import { CallState, PrepaidCall } from './prepaid-call.ts';

/** What the CDRs and the caller ID of an on-net call are made of. */
export interface OnNetCallFacts {
  callId: string;
  /** The caller's caller ID: their personal number, else their SIP username. */
  cli: string;
  sourceIp: string | null;
  /** The caller's device (SIP username). */
  device: string;
  /** As the caller dialled it. */
  dialled: string;
  /** The callee as the caller's CDR names them: their personal number (E.164 digits), SIP username or account number. */
  destination: string;
}

export interface OnNetCallDeps {
  control: Pick<CallControl, 'authoriseOnNet' | 'refused' | 'supervise' | 'settle'>;
  did: Pick<DidCall, 'handle'>;
  /** The on-net rate (ON_NET_PRICE_PER_MINUTE, ON_NET_INCREMENT_SECONDS; free by default). */
  rate: Rate;
  log: Logger;
  clock?: Clock;
  /** Warn the caller's device before a cut for lack of credit with an in-dialog MESSAGE (DEVICE_CREDIT_WARNING=message). */
  warnByMessage?: boolean;
}

/** The prefix on-net CDRs carry as their rate's: no country code starts with 0, so no tariff's rate has it. */
export const ON_NET_RATE_PREFIX = '0';

/** The rate on-net calls are charged at: one price per minute, billed in equal increments, no fee. */
export function onNetRate(pricePerMinute: number, incrementSeconds: number): Rate {
  return {
    prefix: ON_NET_RATE_PREFIX,
    description: 'on-net',
    pricePerMinute,
    connectionFee: 0,
    minimumSeconds: 0,
    initialIncrement: incrementSeconds,
    subsequentIncrement: incrementSeconds,
    effectiveFrom: new Date(0),
    effectiveUntil: null,
    connectionFeePolicy: 'answered',
  };
}

/**
 * A call from a subscriber's device to another subscriber (by personal number, SIP username or
 * account number): the callee's registered devices ring directly, never a carrier (DidCall, which
 * writes the callee's CDR as for a call to their personal number), and the caller pays the on-net
 * rate through the normal credit path: authorised and reserved before anything rings, supervised
 * (extended, cut at exhaustion) once answered, settled exactly once with the caller's CDR.
 */
export class OnNetCall {
  private readonly clock: Clock;

  constructor(private readonly deps: OnNetCallDeps) {
    this.clock = deps.clock ?? realClock;
  }

  async handle(req: B2bRequest, res: B2bResponse, account: Account, facts: OnNetCallFacts, callee: DidTarget): Promise<void> {
    const { control, rate } = this.deps;
    const log = this.deps.log.child({ callId: facts.callId, accountId: account.id });
    const call = new PrepaidCall(
      {
        callId: facts.callId,
        accountId: account.id,
        kind: 'device',
        cli: facts.cli,
        sourceIp: facts.sourceIp,
        accessNumber: null,
        device: facts.device,
        dialledNumber: facts.dialled,
        currency: account.currency,
      },
      this.clock.now(),
    );
    call.destination = facts.destination;
    call.carrier = 'on-net';
    const auth = await control.authoriseOnNet(call, account, rate, log);
    if (!auth.ok) {
      const [status, reason] = control.refused(call, auth.code, log, auth.detail);
      res.send(status, reason);
      return control.settle(call, log);
    }
    call.to(CallState.Ringing);
    await this.deps.did.handle(
      req,
      res,
      callee,
      { callId: facts.callId, cli: facts.cli, sourceIp: facts.sourceIp, carrier: null, startedAfter: call.startTime },
      {
        answered: (device, legs) => {
          call.to(CallState.Answered);
          call.answerTime = this.clock.now();
          call.sipCode = 200;
          call.sipReason = 'OK';
          call.disposition = 'answered';
          // the caller's CDR names its own device; the one that answered is where the call was carried
          call.carrier = device === null ? 'on-net' : `on-net:${device}`;
          log.info({ device }, 'on-net call answered');
          // the warning before a cut goes to the caller's device as a MESSAGE, unless that is turned off
          const supervised = this.deps.warnByMessage ? legs : { hangUp: legs.hangUp, stillUp: legs.stillUp, ...(legs.state ? { state: legs.state } : {}) };
          const supervision = control.supervise(call, auth.rate, auth.coveredSeconds, supervised, log);
          // after the current step: a cut by the caller's own supervision settles first, at its planned second
          return { end: (disposition) => queueMicrotask(() => void supervision.end(disposition)) };
        },
        unanswered: async (o) => {
          call.sipCode = o.sipCode;
          call.sipReason = o.sipReason;
          call.disposition = o.disposition;
          await control.settle(call, log);
        },
      },
    );
  }
}
