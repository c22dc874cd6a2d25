/**
 * INVITE client transaction (RFC 3261 §17.1.1, with the Accepted state of RFC 6026 §7.2),
 * plus Timer C (§16.6 step 11), which the reference stack applies to UAC INVITEs too.
 *
 * The ACK for a non-2xx final response is built and sent here (§17.1.1.3), to the same
 * target as the INVITE; the ACK for a 2xx is the TU's (dialog layer's) business.
 */
import { createAckForNon2xx, type SipRequest, type SipResponse } from '../message/index.ts';
import type { SendResult, SourceInfo, Target, TransportError } from '../transport/index.ts';
import { BaseTransaction } from './base-transaction.ts';
import type { TransactionContext } from './transaction-context.ts';
import { TransactionStateError } from './transaction-state-error.ts';
import type { ClientTransaction, ClientTransactionUser } from './transaction-user.ts';

export enum IctState {
  Calling = 'Calling',
  Proceeding = 'Proceeding',
  Completed = 'Completed',
  Accepted = 'Accepted',
  Terminated = 'Terminated',
}

export type IctEvent = 'provisional' | 'success' | 'failure' | 'timerA' | 'timerB' | 'timerC' | 'timerD' | 'timerM' | 'transportError';

/*
 *                              | INVITE from TU, send INVITE
 *            Timer A           V          Timer B (64*T1): inform TU
 *            send INVITE +-----------+------------------------------+
 *               +--------|  Calling  |                              |
 *               +------->|           |-----------+                  |
 *  300-699: send ACK,    +-----------+ 2xx:      |                  |
 *  pass to TU  +-------------| |       pass to TU|                  |
 *              |   1xx: pass | |                 |                  |
 *              |             V |                 |                  |
 *              |     +------------+  Timer C: inform TU, guard 64*T1|
 *              |     | Proceeding |-----------------------------(+)-+
 *              |     |  1xx: pass |--------------+                  |
 *              |     +------------+ 2xx: pass    |                  |
 *              |  300-699: | send ACK, pass      |                  |
 *              V           V                     V                  |
 *  300-699:  +-----------+               +------------+  2xx: pass  |
 *  send ACK  |           |               |            |  (re-ACK is |
 *     +------| Completed |               |  Accepted  |-+ the TU's) |
 *     +----->|           |               |            |<+           |
 *            +-----------+               +------------+             |
 *              | Timer D (32 s UDP, 0 TCP)  | Timer M (64*T1)       |
 *              V                            V                       |
 *            +------------------------------------+                 |
 *            |              Terminated            |<----------------+ (and transport error)
 *            +------------------------------------+
 */
export function ictTransition(state: IctState, event: IctEvent): IctState {
  switch (state) {
    case IctState.Calling:
      switch (event) {
        case 'timerA':
          return IctState.Calling;
        case 'provisional':
          return IctState.Proceeding;
        case 'success':
          return IctState.Accepted;
        case 'failure':
          return IctState.Completed;
        case 'timerB':
        case 'transportError':
          return IctState.Terminated;
        default:
          break;
      }
      break;
    case IctState.Proceeding:
      switch (event) {
        case 'provisional':
        case 'timerC':
          return IctState.Proceeding;
        case 'success':
          return IctState.Accepted;
        case 'failure':
          return IctState.Completed;
        case 'timerB':
        case 'transportError':
          return IctState.Terminated;
        default:
          break;
      }
      break;
    case IctState.Completed:
      switch (event) {
        case 'failure':
        case 'provisional':
        case 'success':
          return IctState.Completed;
        case 'timerD':
        case 'transportError':
          return IctState.Terminated;
        default:
          break;
      }
      break;
    case IctState.Accepted:
      switch (event) {
        case 'success':
        case 'provisional':
        case 'failure':
          return IctState.Accepted;
        case 'timerM':
          return IctState.Terminated;
        default:
          break;
      }
      break;
    case IctState.Terminated:
      break;
  }
  throw new TransactionStateError('INVITE client transaction', state, event);
}

type IctTimer = 'A' | 'B' | 'C' | 'D' | 'M' | 'P';

export class InviteClientTransaction extends BaseTransaction<IctState, IctTimer> implements ClientTransaction {
  readonly kind = 'ict' as const;
  readonly request: SipRequest;
  readonly target: Target;
  readonly branch: string;
  readonly sent: Promise<SendResult>;
  private readonly user: ClientTransactionUser;
  private readonly reliable: boolean;
  private retransmitInterval: number;
  private ack: SipRequest | undefined;
  private timedOut = false;

  /**
   * `provisionalTimeoutMs` (not in RFC 3261; a proxy's `fr_timer`): when no response at all, not
   * even 100 Trying, arrives this long after the INVITE, the TU is told (timer `P`, it answers 408),
   * retransmissions stop, and the transaction stays until Timer B only to absorb a late response
   * (no CANCEL is owed without a provisional, RFC 3261 §9.1). 0 or absent: off.
   */
  constructor(id: string, branch: string, request: SipRequest, target: Target, ctx: TransactionContext, user: ClientTransactionUser, provisionalTimeoutMs = 0) {
    super(id, ctx, { initial: IctState.Calling, terminated: IctState.Terminated, server: false, transition: ictTransition });
    this.branch = branch;
    this.request = request;
    this.target = target;
    this.user = user;
    this.reliable = target.protocol !== 'udp';
    this.retransmitInterval = ctx.timers.T1;
    // §17.1.1.2: "If an unreliable transport is being used, the client transaction MUST start
    // timer A with a value of T1." "the client transaction MUST start timer B with a value of 64*T1".
    if (!this.reliable) this.timers.start('A', this.retransmitInterval, () => this.onTimerA());
    this.timers.start('B', ctx.timers.B, () => this.onTimerB());
    if (provisionalTimeoutMs > 0 && provisionalTimeoutMs < ctx.timers.B) this.timers.start('P', provisionalTimeoutMs, () => this.onTimerP());
    this.sent = this.transmit(request);
  }

