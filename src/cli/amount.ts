/**
 * Amounts typed by an operator ("5", "12.50", "0.000001") to integer micro-units and back, by the
 * one money-text rule (src/common/money-text.ts): no floating point touches money.
 */
import { formatAmount, parseAmount } from '../common/money-text.ts';
import { UsageError } from './args.ts';

export function parseMajorAmount(text: string | undefined, what: string, opts: { allowNegative?: boolean; allowZero?: boolean } = {}): number {
  if (text === undefined) throw new UsageError(`${what} is missing`);
  const read = parseAmount(text, { negative: opts.allowNegative ?? false, zero: opts.allowZero ?? false });
  if (read.ok) return read.micros;
  if (read.reason === 'negative') throw new UsageError(`${what} must not be negative`);
  if (read.reason === 'zero') throw new UsageError(`${what} must not be zero`);
  if (read.reason === 'too_large') throw new UsageError(`${what} is too large`);
  throw new UsageError(`${what} must be an amount in the account currency with at most 6 decimals (e.g. 5 or 12.50), not ${JSON.stringify(text)}`);
}

/** Micro-units as a decimal in major units, trailing zeros trimmed to two decimals: 12500000 → "12.50". */
export function formatMicros(micros: number): string {
  return formatAmount(micros, { minDecimals: 2 });
}
