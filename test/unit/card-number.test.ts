import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { containsCardNumber, findCardNumber, luhnValid, maskCardNumbers } from '../../src/common/card-number.ts';

/** Appends the Luhn check digit to `body`. */
function withCheckDigit(body: string): string {
  for (let d = 0; d <= 9; d++) if (luhnValid(body + String(d))) return body + String(d);
  throw new Error('unreachable');
}

const digit = fc.constantFrom(...'0123456789'.split(''));
/** A Luhn-valid card number of 13–19 digits starting with a payment-card industry digit. */
const pan = fc
  .tuple(fc.constantFrom('1', '2', '3', '4', '5', '6'), fc.array(digit, { minLength: 11, maxLength: 17 }))
  .map(([first, rest]) => withCheckDigit(first + rest.join('')));
/** The same number written as people write it: together, in groups of four, dashed. */
const written = fc.tuple(pan, fc.constantFrom('', ' ', '-')).map(([p, sep]) => (sep === '' ? p : (p.match(/.{1,4}/g) ?? []).join(sep)));
/** Text that holds no digit at all. */
const words = fc.string({ maxLength: 40 }).map((s) => s.replace(/[0-9+]/g, 'x'));

describe('card numbers in stored text', () => {
  it('the well-known test numbers are found, however they are written', () => {
    for (const n of ['4111111111111111', '4111 1111 1111 1111', '4111-1111-1111-1111', '5555555555554444', '378282246310005', '6011111111111117']) {
      expect(containsCardNumber(n), n).toBe(true);
      expect(containsCardNumber(`ref ${n} paid`), n).toBe(true);
      expect(containsCardNumber(`tok_test_${n}`), n).toBe(true);
    }
  });

  it('property: a card number inside any text is found, where it is', () => {
    fc.assert(
      fc.property(words, written, words, (before, card, after) => {
        const text = `${before} ${card} ${after}`;
        const m = findCardNumber(text);
        expect(m).toBeDefined();
        expect(m!.start).toBeGreaterThanOrEqual(before.length);
        expect(m!.end).toBeLessThanOrEqual(before.length + 1 + card.length);
      }),
      { numRuns: 2000, seed: 20261207 },
    );
  });

  it('property: a wrong check digit is never a card number', () => {
    fc.assert(
      fc.property(pan, fc.integer({ min: 1, max: 9 }), (p, shift) => {
        const last = (Number(p.at(-1)) + shift) % 10;
        expect(containsCardNumber(p.slice(0, -1) + String(last))).toBe(false);
      }),
      { numRuns: 2000, seed: 7 },
    );
  });

  it('property: E.164 numbers, short numbers, long runs and amounts are not card numbers', () => {
    fc.assert(
      fc.property(fc.array(digit, { minLength: 6, maxLength: 14 }), (rest) => {
        expect(containsCardNumber(`+1${rest.join('')}`)).toBe(false);
      }),
      { numRuns: 1000, seed: 11 },
    );
    fc.assert(
      fc.property(fc.array(digit, { minLength: 0, maxLength: 12 }), (ds) => {
        expect(containsCardNumber(ds.join(''))).toBe(false);
      }),
      { numRuns: 1000, seed: 12 },
    );
    fc.assert(
      fc.property(fc.array(digit, { minLength: 20, maxLength: 40 }), (ds) => {
        expect(containsCardNumber(ds.join(''))).toBe(false); // written together, over 19 digits
      }),
      { numRuns: 1000, seed: 13 },
    );
    expect(containsCardNumber('10.00 GBP on 2026-12-07, account 100000123')).toBe(false);
    expect(containsCardNumber('9111111111111113')).toBe(false); // Luhn-valid, but not a payment card industry
  });

  it('a card number after a telephone number in the same run of groups is still found', () => {
    expect(containsCardNumber('+44 4111 1111 1111 1111')).toBe(true);
  });

  it('masking keeps the first six and last four digits only, and leaves nothing to find', () => {
    expect(maskCardNumbers('paid with 4111 1111 1111 1111 today')).toBe('paid with 411111…1111 today');
    fc.assert(
      fc.property(words, written, written, (text, a, b) => {
        const masked = maskCardNumbers(`${text} ${a} and ${b}`);
        expect(containsCardNumber(masked)).toBe(false);
      }),
      { numRuns: 1000, seed: 21 },
    );
  });
});
