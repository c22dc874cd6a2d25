import type { Rate } from '../../src/billing/rating/index.ts';

/** A rate with the given overrides on top of a plain 60/60, 0.06 per minute, no-fee rate. */
export function makeRate(overrides: Partial<Rate> = {}): Rate {
  return {
    prefix: '44',
    description: 'United Kingdom',
    pricePerMinute: 60_000,
    connectionFee: 0,
    minimumSeconds: 0,
    initialIncrement: 60,
    subsequentIncrement: 60,
    effectiveFrom: new Date('2024-01-01T00:00:00.000Z'),
    effectiveUntil: null,
    connectionFeePolicy: 'answered',
    ...overrides,
  };
}
