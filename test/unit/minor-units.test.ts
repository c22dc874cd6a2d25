import { describe, expect, it } from 'vitest';
import { microsToMinorUnits, minorUnitDigits, minorUnitsToMicros } from '../../src/accounts/payments/minor-units.ts';

describe('micro-units and a currency’s minor units (what Stripe charges)', () => {
  it.each([
    ['GBP', 20_000_000, 2000],
    ['EUR', 5_000_000, 500],
    ['USD', 10_000, 1],
    ['JPY', 1_000_000_000, 1000], // zero-decimal: 1000 yen is 1000 units
    ['KWD', 1_000, 1], // three decimals: 1 fils
    ['KWD', 12_345_000, 12345],
  ])('%s: %i micro-units are %i minor units, and back', (currency, micros, minor) => {
    expect(microsToMinorUnits(micros, currency)).toBe(minor);
    expect(minorUnitsToMicros(minor, currency)).toBe(micros);
  });

  it('refuses a fraction of a minor unit, zero, negatives and non-integers', () => {
    expect(() => microsToMinorUnits(10_001, 'GBP')).toThrow(/whole number of GBP minor units/);
    expect(() => microsToMinorUnits(999_999, 'JPY')).toThrow(/whole number/);
    expect(() => microsToMinorUnits(0, 'GBP')).toThrow(RangeError);
    expect(() => microsToMinorUnits(-10_000, 'GBP')).toThrow(RangeError);
    expect(() => microsToMinorUnits(10_000.5, 'GBP')).toThrow(RangeError);
    expect(() => minorUnitsToMicros(1.5, 'GBP')).toThrow(RangeError);
  });

  it('stays exact at the largest safe amounts (integer arithmetic)', () => {
    const micros = 9_007_199_254_740_000; // below 2^53, a whole number of pence
    expect(microsToMinorUnits(micros, 'GBP')).toBe(900_719_925_474);
    expect(() => minorUnitsToMicros(Number.MAX_SAFE_INTEGER, 'GBP')).toThrow(/too large/);
    expect(minorUnitDigits('gbp')).toBe(2);
  });
});
