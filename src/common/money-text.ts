/**
 * Money as text: decimal amounts in currency units ("12.50", "0.0125", "-3") to integer
 * micro-units (10⁻⁶ of the currency) and back, and the currency's minor unit. The one place
 * that decides what an amount typed or written as text is; the tariff CSV, the operator CLI,
 * the web pages and the IVR prompts all read and write amounts through it.
 *
 * The rule: an optional "-" (refused unless the caller allows negative amounts), one or more
 * digits, and optionally "." and one to six digits. No "+", no exponent, no spaces, no thousands
 * separator, no "1." or ".5". At most `max` micro-units in magnitude (MAX_MICROS unless the
 * caller says otherwise). Everything is string and BigInt arithmetic: no binary floating point
 * touches an amount.
 */

/** Micro-units per currency unit. */
export const MICROS_PER_UNIT = 1_000_000;
/** Largest amount accepted anywhere: 10^15 micro-units (a billion currency units). */
export const MAX_MICROS = 1_000_000_000_000_000;

const DECIMALS = 6;
const MICROS = 1_000_000n;
const LONGEST = 64; // longer text is refused before any BigInt is built from it

export type AmountRefusal = 'empty' | 'negative' | 'exponent' | 'syntax' | 'decimals' | 'too_large' | 'zero';
export type AmountRead = { ok: true; micros: number } | { ok: false; reason: AmountRefusal; message: string };

export interface AmountRule {
  negative?: boolean; // allow "-" (default: refused)
  zero?: boolean; // allow 0 (default: allowed)
  max?: number; // largest magnitude in micro-units (default MAX_MICROS; at most Number.MAX_SAFE_INTEGER)
}

function refuse(reason: AmountRefusal, message: string): AmountRead {
  return { ok: false, reason, message };
}

/** Reads a decimal amount in currency units as integer micro-units, or says why it is not one. */
export function parseAmount(text: string, rule: AmountRule = {}): AmountRead {
  if (text === '') return refuse('empty', 'is required');
  const negative = text.startsWith('-');
  if (negative && !rule.negative) return refuse('negative', `must not be negative, got "${text}"`);
  if (/[eE]/.test(text)) return refuse('exponent', `exponent notation is not allowed, got "${text}"`);
  const match = text.length <= LONGEST ? /^-?([0-9]+)(?:\.([0-9]+))?$/.exec(text) : null;
  if (match === null) return refuse('syntax', `must be a decimal amount like 0.0125 (digits, optional '.' and up to ${DECIMALS} decimals), got "${text}"`);
  const fraction = match[2] ?? '';
  if (fraction.length > DECIMALS) return refuse('decimals', `has more than ${DECIMALS} decimals, got "${text}"`);
  const magnitude = BigInt(match[1]!) * MICROS + BigInt(fraction.padEnd(DECIMALS, '0'));
  if (magnitude > BigInt(Math.min(rule.max ?? MAX_MICROS, Number.MAX_SAFE_INTEGER))) return refuse('too_large', `is too large, got "${text}"`);
  if (magnitude === 0n && rule.zero === false) return refuse('zero', `must not be zero, got "${text}"`);
  return { ok: true, micros: Number(negative && magnitude !== 0n ? -magnitude : magnitude) };
}

/**
 * Micro-units as an exact decimal in currency units: no trailing zeros beyond `minDecimals`
 * ("0.0125", "3", or with minDecimals 2 "3.00", "12.50", "0.000001"). parseAmount reads it back
 * to the same number.
 */
export function formatAmount(micros: number | bigint, opts: { minDecimals?: number } = {}): string {
  if (typeof micros === 'number' && !Number.isSafeInteger(micros)) throw new RangeError(`amount must be a safe integer of micro-units, got ${micros}`);
  const m = BigInt(micros);
  const abs = m < 0n ? -m : m;
  const min = Math.max(0, Math.min(DECIMALS, opts.minDecimals ?? 0));
  let fraction = (abs % MICROS).toString().padStart(DECIMALS, '0').replace(/0+$/, '');
  if (fraction.length < min) fraction = fraction.padEnd(min, '0');
  return `${m < 0n ? '-' : ''}${abs / MICROS}${fraction ? `.${fraction}` : ''}`;
}

/** Decimal digits of the currency's minor unit (ISO 4217 as Intl knows it: GBP 2, JPY 0, KWD 3); 2 when unknown. */
export function minorUnitDigits(currency: string): number {
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    return 2;
  }
}

/** How an amount is cut to the minor unit: towards zero (what the caller is told they have), or half away from zero (display). */
export type MinorUnitRounding = 'toward-zero' | 'half-away-from-zero';

/** The magnitude of an amount in units of 10^-digits (digits 0..6), rounded as asked; the sign is the caller's. */
export function minorUnitsOf(micros: number | bigint, digits: number, rounding: MinorUnitRounding): bigint {
  if (!Number.isInteger(digits) || digits < 0 || digits > DECIMALS) throw new RangeError(`minor-unit digits must be 0..${DECIMALS}, got ${digits}`);
  const m = BigInt(micros);
  const abs = m < 0n ? -m : m;
  const step = 10n ** BigInt(DECIMALS - digits); // micro-units per minor unit
  return rounding === 'toward-zero' ? abs / step : (abs + step / 2n) / step;
}

/** The amount rounded to `digits` decimals as a plain decimal ("-12.35"); "-" only when the rounded amount is not zero. */
export function formatRounded(micros: number | bigint, digits: number, rounding: MinorUnitRounding = 'half-away-from-zero'): string {
  const units = minorUnitsOf(micros, Math.max(0, Math.min(DECIMALS, digits)), rounding);
  const d = Math.max(0, Math.min(DECIMALS, digits));
  const scale = 10n ** BigInt(d);
  const s = d > 0 ? `${units / scale}.${(units % scale).toString().padStart(d, '0')}` : `${units}`;
  return BigInt(micros) < 0n && units !== 0n ? `-${s}` : s;
}
