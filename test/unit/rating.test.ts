import { describe, expect, it } from 'vitest';
import { billableSecondsFromMs, billedSeconds, callCost, maxAffordableSeconds } from '../../src/billing/rating/index.ts';
import { makeRate } from './rating-fixtures.ts';

describe('answered milliseconds round up to whole seconds', () => {
  it.each([
    [0, 0],
    [1, 1],
    [999, 1],
    [1000, 1],
    [1001, 2],
    [59_999, 60],
    [60_000, 60],
    [60_001, 61],
  ])('%i ms bills as %i s', (ms, seconds) => {
    expect(billableSecondsFromMs(ms)).toBe(seconds);
  });

  it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53])('rejects %s ms as a bug', (ms) => {
    expect(() => billableSecondsFromMs(ms)).toThrow(RangeError);
  });
});

describe('a 60/60 rate at 0.06 per minute', () => {
  const rate = makeRate({ pricePerMinute: 60_000, initialIncrement: 60, subsequentIncrement: 60 });
  it.each([
    // d, billed, cost
    [0, 0, 0],
    [1, 60, 60_000],
    [59, 60, 60_000],
    [60, 60, 60_000],
    [61, 120, 120_000],
    [120, 120, 120_000],
    [121, 180, 180_000],
  ])('a %i s call bills %i s and costs %i micro-units', (d, billed, cost) => {
    expect(billedSeconds(rate, d)).toBe(billed);
    expect(callCost(rate, d)).toBe(cost);
  });
});

describe('a 30/6 rate at 0.10 per minute', () => {
  const rate = makeRate({ pricePerMinute: 100_000, initialIncrement: 30, subsequentIncrement: 6 });
  it.each([
    [0, 0, 0],
    [1, 30, 50_000],
    [30, 30, 50_000],
    [31, 36, 60_000],
    [36, 36, 60_000],
    [37, 42, 70_000],
    [59, 60, 100_000],
    [60, 60, 100_000],
    [61, 66, 110_000],
  ])('a %i s call bills %i s and costs %i micro-units', (d, billed, cost) => {
    expect(billedSeconds(rate, d)).toBe(billed);
    expect(callCost(rate, d)).toBe(cost);
  });
});

describe('a 1/1 rate at 0.01 per minute rounds each call up to the next micro-unit', () => {
  const rate = makeRate({ pricePerMinute: 10_000, initialIncrement: 1, subsequentIncrement: 1 });
  it.each([
    [0, 0, 0],
    [1, 1, 167], // 10000 × 1 / 60 = 166.67 → 167
    [2, 2, 334], // 333.33 → 334
    [6, 6, 1_000],
    [59, 59, 9_834], // 9833.33 → 9834
    [60, 60, 10_000],
    [61, 61, 10_167], // 10166.67 → 10167
  ])('a %i s call bills %i s and costs %i micro-units', (d, billed, cost) => {
    expect(billedSeconds(rate, d)).toBe(billed);
    expect(callCost(rate, d)).toBe(cost);
  });

  it('charges 1 micro-unit for one second at 1 micro-unit per minute', () => {
    expect(callCost(makeRate({ pricePerMinute: 1, initialIncrement: 1, subsequentIncrement: 1 }), 1)).toBe(1);
  });
});

describe('minimum billed seconds', () => {
  it.each([
    [0, 0, 0],
    [1, 30, 30_000],
    [29, 30, 30_000],
    [30, 30, 30_000],
    [31, 31, 31_000],
  ])('a 1/1 rate with a 30 s minimum bills a %i s call as %i s (%i micro-units)', (d, billed, cost) => {
    const rate = makeRate({ initialIncrement: 1, subsequentIncrement: 1, minimumSeconds: 30 });
    expect(billedSeconds(rate, d)).toBe(billed);
    expect(callCost(rate, d)).toBe(cost);
  });

  it.each([
    [1, 90],
    [60, 90],
    [61, 120],
    [90, 120],
    [121, 180],
  ])('a 60/60 rate with a 90 s minimum bills a %i s call as %i s', (d, billed) => {
    expect(billedSeconds(makeRate({ minimumSeconds: 90 }), d)).toBe(billed);
  });
});

describe('connection fees', () => {
  const answeredPolicy = makeRate({ connectionFee: 25_000 });
  const alwaysPolicy = makeRate({ connectionFee: 25_000, connectionFeePolicy: 'always' });

  it('adds the fee to every call with an answered duration', () => {
    expect(callCost(answeredPolicy, 1)).toBe(85_000);
    expect(callCost(answeredPolicy, 61)).toBe(145_000);
    expect(callCost(alwaysPolicy, 1)).toBe(85_000);
  });

  it('charges nothing for a 0 s call under the default answered policy, answered or not', () => {
    expect(callCost(answeredPolicy, 0)).toBe(0);
    expect(callCost(answeredPolicy, 0, true)).toBe(0);
    expect(callCost(answeredPolicy, 0, false)).toBe(0);
  });

  it('charges the fee for an answered 0 s call under the always policy', () => {
    expect(callCost(alwaysPolicy, 0, true)).toBe(25_000);
  });

  it('charges nothing for an unanswered call under the always policy', () => {
    expect(callCost(alwaysPolicy, 0)).toBe(0);
    expect(callCost(alwaysPolicy, 0, false)).toBe(0);
  });

  it('charges only the fee on a free-per-minute rate', () => {
    expect(callCost(makeRate({ pricePerMinute: 0, connectionFee: 5 }), 3_600)).toBe(5);
  });
});

