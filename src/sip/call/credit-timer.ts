/**
 * Credit-control timing of one answered call. From the answer instant it keeps the call covered:
 *
 *   answer ──── covered − lead ──▶ extend ──ok──▶ (reschedule with the new cover)
 *                                        └─refused─▶ warn at covered − warn ─▶ cut at covered
 *   (and, whatever the credit, cut at the hard maximum duration)
 *
 * The cut fires at the covered second itself (the caller has paid for all of it) and at the hard
 * maximum itself, and `cut` is told that instant: the call ends there for billing, so the billed
 * duration is exactly the covered one (not one second more for the milliseconds the BYE takes)
 * and the balance lands on the floor, not past it.
 */
export interface TimerPort {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: TimerPort = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface CreditTimerOptions {
  answeredAt: number;
  coveredSeconds: number;
  maxCallSeconds: number;
  leadSeconds: number; // extend this long before the cover runs out
  warnSeconds: number; // warn this long before a cut for lack of credit
  extend: (coveredSeconds: number) => Promise<{ ok: boolean; coveredSeconds: number }>;
  warn?: (secondsLeft: number) => void;
  /** The call must end; `atMs` is the instant it ends for billing (the paid second or the hard maximum). */
  cut: (reason: 'credit_exhausted' | 'max_duration', atMs: number) => void;
  timers?: TimerPort;
  onError?: (err: unknown) => void;
}

export class CreditTimer {
  private covered: number;
  /** Timers still pending: a fired one is dropped, so a call held for hours keeps two, not one per slice. */
  private readonly handles = new Set<unknown>();
  private stopped = false;
  private readonly t: TimerPort;
  private finalUntil: number | undefined;

  constructor(private readonly o: CreditTimerOptions) {
    this.t = o.timers ?? realTimers;
    this.covered = Math.min(o.coveredSeconds, o.maxCallSeconds);
    this.at(o.maxCallSeconds * 1000, () => this.finish('max_duration', o.maxCallSeconds * 1000));
    this.plan();
  }

  get coveredSeconds(): number {
    return this.covered;
  }

  /** The instant the call's cover ends for good (an extension was refused, or the hard maximum): no second after it is paid. */
  get paidUntilMs(): number | undefined {
    return this.finalUntil;
  }

  stop(): void {
    this.stopped = true;
    for (const h of this.handles) this.t.clearTimeout(h);
    this.handles.clear();
  }

  private at(offsetMs: number, fn: () => void): void {
    const delay = Math.max(0, this.o.answeredAt + offsetMs - this.t.now());
    const handle = this.t.setTimeout(() => {
      this.handles.delete(handle);
      if (!this.stopped) fn();
    }, delay);
    this.handles.add(handle);
  }

  private plan(): void {
    if (this.covered >= this.o.maxCallSeconds) return; // the hard limit comes first
    const extendAt = Math.max(0, this.covered - this.o.leadSeconds) * 1000;
    this.at(extendAt, () => void this.tryExtend());
  }

  private async tryExtend(): Promise<void> {
    let r: { ok: boolean; coveredSeconds: number };
    try {
      r = await this.o.extend(this.covered);
    } catch (err) {
      this.o.onError?.(err);
      r = { ok: false, coveredSeconds: this.covered }; // Redis unreachable: keep the cover we hold
    }
    if (this.stopped) return;
    if (r.ok && r.coveredSeconds > this.covered) {
      this.covered = Math.min(r.coveredSeconds, this.o.maxCallSeconds);
      this.plan();
      return;
    }
    const warnAt = (this.covered - this.o.warnSeconds) * 1000;
    if (this.o.warn && this.o.warnSeconds > 0 && this.covered > this.o.warnSeconds) this.at(warnAt, () => this.o.warn!(this.o.warnSeconds));
    const cutAt = this.covered * 1000;
    this.finalUntil = this.o.answeredAt + cutAt;
    this.at(cutAt, () => this.finish('credit_exhausted', cutAt));
  }

  private finish(reason: 'credit_exhausted' | 'max_duration', offsetMs: number): void {
    this.stop();
    this.o.cut(reason, this.o.answeredAt + offsetMs);
  }
}
