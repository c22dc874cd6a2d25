/**
 * The rate record and its invariants. A rate prices calls to every number that starts with its
 * prefix during its effective window [effectiveFrom, effectiveUntil).
 */

/**
 * When the connection fee is charged:
 * - 'answered' (default): on every call with an answered duration d > 0 s;
 * - 'always': on every answered call, including one whose answered duration rounds to d = 0 s.
 * A call that was never answered costs nothing under either policy.
 */
export type ConnectionFeePolicy = 'answered' | 'always';

export const CONNECTION_FEE_POLICIES: readonly ConnectionFeePolicy[] = ['answered', 'always'];

export const DEFAULT_CONNECTION_FEE_POLICY: ConnectionFeePolicy = 'answered';

export interface Rate {
  /** Digits only, E.164 without '+', 1..15 digits. */
  prefix: string;
  /** Destination name, may be ''. */
  description: string;
  /** Micro-units per minute, integer >= 0. */
  pricePerMinute: number;
  /** Micro-units, integer >= 0. */
  connectionFee: number;
  /** Integer >= 0; applies only to calls with d > 0. */
  minimumSeconds: number;
  /** Seconds, integer >= 1. */
  initialIncrement: number;
  /** Seconds, integer >= 1. */
  subsequentIncrement: number;
  /** Inclusive. */
  effectiveFrom: Date;
  /** Exclusive; null = open-ended. */
  effectiveUntil: Date | null;
  connectionFeePolicy: ConnectionFeePolicy;
}

/** One broken invariant of a rate, named by the field it concerns. */
export interface RateProblem {
  field: keyof Rate;
  message: string;
}

/** Earliest and latest instants a rate may name: years 1970..9999, so ISO-8601 text round-trips. */
export const EARLIEST_INSTANT_MS = Date.UTC(1970, 0, 1);
export const LATEST_INSTANT_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

const PREFIX_PATTERN = /^[0-9]{1,15}$/;

function integerProblem(rate: Rate, field: keyof Rate, min: number): RateProblem | undefined {
  const value: unknown = rate[field];
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    return { field, message: `must be a safe integer, got ${String(value)}` };
  }
  if (value < min) return { field, message: `must be >= ${min}, got ${value}` };
  return undefined;
}

function instantProblem(field: keyof Rate, value: unknown): RateProblem | undefined {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    return { field, message: 'must be a valid date' };
  }
  const ms = value.getTime();
  if (ms < EARLIEST_INSTANT_MS || ms > LATEST_INSTANT_MS) {
    return { field, message: `must lie between 1970-01-01 and 9999-12-31, got ${value.toISOString()}` };
  }
  return undefined;
}

/** Every broken invariant of `rate`; empty when the rate is valid. */
export function rateProblems(rate: Rate): RateProblem[] {
  const problems: RateProblem[] = [];
  const push = (problem: RateProblem | undefined): void => {
    if (problem !== undefined) problems.push(problem);
  };
  if (typeof rate.prefix !== 'string' || !PREFIX_PATTERN.test(rate.prefix)) {
    push({ field: 'prefix', message: `must be 1 to 15 digits (E.164 without '+'), got "${String(rate.prefix)}"` });
  }
  if (typeof rate.description !== 'string') push({ field: 'description', message: 'must be a string' });
  push(integerProblem(rate, 'pricePerMinute', 0));
  push(integerProblem(rate, 'connectionFee', 0));
  push(integerProblem(rate, 'minimumSeconds', 0));
  push(integerProblem(rate, 'initialIncrement', 1));
  push(integerProblem(rate, 'subsequentIncrement', 1));
  const fromProblem = instantProblem('effectiveFrom', rate.effectiveFrom);
  push(fromProblem);
  if (rate.effectiveUntil !== null) {
    const untilProblem = instantProblem('effectiveUntil', rate.effectiveUntil);
    push(untilProblem);
    if (fromProblem === undefined && untilProblem === undefined && rate.effectiveUntil.getTime() <= rate.effectiveFrom.getTime()) {
      push({
        field: 'effectiveUntil',
        message: `must be later than effective_from (${rate.effectiveFrom.toISOString()}), got ${rate.effectiveUntil.toISOString()}`,
      });
    }
  }
  if (!CONNECTION_FEE_POLICIES.includes(rate.connectionFeePolicy)) {
    push({ field: 'connectionFeePolicy', message: `must be 'answered' or 'always', got "${String(rate.connectionFeePolicy)}"` });
  }
  return problems;
}

/** Throws a RangeError naming the first broken invariant; a broken rate is a bug, not an outcome. */
export function assertValidRate(rate: Rate): void {
  const problem = rateProblems(rate)[0];
  if (problem !== undefined) {
    throw new RangeError(`invalid rate for prefix "${String(rate.prefix)}": ${problem.field} ${problem.message}`);
  }
}

/** The window as [from, until) in epoch milliseconds; an open end is +Infinity. */
export function windowOf(rate: Rate): { from: number; until: number } {
  return {
    from: rate.effectiveFrom.getTime(),
    until: rate.effectiveUntil === null ? Number.POSITIVE_INFINITY : rate.effectiveUntil.getTime(),
  };
}

export function describeWindow(rate: Rate): string {
  const until = rate.effectiveUntil === null ? 'open-ended' : rate.effectiveUntil.toISOString();
  return `[${rate.effectiveFrom.toISOString()}, ${until})`;
}

/** A pair of rates (indices into the input, first < second) with one prefix and overlapping windows. */
export interface WindowConflict {
  first: number;
  second: number;
}

/**
 * Finds rates that share a prefix and whose effective windows overlap (windows touching at an
 * instant, until = from, do not overlap). Sorting each prefix's windows by start makes checking
 * neighbours enough: if a window overlaps a later one, it overlaps the one right after it.
 * Reports each overlapping neighbour pair, ordered by input position.
 */
export function findWindowConflicts(rates: readonly Rate[]): WindowConflict[] {
  const byPrefix = new Map<string, number[]>();
  rates.forEach((rate, index) => {
    const list = byPrefix.get(rate.prefix);
    if (list === undefined) byPrefix.set(rate.prefix, [index]);
    else list.push(index);
  });
  const conflicts: WindowConflict[] = [];
  for (const indices of byPrefix.values()) {
    if (indices.length < 2) continue;
    const sorted = indices.map((index) => ({ index, ...windowOf(rates[index] as Rate) })).sort((a, b) => a.from - b.from || a.index - b.index);
    let widest = sorted[0];
    for (let i = 1; i < sorted.length; i++) {
      const current = sorted[i];
      if (widest === undefined || current === undefined) break;
      if (current.from < widest.until) {
        conflicts.push({ first: Math.min(widest.index, current.index), second: Math.max(widest.index, current.index) });
      }
      if (current.until > widest.until) widest = current;
    }
  }
  return conflicts.sort((a, b) => a.second - b.second || a.first - b.first);
}
