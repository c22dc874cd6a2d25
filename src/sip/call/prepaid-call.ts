import type { CdrRecord } from '../../billing/balance/balance-store.ts';
import type { Rate } from '../../billing/rating/index.ts';

/**
 * The life of one prepaid call, written down as a state machine:
 *
 *   authorising ──▶ reserved ──▶ ringing ──▶ answered ──▶ settling ──▶ settled
 *        │             │            │  ▲          (BYE, cut)    ▲
 *        │             │            └──┘ failover              │
 *        └─────────────┴────────────┴──── refused / failed / CANCEL ┘
 *
 * `settle` can only happen once: the first caller takes the call to `settling`; any later one
 * finds it there and does nothing (the Redis script is idempotent as well, across processes).
 */
export enum CallState {
  Authorising = 'authorising',
  Reserved = 'reserved',
  Ringing = 'ringing',
  Answered = 'answered',
  Settling = 'settling',
  Settled = 'settled',
}

const NEXT: Record<CallState, readonly CallState[]> = {
  [CallState.Authorising]: [CallState.Reserved, CallState.Settling],
  [CallState.Reserved]: [CallState.Ringing, CallState.Settling],
  [CallState.Ringing]: [CallState.Ringing, CallState.Answered, CallState.Settling],
  [CallState.Answered]: [CallState.Settling],
  [CallState.Settling]: [CallState.Settled],
  [CallState.Settled]: [],
};

export class IllegalCallTransition extends Error {}

export interface CallFacts {
  callId: string;
  accountId: number;
  kind: CdrRecord['kind'];
  cli: string | null;
  sourceIp: string | null;
  accessNumber: string | null;
  device: string | null;
  dialledNumber: string | null;
  currency: string | null;
}

export class PrepaidCall {
  state = CallState.Authorising;
  readonly startTime: number;
  answerTime: number | null = null;
  endTime: number | null = null;
  destination: string | null = null;
  rate: Rate | null = null;
  carrier: string | null = null;
  sipCode: number | null = null;
  sipReason: string | null = null;
  disposition = 'failed';
  /** The device that answered, when it is known only at answer (personal-number calls fork to several). */
  answeredBy: string | null = null;

  constructor(
    readonly facts: CallFacts,
    now: number,
  ) {
    this.startTime = now;
  }

  to(next: CallState): void {
    if (!NEXT[this.state].includes(next)) throw new IllegalCallTransition(`call ${this.facts.callId}: ${this.state} → ${next}`);
    this.state = next;
  }

  /** Moves to settling if nobody has yet; true for the one caller that should settle. */
  beginSettling(now: number): boolean {
    if (this.state === CallState.Settling || this.state === CallState.Settled) return false;
    this.to(CallState.Settling);
    this.endTime = now;
    return true;
  }

  /** The CDR fields the rating leaves to the settle step (billed seconds, cost, rate). */
  cdr(): Omit<CdrRecord, 'billedSeconds' | 'cost' | 'ratePrefix' | 'pricePerMinute'> {
    const end = this.endTime ?? this.startTime;
    return {
      ...this.facts,
      device: this.facts.device ?? this.answeredBy,
      destination: this.destination,
      startTime: this.startTime,
      answerTime: this.answerTime,
      endTime: end,
      durationMs: this.answerTime === null ? 0 : Math.max(0, end - this.answerTime),
      disposition: this.disposition,
      sipCode: this.sipCode,
      sipReason: this.sipReason,
      carrier: this.carrier,
    };
  }
}
