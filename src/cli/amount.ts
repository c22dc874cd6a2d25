/**
 * Amounts typed by an operator ("5", "12.50", "0.000001") to integer micro-units and back,
 * with integer arithmetic only: no floating point touches money.
 */
import { UsageError } from './args.ts';

const MICROS = 1_000_000n;
const MAX = 1_000_000_000_000_000n;   // src/billing/money.ts MAX_MICROS

export function parseMajorAmount(text: string | undefined, what: string, opts: { allowNegative?: boolean; allowZero?: boolean } = {}): number {
  if (text === undefined) throw new UsageError(`${what} is missing`);
  const m = /^(-)?(\d{1,10})(?:\.(\d{1,6}))?$/.exec(text);
  if (!m) throw new UsageError(`${what} must be an amount in the account currency with at most 6 decimals (e.g. 5 or 12.50), not ${JSON.stringify(text)}`);
  if (m[1] && !opts.allowNegative) throw new UsageError(`${what} must not be negative`);
  const magnitude = BigInt(m[2]!) * MICROS + BigInt((m[3] ?? '').padEnd(6, '0'));
  if (magnitude === 0n && !opts.allowZero) throw new UsageError(`${what} must not be zero`);
  if (magnitude > MAX) throw new UsageError(`${what} is too large`);
  return Number(m[1] ? -magnitude : magnitude);
}

/** Micro-units as a decimal in major units, trailing zeros trimmed to two decimals: 12500000 → "12.50". */
export function formatMicros(micros: number): string {
  const m = BigInt(micros);
  const abs = m < 0n ? -m : m;
  const frac = (abs % MICROS).toString().padStart(6, '0').replace(/0{1,4}$/, '');
  return `${m < 0n ? '-' : ''}${abs / MICROS}.${frac.padEnd(2, '0')}`;
}
