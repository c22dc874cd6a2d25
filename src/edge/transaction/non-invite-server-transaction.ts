/**
 * Non-INVITE server transaction (RFC 3261 §17.2.2).
 */
import type { SipRequest, SipResponse } from '../message/index.ts';
import { responseTarget, type SendResult, type SourceInfo, type Target, type TransportError } from '../transport/index.ts';
import { BaseTransaction } from './base-transaction.ts';
import type { TransactionContext } from './transaction-context.ts';
import { TransactionStateError } from './transaction-state-error.ts';
import type { ServerTransaction, TransactionUser } from './transaction-user.ts';

export enum NistState {
  Trying = 'Trying',
  Proceeding = 'Proceeding',
  Completed = 'Completed',
  Terminated = 'Terminated',
}

export type NistEvent = 'request' | 'provisional' | 'final' | 'timerJ' | 'noFinal' | 'transportError';

/*
 *                       | request received, pass to TU
 *                       V
 *                 +------------+  200-699 from TU, send
 *                 |   Trying   |-------------------------+
 *                 +------------+                         |
 *                       | 1xx from TU, send              |
 *                       V                                |
 *   request:      +------------+                         |
 *   resend 1xx +--| Proceeding |--+ 1xx from TU, send    |
 *              +->|            |<-+                      |
 *                 +------------+                         |
 *                       | 200-699 from TU, send          |
 *                       V                                |
 *   request:      +------------+                         |
 *   resend final+-| Completed  |<------------------------+
 *              +->|            |
 *                 +------------+
 *                       | Timer J (64*T1 UDP, 0 TCP)
 *                       V
 *                 +------------+   transport error (any state): inform TU
 *                 | Terminated |<-------------------------------------------
 *                 +------------+
 */
export function nistTransition(state: NistState, event: NistEvent): NistState {
  switch (state) {
    case NistState.Trying:
      if (event === 'request') return NistState.Trying;
      if (event === 'provisional') return NistState.Proceeding;
      if (event === 'final') return NistState.Completed;
      if (event === 'noFinal' || event === 'transportError') return NistState.Terminated;
      break;
    case NistState.Proceeding:
      if (event === 'request' || event === 'provisional') return NistState.Proceeding;
      if (event === 'final') return NistState.Completed;
      if (event === 'noFinal' || event === 'transportError') return NistState.Terminated;
      break;
    case NistState.Completed:
      if (event === 'request') return NistState.Completed;
      if (event === 'timerJ' || event === 'transportError') return NistState.Terminated;
      break;
    case NistState.Terminated:
      break;
  }
  throw new TransactionStateError('non-INVITE server transaction', state, event);
}

type NistTimer = 'J' | 'NoFinal';

export class NonInviteServerTransaction extends BaseTransaction<NistState, NistTimer> implements ServerTransaction {
  readonly kind = 'nist' as const;
  readonly request: SipRequest;
  readonly source: SourceInfo;
  private last: SipResponse | undefined;
  private readonly target: Target;
  private readonly user: TransactionUser;

  constructor(id: string, request: SipRequest, source: SourceInfo, ctx: TransactionContext, user: TransactionUser) {
    super(id, ctx, { initial: NistState.Trying, terminated: NistState.Terminated, server: true, transition: nistTransition });
    this.request = request;
    this.source = source;
    this.user = user;
    this.target = responseTarget(request.topVia, source);
    this.timers.start('NoFinal', ctx.timers.serverNoFinal, () => this.onNoFinal());
  }

  get lastResponse(): SipResponse | undefined {
    return this.last;
  }

  get finalSent(): boolean {
    return this.currentState === NistState.Completed || (this.last !== undefined && this.last.status >= 200);
  }

  /** A retransmission of the request (§17.2.2: resend the last response, if any). */
  receiveRequest(): void {
    if (this.terminated) return;
    this.currentState = nistTransition(this.currentState, 'request');
    if (this.last !== undefined) void this.transmit(this.last);
  }

  respond(response: SipResponse): Promise<SendResult> {
    const final = response.status >= 200;
    this.currentState = nistTransition(this.currentState, final ? 'final' : 'provisional');
    this.last = response;
    if (final) {
      this.timers.stop('NoFinal');
      // §17.2.2: "Timer J … 64*T1 seconds for unreliable transports, and zero seconds for reliable transports."
      if (this.source.protocol === 'udp') this.timers.start('J', this.ctx.timers.J, () => this.onTimerJ());
    }
    const sent = this.transmit(response);
    if (final && this.source.protocol !== 'udp') void sent.then(() => this.onTimerJ());
    return sent;
  }

  private async transmit(response: SipResponse): Promise<SendResult> {
    const result = await this.ctx.send(response, this.target);
    if (!result.ok) this.onTransportError(result.error);
    return result;
  }

  private onTimerJ(): void {
    if (this.terminated) return;
    this.currentState = nistTransition(this.currentState, 'timerJ');
    this.terminate();
  }

  private onNoFinal(): void {
    if (this.terminated) return;
    this.currentState = nistTransition(this.currentState, 'noFinal');
    this.user.onServerTimeout(this, 'NoFinal');
    this.terminate();
  }

  protected override notifyTransportError(error: TransportError): void {
    // §17.2.4: inform the TU of a transport failure; the transaction ends.
    this.user.onServerTransportError(this, error);
  }

  protected override notifyTerminated(): void {
    this.user.onServerTerminated(this);
  }
}
