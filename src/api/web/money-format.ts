/**
 * Money for people: integer micro-units (1e-6 of the currency) to a localised currency string.
 * All arithmetic is on BigInt; the rounded amount reaches Intl as a decimal string, so no binary
 * floating point ever touches it.
 *
 * Rounding: to the currency's minor unit (ISO 4217 digits as Intl knows them: GBP 2, JPY 0,
 * KWD 3), half away from zero (0.005 GBP shows as £0.01, -0.005 as -£0.01).
 */
import { formatRounded, minorUnitDigits, parseAmount as parseAmountText } from '../../common/money-text.ts';

export const minorDigits = minorUnitDigits;

/** The amount rounded to `digits` decimals, as a plain decimal string ("-12.35"). */
export function microsToDecimal(micros: number | bigint, digits: number): string {
  return formatRounded(micros, digits, 'half-away-from-zero');
}

export function formatMoney(micros: number | bigint, currency: string, locale = 'en-GB'): string {
  const digits = minorDigits(currency);
  const dec = microsToDecimal(micros, digits);
  try {
    const nf = new Intl.NumberFormat(locale, { style: 'currency', currency, minimumFractionDigits: digits, maximumFractionDigits: digits });
    // Intl formats a decimal string exactly (NumberFormat v3); the string never passes through a double
    return nf.format(dec as unknown as number);
  } catch {
    return `${dec} ${currency}`;
  }
}

/**
 * A form field in major units ("12.50") to micro-units, exactly; undefined when it is not a plain
 * amount. What a person types is trimmed and a decimal comma ("12,50") read as a point; the
 * rest is the one money-text rule.
 */
export function parseAmount(text: string, opts: { allowNegative?: boolean } = {}): number | undefined {
  const read = parseAmountText(text.trim().replace(',', '.'), { negative: opts.allowNegative ?? false });
  return read.ok ? read.micros : undefined;
}
