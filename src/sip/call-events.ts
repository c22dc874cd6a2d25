import type { GatewayAttempt } from './call/call-control.ts';
import type { PrepaidCall } from './call/prepaid-call.ts';
import type { IvrState } from './ivr/ivr-state.ts';
import type { PinBudgetName } from './ivr/pin-budget.ts';

/** Observers of call progress (metrics, tests); every one optional. */
export interface CallEvents {
  answered?(call: PrepaidCall): void;
  settled?(call: PrepaidCall, result: unknown): void;
  /** An outbound INVITE was handed to the SIP server `sinceInviteMs` after the caller's INVITE reached the app. */
  bLegSent?(call: PrepaidCall, sinceInviteMs: number): void;
  /** An access-number caller's IVR entered a state. */
  ivrState?(callId: string, state: IvrState): void;
  /** A gateway attempt ended (per-gateway ASR, post-dial delay, failures by status). */
  gatewayAttempt?(e: GatewayAttempt): void;
  /** A call answered by a gateway ended after `seconds` (per-gateway ACD). */
  gatewayCallEnded?(e: { gatewayId: number; carrierId: string; seconds: number }): void;
  /** A new INVITE reached the app (calls per second). */
  invite?(): void;
  /** A SIP digest authentication failed (wrong password or unknown user). */
  authFailure?(): void;
  /** A wrong PIN was keyed at an access number. */
  wrongPin?(e: { callId: string; accessNumber: string; sourceIp: string }): void;
  /** A wrong-PIN budget (per access number or per carrier source) has just been spent: the alert. */
  pinBudgetExhausted?(e: { budget: PinBudgetName; accessNumber: string; sourceIp: string }): void;
  /** A caller was refused PIN login because a wrong-PIN budget is spent. */
  pinBudgetRefusal?(e: { budget: PinBudgetName; accessNumber: string; sourceIp: string }): void;
  /** A call's recording was stored, or could not be made or stored (the call went on). */
  recording?(e: { callId: string; outcome: 'stored' | 'failed'; cause?: string }): void;
}
