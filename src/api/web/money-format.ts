/**
 * Money for people: integer micro-units (1e-6 of the currency) to a localised currency string.
 * All arithmetic is on BigInt; the rounded amount reaches Intl as a decimal string, so no binary
 * floating point ever touches it.
 *
 * Rounding: to the currency's minor unit (ISO 4217 digits as Intl knows them: GBP 2, JPY 0,
 * KWD 3), half away from zero (0.005 GBP shows as £0.01, -0.005 as -£0.01).
 */
const MICROS = 1_000_000n;

export function minorDigits(currency: string): number {
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    return 2;
  }
}

/** The amount rounded to `digits` decimals, as a plain decimal string ("-12.35"). */
export function microsToDecimal(micros: number | bigint, digits: number): string {
  const m = BigInt(micros);
  const neg = m < 0n;
  const abs = neg ? -m : m;
  const d = BigInt(Math.max(0, Math.min(6, digits)));
  const step = 10n ** (6n - d);                     // micro-units per displayed unit
  const units = (abs + step / 2n) / step;            // half away from zero (on the magnitude)
  const scale = 10n ** d;
  const whole = units / scale;
  const frac = (units % scale).toString().padStart(Number(d), '0');
  const s = d > 0n ? `${whole}.${frac}` : `${whole}`;
  return neg && units !== 0n ? `-${s}` : s;
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

/** A form field in major units ("12.50") to micro-units, exactly; undefined when it is not a plain amount. */
export function parseAmount(text: string, opts: { allowNegative?: boolean } = {}): number | undefined {
  const m = /^\s*(-)?(\d{1,9})(?:[.,](\d{1,6}))?\s*$/.exec(text);
  if (!m || (m[1] && !opts.allowNegative)) return undefined;
  const micros = BigInt(m[2]!) * MICROS + BigInt((m[3] ?? '').padEnd(6, '0'));
  return Number(m[1] ? -micros : micros);
}
