/**
 * What the four transaction state machines share: the current state, their named timers, and the
 * three ways a transaction stops.
 *
 *   onTransportError  §17.1.4 / §17.2.4: a transport failure is reported to the TU and ends the transaction
 *   terminate         Terminated reached: timers stopped, the layer forgets the transaction, the TU is told
 *   dispose           layer shutdown: timers stopped, state Terminated, nobody told
 *
 * Each subclass keeps its own state diagram and transition function, and says which states a transport
 * error applies in (`transportErrorApplies`) and how its TU hears of the end (`notify…`).
 */
import type { TransportError } from '../transport/index.ts';
import { TimerSet, type TransactionContext } from './transaction-context.ts';

export interface TransactionMachine<State extends string> {
  readonly initial: State;
  readonly terminated: State;
  /** Server transactions are forgotten from the server table, client ones from the client table. */
  readonly server: boolean;
  transition(state: State, event: 'transportError'): State;
}

export abstract class BaseTransaction<State extends string, Timer extends string> {
  readonly id: string;
  protected currentState: State;
  protected readonly ctx: TransactionContext;
  protected readonly timers: TimerSet<Timer>;
  private readonly machine: TransactionMachine<State>;

  protected constructor(id: string, ctx: TransactionContext, machine: TransactionMachine<State>) {
    this.id = id;
    this.ctx = ctx;
    this.machine = machine;
    this.currentState = machine.initial;
    this.timers = new TimerSet(ctx.clock);
  }

  get state(): State {
    return this.currentState;
  }

  get terminated(): boolean {
    return this.currentState === this.machine.terminated;
  }

  /** Stop timers without callbacks (layer shutdown). */
  dispose(): void {
    this.timers.clear();
    this.currentState = this.machine.terminated;
  }

  /** Whether a transport error in the current state ends the transaction (default: unless already ended). */
  protected transportErrorApplies(): boolean {
    return !this.terminated;
  }

  /** Tell the TU of a transport failure. */
  protected abstract notifyTransportError(error: TransportError): void;
  /** Tell the TU the transaction has ended. */
  protected abstract notifyTerminated(): void;

  protected onTransportError(error: TransportError): void {
    if (!this.transportErrorApplies()) return;
    this.currentState = this.machine.transition(this.currentState, 'transportError');
    this.timers.clear();
    this.notifyTransportError(error);
    this.terminate();
  }

  protected terminate(): void {
    this.timers.clear();
    this.ctx.forget(this.id, this.machine.server);
    this.notifyTerminated();
  }
}
