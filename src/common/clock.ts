/**
 * The one time source of the call flows (call control, personal-number calls, outbound calls, call
 * credit), injected so tests drive time by hand instead of sleeping. The default is the process
 * clock.
 */

/** Opaque handle of a scheduled callback. */
export type TimerHandle = unknown;

export interface Clock {
  /** Milliseconds since the epoch (Date.now()). */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
  /** A repeating timer for background work: it never keeps the process alive on its own. */
  setInterval(fn: () => void, ms: number): TimerHandle;
  clearInterval(handle: TimerHandle): void;
}

/** The process clock: Date.now() and the global timers (intervals unref'd). */
export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout | undefined),
  setInterval: (fn, ms) => setInterval(fn, ms).unref(),
  clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout | undefined),
};
