/**
 * A tariff (rate deck): rates indexed for longest-prefix lookup at an instant.
 *
 * Index: one Map from prefix to that prefix's effective windows sorted by start, plus the list of
 * prefix lengths present, longest first. A lookup probes one Map entry per distinct length
 * (at most 15) and binary-searches the few windows of a hit, so its cost does not grow with the
 * number of rates.
 */
import {
  assertValidRate, describeWindow, findWindowConflicts, windowOf, type Rate,
} from './rate.ts';

interface Window {
  from: number;
  until: number;
  rate: Rate;
}

const DIGITS = /^[0-9]+$/;

/** Two rates of one tariff with the same prefix and overlapping effective windows. */
export class TariffConflictError extends Error {
  override readonly name = 'TariffConflictError';
}

function freezeRate(rate: Rate): Rate {
  return Object.freeze({
    ...rate,
    effectiveFrom: new Date(rate.effectiveFrom.getTime()),
    effectiveUntil: rate.effectiveUntil === null ? null : new Date(rate.effectiveUntil.getTime()),
  });
}

export class Tariff {
  readonly id: string;
  readonly #rates: readonly Rate[];
  readonly #windows = new Map<string, Window[]>();
  readonly #lengths: readonly number[];

  /**
   * Validates every rate (RangeError on a broken one) and rejects two rates with one prefix whose
   * windows overlap (TariffConflictError). The rates are copied; later changes to the arguments do
   * not affect the tariff.
   */
  constructor(id: string, rates: readonly Rate[]) {
    if (typeof id !== 'string' || id === '') throw new RangeError('tariff id must be a non-empty string');
    rates.forEach(assertValidRate);
    const conflict = findWindowConflicts(rates)[0];
    if (conflict !== undefined) {
      const first = rates[conflict.first] as Rate;
      const second = rates[conflict.second] as Rate;
      throw new TariffConflictError(
        `tariff "${id}": prefix ${first.prefix} has overlapping effective windows ` +
        `${describeWindow(first)} (rate #${conflict.first + 1}) and ${describeWindow(second)} (rate #${conflict.second + 1})`,
      );
    }
    this.id = id;
    this.#rates = Object.freeze(rates.map(freezeRate));
    const lengths = new Set<number>();
    for (const rate of this.#rates) {
      const window: Window = { ...windowOf(rate), rate };
      const list = this.#windows.get(rate.prefix);
      if (list === undefined) this.#windows.set(rate.prefix, [window]);
      else list.push(window);
      lengths.add(rate.prefix.length);
    }
    for (const list of this.#windows.values()) list.sort((a, b) => a.from - b.from);
    this.#lengths = [...lengths].sort((a, b) => b - a);
  }

  /** Number of rates (all windows of all prefixes). */
  get size(): number {
    return this.#rates.length;
  }

  /** The rates in the order given to the constructor (for export). */
  get rates(): readonly Rate[] {
    return this.#rates;
  }

  /**
   * The rate of the longest prefix of `e164Digits` that has a rate effective at `at`
   * (effectiveFrom ≤ at < effectiveUntil); undefined for an unknown destination.
   * `e164Digits` must be digits only (E.164 without '+'); anything else is a caller bug.
   */
  lookup(e164Digits: string, at: Date): Rate | undefined {
    if (typeof e164Digits !== 'string' || !DIGITS.test(e164Digits)) {
      throw new RangeError(`destination must be digits only (E.164 without '+'), got "${String(e164Digits)}"`);
    }
    const instant = at instanceof Date ? at.getTime() : Number.NaN;
    if (Number.isNaN(instant)) throw new RangeError('lookup instant must be a valid Date');
    for (const length of this.#lengths) {
      if (length > e164Digits.length) continue;
      const windows = this.#windows.get(e164Digits.slice(0, length));
      if (windows === undefined) continue;
      const rate = effectiveAt(windows, instant);
      if (rate !== undefined) return rate;
    }
    return undefined;
  }
}

/** The window containing `instant` among non-overlapping windows sorted by start. */
function effectiveAt(windows: readonly Window[], instant: number): Rate | undefined {
  let low = 0;
  let high = windows.length - 1;
  let candidate: Window | undefined;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const window = windows[middle] as Window;
    if (window.from <= instant) {
      candidate = window;
      low = middle + 1;
    } else {
      high = middle - 1;
    }
  }
  return candidate !== undefined && instant < candidate.until ? candidate.rate : undefined;
}
