/**
 * Integer arithmetic for money and durations. Every value here is a JS number restricted to
 * safe integers (Number.isSafeInteger); no floating-point result is ever used for money.
 */
import { formatAmount, parseAmount } from '../../common/money-text.ts';

/** Throws a RangeError unless `value` is a safe integer >= `min`. */
export function assertSafeInteger(value: number, name: string, min = 0): void {
  if (!Number.isSafeInteger(value)) {
    throw new RangeError(`${name} must be a safe integer, got ${String(value)}`);
  }
  if (value < min) {
    throw new RangeError(`${name} must be >= ${min}, got ${value}`);
  }
}

/** a + b, throwing a RangeError when the exact sum is not a safe integer. */
export function checkedAdd(a: number, b: number): number {
  const sum = a + b;
  if (!Number.isSafeInteger(sum)) throw new RangeError(`integer overflow: ${a} + ${b}`);
  return sum;
}

/**
 * a × b, throwing a RangeError when the exact product is not a safe integer. For safe-integer
 * operands the floating-point product is exact whenever the true product is <= 2^53 - 1, and is
 * >= 2^53 (so not safe) otherwise, so the check is exact.
 */
export function checkedMul(a: number, b: number): number {
  const product = a * b;
  if (!Number.isSafeInteger(product)) throw new RangeError(`integer overflow: ${a} × ${b}`);
  return product;
}

/**
 * ceil(a / b) for a safe integer a >= 0 and a safe integer b >= 1, without floating-point
 * rounding: the quotient of the exact multiple (a - a % b) is exact, and the remainder decides
 * whether to round up.
 */
export function ceilDiv(a: number, b: number): number {
  assertSafeInteger(a, 'dividend', 0);
  assertSafeInteger(b, 'divisor', 1);
  const remainder = a % b;
  const quotient = (a - remainder) / b;
  return remainder === 0 ? quotient : quotient + 1;
}

/** Result of reading a decimal amount: micro-units or the reason it was refused. */
export type MicrosParse = { ok: true; micros: number } | { ok: false; message: string };

/**
 * Reads a decimal amount in currency units ("0.0125", "3", "12.5") as integer micro-units, by the
 * one money-text rule (src/common/money-text.ts): no sign, no exponent, up to 6 decimals, no
 * empty parts ("1.", ".5"). A rate may be as large as a safe integer of micro-units.
 */
export function parseDecimalMicros(text: string): MicrosParse {
  const read = parseAmount(text, { max: Number.MAX_SAFE_INTEGER });
  return read.ok ? { ok: true, micros: read.micros } : { ok: false, message: read.message };
}

/** Writes integer micro-units as a decimal amount in currency units with no trailing zeros ("0.0125", "3"); the inverse of parseDecimalMicros. */
export function formatDecimalMicros(micros: number): string {
  assertSafeInteger(micros, 'amount', 0);
  return formatAmount(micros);
}
