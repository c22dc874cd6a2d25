/**
 * Retransmits a response until the peer acknowledges it, and reports when it never does.
 *
 * RFC 3261 §13.3.1.4: "the 2xx response is passed to the transport with an interval that starts
 * at T1 seconds and doubles for each retransmission until it reaches T2 seconds … The server
 * retransmits the 2xx response until it receives an ACK … If the server retransmits the 2xx
 * response for 64*T1 seconds without receiving an ACK, the dialog is confirmed, but the session
 * SHOULD be terminated" (spec §4.4, §4.8: BYE with `Reason: SIP;cause=200;text="ACK timeout"`).
 * Over a reliable transport nothing is retransmitted but the 64·T1 deadline still applies.
 *
 * RFC 3262 §3 uses the same schedule for a reliable provisional response until its PRACK.
 */
import type { Clock, TimerHandle } from '../transaction/index.ts';

export interface RetransmitSchedule {
  readonly t1Ms: number;
  readonly t2Ms: number;
  /** Give up after this long (64·T1). */
  readonly timeoutMs: number;
  /** Retransmit at all (false on reliable transports). */
  readonly retransmit: boolean;
}

export class ResponseRetransmitter {
  private interval: number;
  private retransmitTimer: TimerHandle | undefined;
  private deadlineTimer: TimerHandle | undefined;
  private stopped = false;

  constructor(
    private readonly clock: Clock,
    private readonly schedule: RetransmitSchedule,
    private readonly resend: () => void,
    private readonly onGiveUp: () => void,
  ) {
    this.interval = schedule.t1Ms;
    if (schedule.retransmit) this.retransmitTimer = clock.setTimeout(() => this.fire(), this.interval);
    this.deadlineTimer = clock.setTimeout(() => this.giveUp(), schedule.timeoutMs);
  }

  get isRunning(): boolean {
    return !this.stopped;
  }

  /** The acknowledgement arrived (ACK or PRACK): stop everything. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.retransmitTimer !== undefined) this.clock.clearTimeout(this.retransmitTimer);
    if (this.deadlineTimer !== undefined) this.clock.clearTimeout(this.deadlineTimer);
    this.retransmitTimer = undefined;
    this.deadlineTimer = undefined;
  }

  private fire(): void {
    if (this.stopped) return;
    this.resend();
    this.interval = Math.min(this.interval * 2, this.schedule.t2Ms);
    this.retransmitTimer = this.clock.setTimeout(() => this.fire(), this.interval);
  }

  private giveUp(): void {
    if (this.stopped) return;
    this.stop();
    this.onGiveUp();
  }
}
