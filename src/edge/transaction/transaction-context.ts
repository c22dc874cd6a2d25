/** What a transaction needs from the layer that owns it. */
import type { SipMessage } from '../message/index.ts';
import type { SendResult, Target } from '../transport/index.ts';
import type { Clock, TimerHandle } from './clock.ts';
import type { TimerSettings } from './timer-settings.ts';

export interface TransactionContext {
  readonly clock: Clock;
  readonly timers: TimerSettings;
  /** Whether the layer sends 100 Trying for new INVITEs. */
  readonly autoTrying: boolean;
  send(message: SipMessage, target: Target): Promise<SendResult>;
  /** Called once when a transaction reaches Terminated, so the layer forgets it. */
  forget(id: string, server: boolean): void;
}

/** A set of named timers on an injectable clock, all cleared at once on termination. */
export class TimerSet<Name extends string> {
  private readonly clock: Clock;
  private readonly handles = new Map<Name, TimerHandle>();

  constructor(clock: Clock) {
    this.clock = clock;
  }

  /** (Re)start timer `name`. */
  start(name: Name, ms: number, fire: () => void): void {
    this.stop(name);
    this.handles.set(
      name,
      this.clock.setTimeout(() => {
        this.handles.delete(name);
        fire();
      }, ms),
    );
  }

  stop(name: Name): void {
    const h = this.handles.get(name);
    if (h !== undefined) {
      this.clock.clearTimeout(h);
      this.handles.delete(name);
    }
  }

  clear(): void {
    for (const h of this.handles.values()) this.clock.clearTimeout(h);
    this.handles.clear();
  }
}
