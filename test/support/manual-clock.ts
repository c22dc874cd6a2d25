/**
 * A clock (src/common/clock.ts) whose time moves only when a test says so: `advance(ms)` runs,
 * in time order, every timer that falls due on the way.
 */
import type { Clock, TimerHandle } from '../../src/common/clock.ts';

interface Timer {
  id: number;
  at: number;
  every: number | undefined;
  fn: () => void;
}

export class ManualClock implements Clock {
  private timers: Timer[] = [];
  private nextId = 1;
  constructor(public t = Date.UTC(2026, 0, 1)) {}

  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.add(fn, ms, undefined);
  }
  setInterval(fn: () => void, ms: number): TimerHandle {
    return this.add(fn, ms, ms);
  }
  clearTimeout(handle: TimerHandle): void {
    this.timers = this.timers.filter((x) => x.id !== handle);
  }
  clearInterval(handle: TimerHandle): void {
    this.clearTimeout(handle);
  }
  /** Timers still pending. */
  get pending(): number {
    return this.timers.length;
  }

  advance(ms: number): void {
    const until = this.t + ms;
    for (;;) {
      const due = this.timers.filter((x) => x.at <= until).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (due === undefined) break;
      this.t = due.at;
      if (due.every === undefined) this.clearTimeout(due.id);
      else due.at += due.every;
      due.fn();
    }
    this.t = until;
  }

  private add(fn: () => void, ms: number, every: number | undefined): number {
    const id = this.nextId++;
    this.timers.push({ id, at: this.t + Math.max(0, ms), every, fn });
    return id;
  }
}