describe('bad arguments are bugs and throw a RangeError', () => {
  const rate = makeRate();
  it.each([-1, 0.5, Number.NaN, Number.POSITIVE_INFINITY])('duration %s', (d) => {
    expect(() => callCost(rate, d)).toThrow(RangeError);
    expect(() => billedSeconds(rate, d)).toThrow(RangeError);
  });

  it('an unanswered call with a duration', () => {
    expect(() => callCost(rate, 5, false)).toThrow(RangeError);
  });

  it.each([
    ['negative price', { pricePerMinute: -1 }],
    ['fractional price', { pricePerMinute: 0.5 }],
    ['negative fee', { connectionFee: -1 }],
    ['zero initial increment', { initialIncrement: 0 }],
    ['zero subsequent increment', { subsequentIncrement: 0 }],
    ['negative minimum', { minimumSeconds: -1 }],
    ['prefix with +', { prefix: '+44' }],
    ['16-digit prefix', { prefix: '1234567890123456' }],
    ['window ending at its start', { effectiveUntil: new Date('2024-01-01T00:00:00.000Z') }],
    ['invalid date', { effectiveFrom: new Date(Number.NaN) }],
  ])('a rate with a %s', (_name, overrides) => {
    expect(() => callCost(makeRate(overrides), 10)).toThrow(RangeError);
  });

  it('a cost beyond the safe-integer range', () => {
    const expensive = makeRate({ pricePerMinute: Number.MAX_SAFE_INTEGER, initialIncrement: 1, subsequentIncrement: 1 });
    expect(() => callCost(expensive, 120)).toThrow(RangeError);
  });

  it.each([
    [-1, 60],
    [1.5, 60],
    [100, -1],
    [100, 0.5],
  ])('maxAffordableSeconds with available %s and cap %s', (available, cap) => {
    expect(() => maxAffordableSeconds(rate, available, cap)).toThrow(RangeError);
  });
});

describe('maxAffordableSeconds', () => {
  it.each([
    // available, cap, seconds
    [0, 3_600, 0],
    [59_999, 3_600, 0], // the first minute costs 60,000
    [60_000, 3_600, 60], // exactly the first minute
    [119_999, 3_600, 60],
    [120_000, 3_600, 120],
    [1_000_000, 100, 100], // capped
    [1_000_000, 0, 0],
    [1_000_000, 1, 1],
  ])('60/60 at 0.06: %i micro-units with a %i s cap last %i s', (available, cap, seconds) => {
    expect(maxAffordableSeconds(makeRate(), available, cap)).toBe(seconds);
  });

  it.each([
    [24_999, 0], // not even the connection fee
    [25_000, 0], // the fee but not the first minute
    [84_999, 0],
    [85_000, 60], // fee plus first minute exactly
    [145_000, 120],
  ])('60/60 with a 0.025 connection fee: %i micro-units last %i s', (available, seconds) => {
    expect(maxAffordableSeconds(makeRate({ connectionFee: 25_000 }), available, 3_600)).toBe(seconds);
  });

  it.each([
    [49_999, 0],
    [50_000, 30],
    [59_999, 30], // 36 s costs 60,000
    [60_000, 36],
    [100_000, 60],
  ])('30/6 at 0.10: %i micro-units last %i s', (available, seconds) => {
    const rate = makeRate({ pricePerMinute: 100_000, initialIncrement: 30, subsequentIncrement: 6 });
    expect(maxAffordableSeconds(rate, available, 3_600)).toBe(seconds);
  });

  it.each([
    [166, 0],
    [167, 1],
    [10_000, 60],
    [10_166, 60], // 61 s costs 10,167
    [10_167, 61],
  ])('1/1 at 0.01: %i micro-units last %i s', (available, seconds) => {
    const rate = makeRate({ pricePerMinute: 10_000, initialIncrement: 1, subsequentIncrement: 1 });
    expect(maxAffordableSeconds(rate, available, 3_600)).toBe(seconds);
  });

  it.each([
    [29_999, 0],
    [30_000, 30], // every call up to 30 s costs the 30 s minimum
    [30_999, 30],
    [31_000, 31],
  ])('1/1 with a 30 s minimum: %i micro-units last %i s', (available, seconds) => {
    const rate = makeRate({ initialIncrement: 1, subsequentIncrement: 1, minimumSeconds: 30 });
    expect(maxAffordableSeconds(rate, available, 3_600)).toBe(seconds);
  });

  it('a free rate lasts up to the cap once its fee is affordable', () => {
    expect(maxAffordableSeconds(makeRate({ pricePerMinute: 0 }), 0, 7_200)).toBe(7_200);
    expect(maxAffordableSeconds(makeRate({ pricePerMinute: 0, connectionFee: 100 }), 99, 7_200)).toBe(0);
    expect(maxAffordableSeconds(makeRate({ pricePerMinute: 0, connectionFee: 100 }), 100, 7_200)).toBe(7_200);
  });

  it('handles the largest balances without overflow', () => {
    const rate = makeRate({ pricePerMinute: 1, initialIncrement: 1, subsequentIncrement: 1 });
    expect(maxAffordableSeconds(rate, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER)).toBe(Number.MAX_SAFE_INTEGER);
  });
});
