/**
 * Money is integer micro-units (1e-6 of the account currency). These guards are the only place
 * that decides what a valid amount is; every amount from the network or the API passes one.
 */
import { MAX_MICROS } from '../common/money-text.ts';

export { MAX_MICROS };

export function isMicros(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && Math.abs(v) <= MAX_MICROS;
}

export function assertMicros(v: unknown, what: string, opts: { positive?: boolean; nonNegative?: boolean } = {}): number {
  if (!isMicros(v)) throw new RangeError(`${what} must be an integer number of micro-units within ±${MAX_MICROS}`);
  if (opts.positive && v <= 0) throw new RangeError(`${what} must be positive`);
  if (opts.nonNegative && v < 0) throw new RangeError(`${what} must not be negative`);
  return v;
}

// Decimal text <-> micro-units conversions live in src/common/money-text.ts.
