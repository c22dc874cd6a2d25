/**
 * Micro-units (1e-6 of a currency) to and from a currency's minor units (what payment providers
 * count: pence, cents, yen), with integer arithmetic only. A currency's minor-unit digits follow
 * ISO 4217 as payment providers apply it: zero-decimal and three-decimal currencies are listed,
 * every other has two.
 */
const ZERO_DECIMAL = new Set(['BIF', 'CLP', 'DJF', 'GNF', 'JPY', 'KMF', 'KRW', 'MGA', 'PYG', 'RWF', 'UGX', 'VND', 'VUV', 'XAF', 'XOF', 'XPF']);
const THREE_DECIMAL = new Set(['BHD', 'JOD', 'KWD', 'OMR', 'TND']);

export function minorUnitDigits(currency: string): number {
  const c = currency.toUpperCase();
  return ZERO_DECIMAL.has(c) ? 0 : THREE_DECIMAL.has(c) ? 3 : 2;
}

/** Micro-units per minor unit of the currency (10 000 for pence, 1 000 000 for yen). */
export function microsPerMinorUnit(currency: string): bigint {
  return 10n ** BigInt(6 - minorUnitDigits(currency));
}

/** Whole minor units of `micros`; a fraction of a minor unit cannot be charged and is refused. */
export function microsToMinorUnits(micros: number, currency: string): number {
  if (!Number.isSafeInteger(micros) || micros <= 0) throw new RangeError('amount must be a positive integer number of micro-units');
  const per = microsPerMinorUnit(currency);
  const m = BigInt(micros);
  if (m % per !== 0n) throw new RangeError(`amount is not a whole number of ${currency} minor units`);
  return Number(m / per);
}

export function minorUnitsToMicros(minor: number, currency: string): number {
  if (!Number.isSafeInteger(minor) || minor < 0) throw new RangeError('minor units must be a non-negative integer');
  const out = BigInt(minor) * microsPerMinorUnit(currency);
  if (out > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError('amount too large');
  return Number(out);
}
