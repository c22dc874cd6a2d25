import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { answeredDeadline, coverAfterExtensionAtMost, secondsCovered, sliceCost } from '../../src/billing/credit/credit-plan.ts';
import { callCost } from '../../src/billing/rating/index.ts';
import type { Rate } from '../../src/billing/rating/index.ts';

const rate = (over: Partial<Rate> = {}): Rate => ({
  prefix: '44',
  description: '',
  pricePerMinute: 60_000,
  connectionFee: 10_000,
  minimumSeconds: 0,
  initialIncrement: 60,
  subsequentIncrement: 60,
  effectiveFrom: new Date(0),
  effectiveUntil: null,
  connectionFeePolicy: 'answered',
  ...over,
});

describe('slice cost', () => {
  it('first slice of 60 s at 0.06/min with a 0.01 fee costs 0.07; the least that buys a second is the same (60/60)', () => {
    expect(sliceCost(rate(), 0, 60)).toEqual({ min: 70_000, want: 70_000 });
  });
  it('a 1/1 rate: the first second costs fee + 1 s; the next slice costs exactly 60 s', () => {
    const r = rate({ initialIncrement: 1, subsequentIncrement: 1 });
    expect(sliceCost(r, 0, 60)).toEqual({ min: 11_000, want: 70_000 });
    expect(sliceCost(r, 60, 60)).toEqual({ min: 1_000, want: 60_000 });
  });
  it('the money reserved for slices covers exactly the seconds planned', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 5_000_000 }),
        fc.integer({ min: 0, max: 100_000 }),
        fc.constantFrom(1, 6, 30, 60),
        fc.constantFrom(1, 6, 60),
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 6, max: 600 }),
        (ppm, fee, initial, subsequent, slices, slice) => {
          const r = rate({ pricePerMinute: ppm, connectionFee: fee, initialIncrement: initial, subsequentIncrement: subsequent });
          let held = 0;
          let money = 0;
          for (let i = 0; i < slices; i++) {
            money += sliceCost(r, held, slice).want;
            held += slice;
          }
          expect(money).toBe(callCost(r, held));
          expect(secondsCovered(r, money, 1_000_000)).toBeGreaterThanOrEqual(held);
        },
      ),
    );
  });
});

describe('reservation deadline of an answered call', () => {
  it('is the covered second plus the grace, from the answer', () => {
    expect(answeredDeadline(1_000_000, 120, 15)).toBe(1_000_000 + 135_000);
  });

  it('the cover an extension can give is bounded from above without knowing the money held: never below the exact cover, at most one billing step above', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5_000_000 }),
        fc.integer({ min: 0, max: 100_000 }),
        fc.integer({ min: 0, max: 600 }),
        fc.integer({ min: 1, max: 300 }),
        fc.integer({ min: 1, max: 300 }),
        fc.integer({ min: 1, max: 50_000_000 }),
        fc.integer({ min: 0, max: 5_000_000 }),
        (ppm, fee, minimum, initial, subsequent, held, want) => {
          const r = rate({ pricePerMinute: ppm, connectionFee: fee, minimumSeconds: minimum, initialIncrement: initial, subsequentIncrement: subsequent });
          const cap = 14_400;
          const covered = secondsCovered(r, held, cap);
          if (covered === 0 || covered >= cap) return;
          const exact = secondsCovered(r, held + want, cap);
          const bound = coverAfterExtensionAtMost(r, covered, want, cap);
          expect(bound).toBeGreaterThanOrEqual(exact);
          expect(bound - exact).toBeLessThanOrEqual(Math.max(initial, subsequent, minimum));
        },
      ),
      { numRuns: 3000 },
    );
  });
});
