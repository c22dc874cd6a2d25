/**
 * INVITE server transaction (RFC 3261 §17.2.1, with the Accepted state of RFC 6026 §7.1).
 *
 * `100 Trying` is sent on creation (drachtio-server sends it at once, before the app sees the
 * request). A retransmitted INVITE re-sends the last provisional the TU sent (§17.2.1); while
 * only the automatic 100 exists, retransmissions are absorbed silently, as the reference does.
 */
import { createResponse, type SipRequest, type SipResponse } from '../message/index.ts';
import { responseTarget, type SendResult, type SourceInfo, type Target, type TransportError } from '../transport/index.ts';
import { BaseTransaction } from './base-transaction.ts';
import type { TransactionContext } from './transaction-context.ts';
import { TransactionStateError } from './transaction-state-error.ts';
import type { ServerTransaction, TransactionUser } from './transaction-user.ts';

export enum IstState {
  Proceeding = 'Proceeding',
  Completed = 'Completed',
  Confirmed = 'Confirmed',
  Accepted = 'Accepted',
  Terminated = 'Terminated',
}

export type IstEvent = 'invite' | 'provisional' | 'success' | 'failure' | 'ack' | 'timerG' | 'timerH' | 'timerI' | 'timerL' | 'noFinal' | 'transportError';

/*
 *                                |INVITE: pass to TU, send 100 Trying
 *   INVITE: resend last 1xx      V
 *   from TU            +-----------------+   1xx from TU: send
 *            +---------|   Proceeding    |---------+
 *            +-------->|                 |<--------+
 *                      +-----------------+
 *       300-699 from TU |               | 2xx from TU: send
 *       send            |               |              (RFC 6026)
 *                       V               V
 *   INVITE: resend +-----------+   +-----------+  2xx from TU: send
 *   Timer G: resend|           |   |           |  INVITE: absorb
 *            +-----| Completed |   | Accepted  |  ACK: pass to TU
 *            +---->|           |   |           |
 *                  +-----------+   +-----------+
 *                   |ACK     |Timer H        | Timer L (64*T1)
 *                   V        |(inform TU)    |
 *   ACK, INVITE: +-----------+|              |
 *   absorb       | Confirmed ||              |
 *                +-----------+|              |
 *                   |Timer I  |              |
 *                   V         V              V
 *                  +-------------------------------+
 *                  |          Terminated           |<-- transport error (inform TU)
 *                  +-------------------------------+
 */
export function istTransition(state: IstState, event: IstEvent): IstState {
  switch (state) {
    case IstState.Proceeding:
      switch (event) {
        case 'invite':
        case 'provisional':
        case 'ack':
          return IstState.Proceeding;
        case 'success':
          return IstState.Accepted;
        case 'failure':
          return IstState.Completed;
        case 'noFinal':
        case 'transportError':
          return IstState.Terminated;
        default:
          break;
      }
      break;
    case IstState.Completed:
      switch (event) {
        case 'invite':
        case 'timerG':
          return IstState.Completed;
        case 'ack':
          return IstState.Confirmed;
        case 'timerH':
        case 'transportError':
          return IstState.Terminated;
        default:
          break;
      }
      break;
    case IstState.Confirmed:
      switch (event) {
        case 'invite':
        case 'ack':
          return IstState.Confirmed;
        case 'timerI':
        case 'transportError':
          return IstState.Terminated;
        default:
          break;
      }
      break;
    case IstState.Accepted:
      switch (event) {
        case 'invite':
        case 'ack':
        case 'success':
          return IstState.Accepted;
        case 'timerL':
        case 'transportError':
          return IstState.Terminated;
        default:
          break;
      }
      break;
    case IstState.Terminated:
      break;
  }
  throw new TransactionStateError('INVITE server transaction', state, event);
}

type IstTimer = 'G' | 'H' | 'I' | 'L' | 'NoFinal';

export class InviteServerTransaction extends BaseTransaction<IstState, IstTimer> implements ServerTransaction {
  readonly kind = 'ist' as const;
  readonly request: SipRequest;
  readonly source: SourceInfo;
  private last: SipResponse | undefined;
  /** Last provisional the TU sent (the automatic 100 is not re-sent). */
  private lastFromTu: SipResponse | undefined;
  private readonly target: Target;
  private readonly user: TransactionUser;
  private readonly reliable: boolean;
  private retransmitInterval: number;

