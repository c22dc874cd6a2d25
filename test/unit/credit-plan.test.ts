import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { secondsCovered, sliceCost } from '../../src/billing/credit/credit-plan.ts';
import { callCost } from '../../src/billing/rating/index.ts';
import type { Rate } from '../../src/billing/rating/index.ts';

const rate = (over: Partial<Rate> = {}): Rate => ({
  prefix: '44', description: '', pricePerMinute: 60_000, connectionFee: 10_000, minimumSeconds: 0,
  initialIncrement: 60, subsequentIncrement: 60, effectiveFrom: new Date(0), effectiveUntil: null, connectionFeePolicy: 'answered', ...over,
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
    fc.assert(fc.property(
      fc.integer({ min: 0, max: 5_000_000 }), fc.integer({ min: 0, max: 100_000 }), fc.constantFrom(1, 6, 30, 60), fc.constantFrom(1, 6, 60),
      fc.integer({ min: 1, max: 20 }), fc.integer({ min: 6, max: 600 }),
      (ppm, fee, initial, subsequent, slices, slice) => {
        const r = rate({ pricePerMinute: ppm, connectionFee: fee, initialIncrement: initial, subsequentIncrement: subsequent });
        let held = 0; let money = 0;
        for (let i = 0; i < slices; i++) { money += sliceCost(r, held, slice).want; held += slice; }
        expect(money).toBe(callCost(r, held));
        expect(secondsCovered(r, money, 1_000_000)).toBeGreaterThanOrEqual(held);
      }));
  });
});
