import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  billableSecondsFromMs,
  callCost,
  ceilDiv,
  formatDecimalMicros,
  maxAffordableSeconds,
  maxCallCostProblem,
  parseDecimalMicros,
  type Rate,
} from '../../src/billing/rating/index.ts';
import { makeRate } from './rating-fixtures.ts';

const rateArb: fc.Arbitrary<Rate> = fc
  .record({
    pricePerMinute: fc.oneof(fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 10_000_000 })),
    connectionFee: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 1_000_000 })),
    minimumSeconds: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 600 })),
    initialIncrement: fc.integer({ min: 1, max: 120 }),
    subsequentIncrement: fc.integer({ min: 1, max: 120 }),
    connectionFeePolicy: fc.constantFrom('answered' as const, 'always' as const),
  })
  .map((fields) => makeRate(fields));

const durationArb = fc.oneof(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 20_000 }));

/**
 * The cost rules computed another way: walk increments one at a time in bigint and round up
 * with (a + b − 1) / b.
 */
function referenceCost(rate: Rate, d: number, answered: boolean): bigint {
  if (d === 0) return answered && rate.connectionFeePolicy === 'always' ? BigInt(rate.connectionFee) : 0n;
  let billed = BigInt(rate.initialIncrement);
  while (billed < BigInt(d)) billed += BigInt(rate.subsequentIncrement);
  if (billed < BigInt(rate.minimumSeconds)) billed = BigInt(rate.minimumSeconds);
  return BigInt(rate.connectionFee) + (BigInt(rate.pricePerMinute) * billed + 59n) / 60n;
}

describe('call cost properties', () => {
  it('is never negative', () => {
    fc.assert(
      fc.property(rateArb, durationArb, fc.boolean(), (rate, d, answered) => {
        expect(callCost(rate, d, answered || d > 0)).toBeGreaterThanOrEqual(0);
      }),
    );
  });

  it('never decreases as the duration grows', () => {
    fc.assert(
      fc.property(rateArb, durationArb, durationArb, (rate, a, b) => {
        const [shorter, longer] = a <= b ? [a, b] : [b, a];
        expect(callCost(rate, shorter)).toBeLessThanOrEqual(callCost(rate, longer));
        expect(callCost(rate, shorter, true)).toBeLessThanOrEqual(callCost(rate, longer, true));
      }),
    );
  });

  it('equals an increment-by-increment bigint computation', () => {
    fc.assert(
      fc.property(rateArb, durationArb, fc.boolean(), (rate, d, answered) => {
        const isAnswered = answered || d > 0;
        expect(BigInt(callCost(rate, d, isAnswered))).toBe(referenceCost(rate, d, isAnswered));
      }),
      { numRuns: 500 },
    );
  });
});

describe('maxAffordableSeconds properties', () => {
  it('is the longest duration within the cap whose cost fits the available credit', () => {
    fc.assert(
      fc.property(
        rateArb,
        fc.oneof(fc.integer({ min: 0, max: 200_000 }), fc.integer({ min: 0, max: 1_000_000_000 })),
        fc.integer({ min: 0, max: 20_000 }),
        (rate, available, cap) => {
          const d = maxAffordableSeconds(rate, available, cap);
          expect(Number.isSafeInteger(d)).toBe(true);
          expect(d).toBeGreaterThanOrEqual(0);
          expect(d).toBeLessThanOrEqual(cap);
          expect(callCost(rate, d)).toBeLessThanOrEqual(available);
          if (d < cap) expect(callCost(rate, d + 1)).toBeGreaterThan(available);
        },
      ),
      { numRuns: 1_000 },
    );
  });

  it('affords at least any duration whose exact cost is available', () => {
    fc.assert(
      fc.property(rateArb, fc.integer({ min: 1, max: 20_000 }), (rate, d) => {
        const cost = callCost(rate, d);
        expect(maxAffordableSeconds(rate, cost, d)).toBe(d);
        expect(maxAffordableSeconds(rate, cost, 40_000)).toBeGreaterThanOrEqual(d);
      }),
    );
  });
});

describe('integer helpers', () => {
  it('rounds milliseconds up like a bigint ceiling', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), (ms) => {
        expect(BigInt(billableSecondsFromMs(ms))).toBe((BigInt(ms) + 999n) / 1000n);
      }),
    );
  });

  it('divides with ceiling like bigint', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), (a, b) => {
        expect(BigInt(ceilDiv(a, b))).toBe((BigInt(a) + BigInt(b) - 1n) / BigInt(b));
      }),
    );
  });

  it('writes and reads every safe amount back unchanged', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), (micros) => {
        expect(parseDecimalMicros(formatDecimalMicros(micros))).toEqual({ ok: true, micros });
      }),
    );
  });

  it('reads a decimal with up to 6 decimals as the same value in micro-units', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 9_000_000_000n }), fc.integer({ min: 0, max: 6 }), fc.nat(999_999), (whole, places, fractionSeed) => {
        const fraction = places === 0 ? '' : String(fractionSeed % 10 ** places).padStart(places, '0');
        const text = fraction === '' ? String(whole) : `${whole}.${fraction}`;
        const expected = whole * 1_000_000n + (fraction === '' ? 0n : BigInt(fraction.padEnd(6, '0')));
        expect(parseDecimalMicros(text)).toEqual({ ok: true, micros: Number(expected) });
      }),
    );
  });
});

describe('rates the import accepts for a maximum call duration', () => {
  const wideRateArb: fc.Arbitrary<Rate> = fc
    .record({
      pricePerMinute: fc.oneof(fc.integer({ min: 0, max: 10_000_000 }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })),
      connectionFee: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })),
      minimumSeconds: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })),
      initialIncrement: fc.oneof(fc.integer({ min: 1, max: 120 }), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER })),
      subsequentIncrement: fc.oneof(fc.integer({ min: 1, max: 120 }), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER })),
      connectionFeePolicy: fc.constantFrom('answered' as const, 'always' as const),
    })
    .map((fields) => makeRate(fields));
  const LIMIT = 1_000_000_000_000_000;

  it('accepted: every call up to that duration is priced within the limit; refused: exactly when the exact cost, or a product on the way, is out of range', () => {
    const SAFE = BigInt(Number.MAX_SAFE_INTEGER);
    fc.assert(
      fc.property(wideRateArb, fc.integer({ min: 60, max: 172_800 }), fc.double({ min: 0, max: 1, noNaN: true }), (rate, max, share) => {
        const d = BigInt(max);
        const initial = BigInt(rate.initialIncrement);
        const sub = BigInt(rate.subsequentIncrement);
        let billed = d <= initial ? initial : initial + ((d - initial + sub - 1n) / sub) * sub;
        if (billed < BigInt(rate.minimumSeconds)) billed = BigInt(rate.minimumSeconds);
        const usage = BigInt(rate.pricePerMinute) * billed;
        const exact = BigInt(rate.connectionFee) + (usage + 59n) / 60n;
        const outOfRange = billed > SAFE || usage > SAFE || exact > SAFE || exact > BigInt(LIMIT);
        const problem = maxCallCostProblem(rate, max, LIMIT);
        expect(problem !== undefined).toBe(outOfRange);
        if (problem === undefined) {
          expect(BigInt(callCost(rate, max))).toBe(exact);
          expect(callCost(rate, Math.floor(share * max))).toBeLessThanOrEqual(LIMIT);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