  constructor(id: string, request: SipRequest, source: SourceInfo, ctx: TransactionContext, user: TransactionUser) {
    super(id, ctx, { initial: IstState.Proceeding, terminated: IstState.Terminated, server: true, transition: istTransition });
    this.request = request;
    this.source = source;
    this.user = user;
    this.reliable = source.protocol !== 'udp';
    this.target = responseTarget(request.topVia, source);
    this.retransmitInterval = ctx.timers.T1;
    this.timers.start('NoFinal', ctx.timers.serverNoFinal, () => this.onNoFinal());
    // §17.2.1: "the server transaction MUST generate a 100 (Trying) response unless it knows
    // that the TU will generate a provisional or final response within 200 ms"; drachtio-server
    // sends it immediately.
    if (ctx.autoTrying) {
      const trying = createResponse(request, 100);
      this.last = trying;
      void this.transmit(trying);
    }
  }

  get lastResponse(): SipResponse | undefined {
    return this.last;
  }

  get finalSent(): boolean {
    return this.last !== undefined && this.last.status >= 200;
  }

  /** A retransmitted INVITE. */
  receiveInvite(): void {
    if (this.terminated) return;
    const before = this.currentState;
    this.currentState = istTransition(before, 'invite');
    if (before === IstState.Proceeding && this.lastFromTu !== undefined) void this.transmit(this.lastFromTu);
    else if (before === IstState.Completed && this.last !== undefined) void this.transmit(this.last);
  }

  /** An ACK with this transaction's branch: absorbed, or (Accepted) passed to the TU. */
  receiveAck(ack: SipRequest, source: SourceInfo): void {
    if (this.terminated) return;
    const before = this.currentState;
    this.currentState = istTransition(before, 'ack');
    if (before === IstState.Completed) {
      this.timers.stop('G');
      this.timers.stop('H');
      // §17.2.1: "Timer I … T4 seconds for unreliable transports, and zero seconds for reliable transports."
      if (this.reliable) this.onTimerI();
      else this.timers.start('I', this.ctx.timers.I, () => this.onTimerI());
    } else if (before === IstState.Accepted) {
      this.user.onAck(ack, source, this);
    }
  }

  respond(response: SipResponse): Promise<SendResult> {
    const status = response.status;
    const event: IstEvent = status < 200 ? 'provisional' : status < 300 ? 'success' : 'failure';
    const before = this.currentState;
    this.currentState = istTransition(before, event);
    this.last = response;
    if (event === 'provisional') {
      this.lastFromTu = response;
    } else {
      this.timers.stop('NoFinal');
    }
    if (event === 'success' && before === IstState.Proceeding) {
      // RFC 6026 §7.1: "Timer L … 64*T1"; 2xx retransmissions are the TU's business.
      this.timers.start('L', this.ctx.timers.L, () => this.onTimerL());
    } else if (event === 'failure') {
      // §17.2.1: "For unreliable transports, timer G is set to fire in T1 seconds" and
      // "Timer H MUST be set to fire in 64*T1 seconds for all transports."
      if (!this.reliable) this.timers.start('G', this.retransmitInterval, () => this.onTimerG());
      this.timers.start('H', this.ctx.timers.H, () => this.onTimerH());
    }
    return this.transmit(response);
  }

  /** §17.2.1: "the response is passed to the transport … and Timer G is reset with min(2*T1, T2)". */
  private onTimerG(): void {
    if (this.currentState !== IstState.Completed || this.last === undefined) return;
    this.currentState = istTransition(this.currentState, 'timerG');
    void this.transmit(this.last);
    this.retransmitInterval = Math.min(2 * this.retransmitInterval, this.ctx.timers.T2);
    this.timers.start('G', this.retransmitInterval, () => this.onTimerG());
  }

  /** §17.2.1: Timer H fired in Completed: "the server transaction … SHOULD inform the TU that a failure has occurred". */
  private onTimerH(): void {
    if (this.terminated) return;
    this.currentState = istTransition(this.currentState, 'timerH');
    this.user.onServerTimeout(this, 'H');
    this.terminate();
  }

  private onTimerI(): void {
    if (this.terminated) return;
    this.currentState = istTransition(this.currentState, 'timerI');
    this.terminate();
  }

  private onTimerL(): void {
    if (this.terminated) return;
    this.currentState = istTransition(this.currentState, 'timerL');
    this.terminate();
  }

  private onNoFinal(): void {
    if (this.terminated) return;
    this.currentState = istTransition(this.currentState, 'noFinal');
    this.user.onServerTimeout(this, 'NoFinal');
    this.terminate();
  }

  private async transmit(response: SipResponse): Promise<SendResult> {
    const result = await this.ctx.send(response, this.target);
    if (!result.ok) this.onTransportError(result.error);
    return result;
  }

  protected override notifyTransportError(error: TransportError): void {
    // §17.2.4: a transport failure is reported to the TU and ends the transaction.
    this.user.onServerTransportError(this, error);
  }

  protected override notifyTerminated(): void {
    this.user.onServerTerminated(this);
  }
}
