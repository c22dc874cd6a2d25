import { describe, expect, it } from 'vitest';
import { formatMoney, microsToDecimal, parseAmount } from '../../src/api/web/money-format.ts';

describe('money on the web pages', () => {
  it.each([
    [0, 2, '0.00'],
    [1, 2, '0.00'],
    [4_999, 2, '0.00'],
    [5_000, 2, '0.01'],
    [3_765_433, 2, '3.77'],
    [3_764_999, 2, '3.76'],
    [-5_000, 2, '-0.01'],
    [-4_999, 2, '0.00'],
    [1_500_000, 0, '2'],
    [1_234_567, 3, '1.235'],
    [999_999_999_999_999, 2, '1000000000.00'],
    [1_000_000_000_000_000, 6, '1000000000.000000'],
  ])('%i micro-units with %i decimals is %s (half away from zero)', (micros, digits, want) => {
    expect(microsToDecimal(micros, digits)).toBe(want);
  });

  it('formats with the currency and its minor unit', () => {
    expect(formatMoney(3_765_433, 'GBP', 'en-GB')).toBe('£3.77');
    expect(formatMoney(-1_234_567, 'EUR', 'en-GB')).toBe('-€1.23');
    expect(formatMoney(1_500_000, 'JPY', 'en-GB')).toBe('JP¥2');
    expect(formatMoney(1_234_567, 'KWD', 'en-GB').replace(/\s/g, ' ')).toBe('KWD 1.235'); // ICU puts a no-break space there
    expect(formatMoney(999_999_999_999_999, 'GBP', 'en-GB')).toBe('£1,000,000,000.00');
  });

  it('reads form amounts exactly', () => {
    expect(parseAmount('2.50')).toBe(2_500_000);
    expect(parseAmount('0,1')).toBe(100_000);
    expect(parseAmount('0.000001')).toBe(1);
    expect(parseAmount('1.0000001')).toBeUndefined();
    expect(parseAmount('-3')).toBeUndefined();
    expect(parseAmount('-3', { allowNegative: true })).toBe(-3_000_000);
    expect(parseAmount('1e3')).toBeUndefined();
    expect(parseAmount('')).toBeUndefined();
  });
});
