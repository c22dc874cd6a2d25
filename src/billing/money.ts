/**
 * Money is integer micro-units (1e-6 of the account currency). These guards are the only place
 * that decides what a valid amount is; every amount from the network or the API passes one.
 */
export const MICROS_PER_UNIT = 1_000_000;
/** Largest amount accepted anywhere: 10^15 micro-units (a billion currency units). */
export const MAX_MICROS = 1_000_000_000_000_000;

export function isMicros(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && Math.abs(v) <= MAX_MICROS;
}

export function assertMicros(v: unknown, what: string, opts: { positive?: boolean; nonNegative?: boolean } = {}): number {
  if (!isMicros(v)) throw new RangeError(`${what} must be an integer number of micro-units within ±${MAX_MICROS}`);
  if (opts.positive && v <= 0) throw new RangeError(`${what} must be positive`);
  if (opts.nonNegative && v < 0) throw new RangeError(`${what} must not be negative`);
  return v;
}

/** Decimal currency string ("12.5", "-0.000001") → micro-units, by string manipulation only. */
export function parseDecimalMicros(text: string): number | undefined {
  const m = /^(-)?(\d{1,10})(?:\.(\d{1,6}))?$/.exec(text.trim());
  if (!m) return undefined;
  const units = Number(m[2]);
  const frac = Number((m[3] ?? '').padEnd(6, '0'));
  const v = units * MICROS_PER_UNIT + frac;
  return m[1] ? -v : v;
}

/** micro-units → fixed 6-decimal string, without floats. */
export function formatMicros(v: number): string {
  const neg = v < 0;
  const a = Math.abs(v);
  const units = Math.trunc(a / MICROS_PER_UNIT);
  const frac = a - units * MICROS_PER_UNIT;
  return `${neg ? '-' : ''}${units}.${String(frac).padStart(6, '0')}`;
}
