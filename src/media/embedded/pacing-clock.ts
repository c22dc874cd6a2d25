/**
 * One shared 20 ms clock for every RTP stream in the process. A timer per session would drift
 * and multiply timer work; this one schedules each tick against the start time
 * (start + n × period), so lateness never accumulates, and runs the ticks it missed (up to
 * `maxCatchUp`, the rest are skipped and counted) when the event loop was blocked.
 *
 *   t=0     20     40     60 (loop blocked)   100    120
 *   tick 1  tick 2  tick 3  ─────────────▶ ticks 4,5  tick 6 …
 *
 * The timer runs only while someone is subscribed. Time comes through a ClockPort so tests use
 * fake timers.
 */
import { performance } from 'node:perf_hooks';

export interface ClockPort {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realClock: ClockPort = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/** Called once per period with the tick number and the tick's scheduled time (ms, clock time). */
export type TickListener = (tick: number, at: number) => void;

export interface PacingStats {
  ticks: number;
  /** Ticks run late (in a catch-up burst). */
  caughtUp: number;
  /** Ticks dropped because the loop was blocked longer than maxCatchUp periods. */
  skipped: number;
  /** Largest delay between a tick's scheduled time and the moment it ran (ms). */
  maxLatenessMs: number;
}

export class PacingClock {
  readonly periodMs: number;
  private readonly clock: ClockPort;
  private readonly maxCatchUp: number;
  private readonly listeners = new Set<TickListener>();
  private timer: unknown;
  private start = 0;
  private tick = 0;
  readonly stats: PacingStats = { ticks: 0, caughtUp: 0, skipped: 0, maxLatenessMs: 0 };

  constructor(opts: { periodMs?: number; clock?: ClockPort; maxCatchUp?: number } = {}) {
    this.periodMs = opts.periodMs ?? 20;
    this.clock = opts.clock ?? realClock;
    this.maxCatchUp = opts.maxCatchUp ?? 5;
  }

  now(): number {
    return this.clock.now();
  }

  /** The clock's timers (for deadlines that share its notion of time). */
  get timers(): Pick<ClockPort, 'setTimeout' | 'clearTimeout'> {
    return this.clock;
  }

  get running(): boolean {
    return this.timer !== undefined;
  }

  /** Add a listener; returns its removal. */
  subscribe(fn: TickListener): () => void {
    this.listeners.add(fn);
    if (this.timer === undefined) {
      this.start = this.clock.now();
      this.tick = 0;
      this.schedule();
    }
    return () => {
      this.listeners.delete(fn);
      if (this.listeners.size === 0 && this.timer !== undefined) {
        this.clock.clearTimeout(this.timer);
        this.timer = undefined;
      }
    };
  }

  private schedule(): void {
    const next = this.start + (this.tick + 1) * this.periodMs;
    this.timer = this.clock.setTimeout(() => this.run(), Math.max(0, next - this.clock.now()));
  }

  private run(): void {
    const now = this.clock.now();
    const due = Math.floor((now - this.start) / this.periodMs);
    if (due - this.tick > this.maxCatchUp) {
      this.stats.skipped += due - this.tick - this.maxCatchUp;
      this.tick = due - this.maxCatchUp;
    }
    let first = true;
    while (this.tick < due && this.listeners.size > 0) {
      this.tick++;
      const at = this.start + this.tick * this.periodMs;
      this.stats.ticks++;
      if (!first) this.stats.caughtUp++;
      first = false;
      this.stats.maxLatenessMs = Math.max(this.stats.maxLatenessMs, now - at);
      for (const fn of this.listeners) fn(this.tick, at);
    }
    if (this.listeners.size > 0) this.schedule();
    else this.timer = undefined;
  }
}