  receiveResponse(response: SipResponse, source: SourceInfo): void {
    if (this.terminated) return;
    const status = response.status;
    const event: IctEvent = status < 200 ? 'provisional' : status < 300 ? 'success' : 'failure';
    const before = this.currentState;
    this.currentState = ictTransition(before, event);
    switch (before) {
      case IctState.Calling:
      case IctState.Proceeding:
        this.timers.stop('A');
        this.timers.stop('B');
        this.timers.stop('P');
        if (event === 'provisional') {
          // Timer C is (re)started by every provisional response (§16.6 step 11, §16.7 step 2).
          if (!this.timedOut) this.timers.start('C', this.ctx.timers.C, () => this.onTimerC());
          // the TU already gave up (Timer C or P) and CANCELs: Timer B guards the wait for the 487
          else this.timers.start('B', this.ctx.timers.B, () => this.onTimerB());
        } else {
          this.timers.stop('C');
        }
        if (event === 'failure') {
          this.sendAck(response);
          // §17.1.1.2: "timer D … at least 32 seconds for unreliable transports, and … zero seconds for reliable transports".
          if (!this.reliable) this.timers.start('D', this.ctx.timers.D, () => this.onTimerD());
        } else if (event === 'success') {
          // RFC 6026 §7.2: "Timer M … 64*T1"; 2xx retransmissions and forks go to the TU.
          this.timers.start('M', this.ctx.timers.M, () => this.onTimerM());
        }
        this.user.onResponse(response, this, source);
        if (event === 'failure' && this.reliable) this.onTimerD();
        return;
      case IctState.Completed:
        // §17.1.1.2: "Any retransmissions of the final response … MUST cause the ACK to be re-passed to the transport layer".
        if (event === 'failure' && this.ack !== undefined) void this.transmit(this.ack);
        return;
      case IctState.Accepted:
        if (event === 'success') this.user.onResponse(response, this, source);
        return;
      default:
        return;
    }
  }

  /** §17.1.1.2: Timer A doubles on each firing (no T2 cap for INVITE). */
  private onTimerA(): void {
    if (this.currentState !== IctState.Calling) return;
    this.currentState = ictTransition(this.currentState, 'timerA');
    void this.transmit(this.request);
    this.retransmitInterval *= 2;
    this.timers.start('A', this.retransmitInterval, () => this.onTimerA());
  }

  /** §17.1.1.2: "If the client transaction is still in the Calling state when timer B fires, … inform the TU that a timeout has occurred." */
  private onTimerB(): void {
    if (this.terminated) return;
    this.currentState = ictTransition(this.currentState, 'timerB');
    this.timers.clear();
    if (!this.timedOut) this.user.onTimeout(this, 'B');
    this.terminate();
  }

  /** Timer P: nothing heard from the target yet; stop retransmitting and tell the TU (see the constructor). */
  private onTimerP(): void {
    if (this.currentState !== IctState.Calling || this.timedOut) return;
    this.timedOut = true;
    this.timers.stop('A');
    this.user.onTimeout(this, 'P');
  }

  /**
   * Timer C: a provisional but no final response for 185 s. The TU is told (it answers 408 and
   * should CANCEL); the transaction stays to absorb the 487, guarded by Timer B.
   */
  private onTimerC(): void {
    if (this.currentState !== IctState.Proceeding) return;
    this.currentState = ictTransition(this.currentState, 'timerC');
    this.timedOut = true;
    this.user.onTimeout(this, 'C');
    this.timers.start('B', this.ctx.timers.B, () => this.onTimerB());
  }

  private onTimerD(): void {
    if (this.terminated) return;
    this.currentState = ictTransition(this.currentState, 'timerD');
    this.terminate();
  }

  private onTimerM(): void {
    if (this.terminated) return;
    this.currentState = ictTransition(this.currentState, 'timerM');
    this.terminate();
  }

  private sendAck(response: SipResponse): void {
    this.ack = createAckForNon2xx(this.request, response);
    void this.transmit(this.ack);
  }

  private async transmit(message: SipRequest): Promise<SendResult> {
    const result = await this.ctx.send(message, this.target);
    if (!result.ok) this.onTransportError(result.error);
    return result;
  }

  /**
   * §17.1.4: a transport failure is reported to the TU (which treats it as 503) and ends the transaction,
   * while no final response is in (Calling, Proceeding).
   */
  protected override transportErrorApplies(): boolean {
    return this.currentState === IctState.Calling || this.currentState === IctState.Proceeding;
  }

  protected override notifyTransportError(error: TransportError): void {
    this.user.onTransportError(this, error);
  }

  protected override notifyTerminated(): void {
    this.user.onTerminated?.(this);
  }
}
