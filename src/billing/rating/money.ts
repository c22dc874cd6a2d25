/**
 * Integer arithmetic for money and durations. Every value here is a JS number restricted to
 * safe integers (Number.isSafeInteger); no floating-point result is ever used for money.
 */

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

const MICROS_DIGITS = 6;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Result of reading a decimal amount: micro-units or the reason it was refused. */
export type MicrosParse = { ok: true; micros: number } | { ok: false; message: string };

/**
 * Reads a decimal amount in currency units ("0.0125", "3", "12.5") as integer micro-units by
 * string manipulation: the integer digits and the fraction padded to 6 digits are concatenated
 * and read as one integer. Refuses signs, exponents, more than 6 decimals, empty parts
 * ("1.", ".5") and anything that is not a plain decimal.
 */
export function parseDecimalMicros(text: string): MicrosParse {
  if (text === '') return { ok: false, message: 'is required' };
  if (text.startsWith('-')) return { ok: false, message: `must not be negative, got "${text}"` };
  if (/[eE]/.test(text)) return { ok: false, message: `exponent notation is not allowed, got "${text}"` };
  const match = /^([0-9]+)(?:\.([0-9]+))?$/.exec(text);
  if (match === null) {
    return { ok: false, message: `must be a decimal amount like 0.0125 (digits, optional '.' and up to 6 decimals), got "${text}"` };
  }
  const whole = match[1] ?? '';
  const fraction = match[2] ?? '';
  if (fraction.length > MICROS_DIGITS) {
    return { ok: false, message: `has more than ${MICROS_DIGITS} decimals, got "${text}"` };
  }
  const digits = whole + fraction.padEnd(MICROS_DIGITS, '0');
  const micros = BigInt(digits);
  if (micros > MAX_SAFE) return { ok: false, message: `is too large, got "${text}"` };
  return { ok: true, micros: Number(micros) };
}

/**
 * Writes integer micro-units as a decimal amount in currency units with no trailing zeros
 * ("0.0125", "3"), by string manipulation; the inverse of parseDecimalMicros.
 */
export function formatDecimalMicros(micros: number): string {
  assertSafeInteger(micros, 'amount', 0);
  const digits = String(micros).padStart(MICROS_DIGITS + 1, '0');
  const whole = digits.slice(0, -MICROS_DIGITS);
  const fraction = digits.slice(-MICROS_DIGITS).replace(/0+$/, '');
  return fraction === '' ? whole : `${whole}.${fraction}`;
}
