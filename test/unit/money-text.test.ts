import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatAmount, formatRounded, MAX_MICROS, minorUnitDigits, minorUnitsOf, parseAmount } from '../../src/common/money-text.ts';

const amount = fc.integer({ min: -MAX_MICROS, max: MAX_MICROS });
/** Decimal text built from digits, never from a number: whole part, 0-6 decimals, maybe a sign. */
const decimalText = fc
  .tuple(fc.boolean(), fc.bigInt({ min: 0n, max: 999_999_999n }), fc.integer({ min: 0, max: 6 }), fc.nat(999_999))
  .map(([neg, whole, places, seed]) => {
    const fraction = places === 0 ? '' : String(seed % 10 ** places).padStart(places, '0');
    const micros = whole * 1_000_000n + BigInt(fraction.padEnd(6, '0'));
    return { text: `${neg ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`, micros: neg ? -micros : micros };
  });

describe('money text: one rule for decimal amounts', () => {
  it('reads back every amount it writes (format then parse is the identity), with or without padding decimals', () => {
    fc.assert(
      fc.property(amount, fc.integer({ min: 0, max: 6 }), (micros, minDecimals) => {
        const text = formatAmount(micros, { minDecimals });
        expect(parseAmount(text, { negative: true })).toEqual({ ok: true, micros: micros === 0 ? 0 : micros });
      }),
    );
  });

  it('reads a decimal as the exact integer its digits spell, and writes it back in canonical form', () => {
    fc.assert(
      fc.property(decimalText, ({ text, micros }) => {
        const read = parseAmount(text, { negative: true });
        expect(read).toEqual({ ok: true, micros: Number(micros) });
        if (read.ok) expect(parseAmount(formatAmount(read.micros), { negative: true })).toEqual(read);
      }),
    );
  });

  it('refuses what is not a plain decimal, and says why', () => {
    const cases: [string, string][] = [
      ['', 'empty'],
      ['-1', 'negative'],
      ['1e3', 'exponent'],
      ['1.', 'syntax'],
      ['.5', 'syntax'],
      ['+1', 'syntax'],
      [' 1', 'syntax'],
      ['1,5', 'syntax'],
      ['1.2.3', 'syntax'],
      ['0x10', 'syntax'],
      ['Infinity', 'syntax'],
      ['NaN', 'syntax'],
      ['1.0000001', 'decimals'],
      ['1000000000.000001', 'too_large'],
      ['9'.repeat(70), 'syntax'],
    ];
    for (const [text, reason] of cases) expect(parseAmount(text), text).toMatchObject({ ok: false, reason });
    expect(parseAmount('0', { zero: false })).toMatchObject({ ok: false, reason: 'zero' });
    expect(parseAmount('1000000000')).toEqual({ ok: true, micros: MAX_MICROS });
    expect(parseAmount('9007199254.740991', { max: Number.MAX_SAFE_INTEGER })).toEqual({ ok: true, micros: Number.MAX_SAFE_INTEGER });
    expect(parseAmount('-0', { negative: true })).toEqual({ ok: true, micros: 0 });
  });

  it('refuses any text a float would have to round: more than 6 decimals never reaches a number', () => {
    fc.assert(
      fc.property(fc.nat(1000), fc.integer({ min: 7, max: 20 }), fc.integer({ min: 1, max: 9 }), (whole, places, last) => {
        const text = `${whole}.${'0'.repeat(places - 1)}${last}`;
        expect(parseAmount(text)).toMatchObject({ ok: false, reason: 'decimals' });
      }),
    );
  });

  it('rounds to the minor unit half away from zero for display and towards zero for what a caller hears', () => {
    fc.assert(
      fc.property(amount, fc.integer({ min: 0, max: 6 }), (micros, digits) => {
        const step = 10n ** BigInt(6 - digits);
        const abs = BigInt(Math.abs(micros));
        expect(minorUnitsOf(micros, digits, 'toward-zero')).toBe(abs / step);
        const half = minorUnitsOf(micros, digits, 'half-away-from-zero');
        const twice = 2n * (half * step - abs); // the rounding error, doubled: within (-step, step], a tie goes up
        expect(twice > -step && twice <= step).toBe(true);
        const shown = formatRounded(micros, digits);
        const back = parseAmount(shown, { negative: true });
        expect(back.ok && BigInt(Math.abs(back.micros)) === half * step).toBe(true);
      }),
    );
    expect(formatRounded(5_000, 2)).toBe('0.01');
    expect(formatRounded(-5_000, 2)).toBe('-0.01');
    expect(formatRounded(-4_999, 2)).toBe('0.00');
    expect(minorUnitDigits('GBP')).toBe(2);
    expect(minorUnitDigits('JPY')).toBe(0);
    expect(minorUnitDigits('KWD')).toBe(3);
  });
});
