/**
 * Non-INVITE client transaction (RFC 3261 §17.1.2).
 */
import type { SipRequest, SipResponse } from '../message/index.ts';
import type { SendResult, SourceInfo, Target, TransportError } from '../transport/index.ts';
import { BaseTransaction } from './base-transaction.ts';
import type { TransactionContext } from './transaction-context.ts';
import { TransactionStateError } from './transaction-state-error.ts';
import type { ClientTransaction, ClientTransactionUser } from './transaction-user.ts';

export enum NictState {
  Trying = 'Trying',
  Proceeding = 'Proceeding',
  Completed = 'Completed',
  Terminated = 'Terminated',
}

export type NictEvent = 'provisional' | 'final' | 'timerE' | 'timerF' | 'timerK' | 'transportError';

/*
 *                           | request from TU, send request
 *      Timer E              V       Timer F (64*T1): inform TU
 *      send request   +-----------+-----------------------------+
 *            +--------|  Trying   |                             |
 *            +------->|           |---------------+             |
 *                     +-----------+ 200-699:      |             |
 *                           | 1xx: pass to TU     | pass to TU  |
 *                           V                     |             |
 *      Timer E        +-----------+               |             |
 *      send request   |           | Timer F       |             |
 *            +--------| Proceeding |-------------(+)------------+
 *            +------->|           |  inform TU    |             |
 *      1xx: pass      +-----------+               |             |
 *                           | 200-699: pass to TU |             |
 *                           V                     |             |
 *                     +-----------+<--------------+             |
 *      200-699:       |           |                             |
 *      absorb  +------| Completed |                             |
 *              +----->|           |                             |
 *                     +-----------+                             |
 *                           | Timer K (T4 UDP, 0 TCP)           |
 *                           V                                   |
 *                     +-----------+                             |
 *                     | Terminated|<----------------------------+ (and transport error)
 *                     +-----------+
 */
export function nictTransition(state: NictState, event: NictEvent): NictState {
  switch (state) {
    case NictState.Trying:
      if (event === 'timerE') return NictState.Trying;
      if (event === 'provisional') return NictState.Proceeding;
      if (event === 'final') return NictState.Completed;
      if (event === 'timerF' || event === 'transportError') return NictState.Terminated;
      break;
    case NictState.Proceeding:
      if (event === 'timerE' || event === 'provisional') return NictState.Proceeding;
      if (event === 'final') return NictState.Completed;
      if (event === 'timerF' || event === 'transportError') return NictState.Terminated;
      break;
    case NictState.Completed:
      if (event === 'final' || event === 'provisional') return NictState.Completed;
      if (event === 'timerK') return NictState.Terminated;
      break;
    case NictState.Terminated:
      break;
  }
  throw new TransactionStateError('non-INVITE client transaction', state, event);
}

type NictTimer = 'E' | 'F' | 'K';

export class NonInviteClientTransaction extends BaseTransaction<NictState, NictTimer> implements ClientTransaction {
  readonly kind = 'nict' as const;
  readonly request: SipRequest;
  readonly target: Target;
  readonly branch: string;
  readonly sent: Promise<SendResult>;
  private readonly user: ClientTransactionUser;
  private readonly reliable: boolean;
  private retransmitInterval: number;

  constructor(id: string, branch: string, request: SipRequest, target: Target, ctx: TransactionContext, user: ClientTransactionUser) {
    super(id, ctx, { initial: NictState.Trying, terminated: NictState.Terminated, server: false, transition: nictTransition });
    this.branch = branch;
    this.request = request;
    this.target = target;
    this.user = user;
    this.reliable = target.protocol !== 'udp';
    this.retransmitInterval = ctx.timers.T1;
    // §17.1.2.2: "If an unreliable transport is in use, the client transaction MUST set timer E
    // to fire in T1 seconds." "the client transaction MUST set timer F to fire in 64*T1 seconds."
    if (!this.reliable) this.timers.start('E', this.retransmitInterval, () => this.onTimerE());
    this.timers.start('F', ctx.timers.F, () => this.onTimerF());
    this.sent = this.transmit();
  }

  receiveResponse(response: SipResponse, source: SourceInfo): void {
    if (this.terminated) return;
    const before = this.currentState;
    const final = response.status >= 200;
    this.currentState = nictTransition(before, final ? 'final' : 'provisional');
    if (before === NictState.Completed) return; // retransmission: absorbed
    if (final) {
      this.timers.stop('E');
      this.timers.stop('F');
      // §17.1.2.2: "Timer K … T4 seconds for unreliable transports, and zero seconds for reliable transports."
      if (!this.reliable) this.timers.start('K', this.ctx.timers.K, () => this.onTimerK());
    }
    this.user.onResponse(response, this, source);
    if (final && this.reliable) this.onTimerK();
  }

  /**
   * §17.1.2.2: in Trying, Timer E is reset with min(2*E, T2); in Proceeding "the timer is reset
   * with a value of T2 seconds".
   */
  private onTimerE(): void {
    if (this.currentState !== NictState.Trying && this.currentState !== NictState.Proceeding) return;
    this.currentState = nictTransition(this.currentState, 'timerE');
    void this.transmit();
    this.retransmitInterval = this.currentState === NictState.Proceeding ? this.ctx.timers.T2 : Math.min(2 * this.retransmitInterval, this.ctx.timers.T2);
    this.timers.start('E', this.retransmitInterval, () => this.onTimerE());
  }

  /** §17.1.2.2: "If Timer F fires while in the Trying state, the client transaction SHOULD inform the TU about the timeout". */
  private onTimerF(): void {
    if (this.terminated) return;
    this.currentState = nictTransition(this.currentState, 'timerF');
    this.timers.clear();
    this.user.onTimeout(this, 'F');
    this.terminate();
  }

  private onTimerK(): void {
    if (this.terminated) return;
    this.currentState = nictTransition(this.currentState, 'timerK');
    this.terminate();
  }

  private async transmit(): Promise<SendResult> {
    const result = await this.ctx.send(this.request, this.target);
    if (!result.ok) this.onTransportError(result.error);
    return result;
  }

  /**
   * §17.1.4: a transport failure is reported to the TU (which treats it as 503) and ends the transaction;
   * once a final response is in (Completed), it is ignored.
   */
  protected override transportErrorApplies(): boolean {
    return !this.terminated && this.currentState !== NictState.Completed;
  }

  protected override notifyTransportError(error: TransportError): void {
    this.user.onTransportError(this, error);
  }

  protected override notifyTerminated(): void {
    this.user.onTerminated?.(this);
  }
}
