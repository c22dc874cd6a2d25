/**
 * A tariff (rate deck): rates indexed for longest-prefix lookup at an instant.
 *
 * Index: a digit trie stored flat in an Int32Array (ten child slots per node, 0 = no child; the
 * root is node 0 and is nobody's child), plus, for each node that ends a prefix, that prefix's
 * effective windows sorted by start. A lookup walks the dialled digits down the trie (at most 15
 * steps, no string slicing or hashing) and keeps the deepest node whose windows contain the
 * instant; its cost does not grow with the number of rates.
 */
import { assertValidRate, describeWindow, findWindowConflicts, windowOf, type Rate } from './rate.ts';

interface Window {
  from: number;
  until: number;
  rate: Rate;
}

const DIGIT_ZERO = 48;
const FANOUT = 10;

/** Two rates of one tariff with the same prefix and overlapping effective windows. */
export class TariffConflictError extends Error {
  override readonly name = 'TariffConflictError';
}

/**
 * A frozen copy. Written as one object literal (not a spread) so every copy shares one hidden
 * class: objects built by spreading are several times slower to read in V8.
 */
function freezeRate(rate: Rate): Rate {
  return Object.freeze({
    prefix: rate.prefix,
    description: rate.description,
    pricePerMinute: rate.pricePerMinute,
    connectionFee: rate.connectionFee,
    minimumSeconds: rate.minimumSeconds,
    initialIncrement: rate.initialIncrement,
    subsequentIncrement: rate.subsequentIncrement,
    effectiveFrom: new Date(rate.effectiveFrom.getTime()),
    effectiveUntil: rate.effectiveUntil === null ? null : new Date(rate.effectiveUntil.getTime()),
    connectionFeePolicy: rate.connectionFeePolicy,
  });
}

export class Tariff {
  readonly id: string;
  readonly #rates: readonly Rate[];
  /** children[node × 10 + digit] = child node, 0 = none. */
  readonly #children: Int32Array;
  /** windowsOf[node] = 1 + index into #windowLists of the prefix ending at node, 0 = none. */
  readonly #windowsOf: Int32Array;
  readonly #windowLists: Window[][];

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
    const trie = buildTrie(this.#rates);
    this.#children = trie.children;
    this.#windowsOf = trie.windowsOf;
    this.#windowLists = trie.windowLists;
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
    const instant = at instanceof Date ? at.getTime() : Number.NaN;
    if (Number.isNaN(instant)) throw new RangeError('lookup instant must be a valid Date');
    const length = typeof e164Digits === 'string' ? e164Digits.length : 0;
    if (length === 0) throw notDigits(e164Digits);
    const children = this.#children;
    const windowsOf = this.#windowsOf;
    let node = 0;
    let found: Rate | undefined;
    for (let i = 0; i < length; i++) {
      const digit = e164Digits.charCodeAt(i) - DIGIT_ZERO;
      if (digit < 0 || digit > 9) throw notDigits(e164Digits);
      if (node < 0) continue; // past the deepest prefix: only validating the rest
      const child = children[node * FANOUT + digit] ?? 0;
      if (child === 0) {
        node = -1;
        continue;
      }
      node = child;
      const list = windowsOf[node] ?? 0;
      if (list !== 0) found = effectiveAt(this.#windowLists[list - 1] as Window[], instant) ?? found;
    }
    return found;
  }
}

function notDigits(value: unknown): RangeError {
  return new RangeError(`destination must be digits only (E.164 without '+'), got "${String(value)}"`);
}

interface Trie {
  children: Int32Array;
  windowsOf: Int32Array;
  windowLists: Window[][];
}

function buildTrie(rates: readonly Rate[]): Trie {
  let capacity = 1024;
  let children = new Int32Array(capacity * FANOUT);
  let windowsOf = new Int32Array(capacity);
  let nodes = 1;
  const windowLists: Window[][] = [];
  for (const rate of rates) {
    let node = 0;
    for (let i = 0; i < rate.prefix.length; i++) {
      const slot = node * FANOUT + rate.prefix.charCodeAt(i) - DIGIT_ZERO;
      let child = children[slot] ?? 0;
      if (child === 0) {
        if (nodes === capacity) {
          capacity *= 2;
          const grownChildren = new Int32Array(capacity * FANOUT);
          grownChildren.set(children);
          children = grownChildren;
          const grownWindows = new Int32Array(capacity);
          grownWindows.set(windowsOf);
          windowsOf = grownWindows;
        }
        child = nodes;
        nodes += 1;
        children[slot] = child;
      }
      node = child;
    }
    const { from, until } = windowOf(rate);
    const window: Window = { from, until, rate };
    const list = windowsOf[node] ?? 0;
    if (list === 0) {
      windowLists.push([window]);
      windowsOf[node] = windowLists.length;
    } else {
      (windowLists[list - 1] as Window[]).push(window);
    }
  }
  for (const list of windowLists) list.sort((a, b) => a.from - b.from);
  return {
    children: children.slice(0, nodes * FANOUT),
    windowsOf: windowsOf.slice(0, nodes),
    windowLists,
  };
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
