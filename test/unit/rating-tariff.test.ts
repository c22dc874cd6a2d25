import { describe, expect, it } from 'vitest';
import { Tariff, TariffConflictError, type Rate } from '../../src/billing/rating/index.ts';
import { makeRate } from './rating-fixtures.ts';

const at = (iso: string): Date => new Date(iso);
const NOW = at('2025-06-01T12:00:00.000Z');

describe('longest prefix wins', () => {
  const tariff = new Tariff('retail', [
    makeRate({ prefix: '4', description: 'Europe zone 4' }),
    makeRate({ prefix: '44', description: 'United Kingdom' }),
    makeRate({ prefix: '447', description: 'United Kingdom mobile' }),
    makeRate({ prefix: '4477009', description: 'United Kingdom mobile, one operator' }),
  ]);

  it.each([
    ['447700900123', '4477009'],
    ['447911123456', '447'],
    ['442071234567', '44'],
    ['4930123456', '4'],
    ['447', '447'],
    ['44', '44'],
  ])('%s is rated by prefix %s', (number, prefix) => {
    expect(tariff.lookup(number, NOW)?.prefix).toBe(prefix);
  });

  it('an unknown destination has no rate', () => {
    expect(tariff.lookup('12125551234', NOW)).toBeUndefined();
    expect(new Tariff('empty', []).lookup('44', NOW)).toBeUndefined();
  });

  it('counts every rate', () => {
    expect(tariff.size).toBe(4);
  });
});

describe('effective windows', () => {
  const old = makeRate({ prefix: '44', pricePerMinute: 50_000, effectiveFrom: at('2024-01-01T00:00:00.000Z'), effectiveUntil: at('2025-01-01T00:00:00.000Z') });
  const current = makeRate({ prefix: '44', pricePerMinute: 40_000, effectiveFrom: at('2025-01-01T00:00:00.000Z'), effectiveUntil: null });
  const tariff = new Tariff('retail', [current, old]);

  it.each([
    ['2023-12-31T23:59:59.999Z', undefined], // before the first window
    ['2024-01-01T00:00:00.000Z', 50_000], // from is inclusive
    ['2024-12-31T23:59:59.999Z', 50_000], // last instant before until
    ['2025-01-01T00:00:00.000Z', 40_000], // until is exclusive; the next window starts there
    ['9999-12-31T23:59:59.999Z', 40_000], // open-ended
  ])('at %s the price is %s', (instant, price) => {
    expect(tariff.lookup('447700900123', at(instant))?.pricePerMinute).toBe(price);
  });

  it('a rate that has ended has no successor: the destination is unknown at its until instant', () => {
    const ended = new Tariff('t', [makeRate({ effectiveFrom: at('2024-01-01T00:00:00.000Z'), effectiveUntil: at('2024-02-01T00:00:00.000Z') })]);
    expect(ended.lookup('44', at('2024-01-31T23:59:59.999Z'))).toBeDefined();
    expect(ended.lookup('44', at('2024-02-01T00:00:00.000Z'))).toBeUndefined();
  });

  it('a longer prefix that is not in effect falls back to a shorter one', () => {
    const tariff2 = new Tariff('t', [
      makeRate({ prefix: '44', description: 'UK' }),
      makeRate({ prefix: '447', description: 'UK mobile', effectiveFrom: at('2025-07-01T00:00:00.000Z') }),
    ]);
    expect(tariff2.lookup('447700900123', at('2025-06-30T23:59:59.999Z'))?.description).toBe('UK');
    expect(tariff2.lookup('447700900123', at('2025-07-01T00:00:00.000Z'))?.description).toBe('UK mobile');
  });

  it('finds the right window among many for one prefix', () => {
    const months: Rate[] = Array.from({ length: 24 }, (_, i) =>
      makeRate({
        pricePerMinute: i,
        effectiveFrom: new Date(Date.UTC(2024, i, 1)),
        effectiveUntil: new Date(Date.UTC(2024, i + 1, 1)),
      }),
    );
    const monthly = new Tariff('monthly', months.reverse());
    for (let i = 0; i < 24; i++) {
      expect(monthly.lookup('44', new Date(Date.UTC(2024, i, 15)))?.pricePerMinute).toBe(i);
      expect(monthly.lookup('44', new Date(Date.UTC(2024, i, 1)))?.pricePerMinute).toBe(i);
    }
    expect(monthly.lookup('44', new Date(Date.UTC(2026, 0, 1)))).toBeUndefined();
    expect(monthly.size).toBe(24);
  });
});

describe('ties on one prefix', () => {
  const jan = at('2025-01-01T00:00:00.000Z');
  const feb = at('2025-02-01T00:00:00.000Z');
  const mar = at('2025-03-01T00:00:00.000Z');

  it('rejects two rates for one prefix with the same window', () => {
    expect(() => new Tariff('retail', [makeRate(), makeRate()])).toThrow(TariffConflictError);
  });

  it('rejects an open-ended window that overlaps a later one, naming the prefix and both windows', () => {
    const construct = (): Tariff =>
      new Tariff('retail', [makeRate({ prefix: '33', effectiveFrom: jan }), makeRate({ prefix: '33', effectiveFrom: feb, effectiveUntil: mar })]);
    expect(construct).toThrow(TariffConflictError);
    expect(construct).toThrow(
      /tariff "retail": prefix 33 has overlapping effective windows \[2025-01-01T00:00:00\.000Z, open-ended\) \(rate #1\) and \[2025-02-01T00:00:00\.000Z, 2025-03-01T00:00:00\.000Z\) \(rate #2\)/,
    );
  });

  it('rejects a window nested inside an earlier, longer one', () => {
    expect(
      () =>
        new Tariff('t', [
          makeRate({ effectiveFrom: jan, effectiveUntil: mar }),
          makeRate({ effectiveFrom: at('2024-06-01T00:00:00.000Z'), effectiveUntil: at('2025-12-01T00:00:00.000Z') }),
          makeRate({ effectiveFrom: feb, effectiveUntil: at('2025-02-02T00:00:00.000Z') }),
        ]),
    ).toThrow(TariffConflictError);
  });

  it('accepts windows that touch (until of one = from of the next)', () => {
    const tariff = new Tariff('t', [
      makeRate({ effectiveFrom: jan, effectiveUntil: feb }),
      makeRate({ effectiveFrom: feb, effectiveUntil: mar }),
      makeRate({ effectiveFrom: mar }),
    ]);
    expect(tariff.size).toBe(3);
  });

  it('accepts the same window on different prefixes', () => {
    expect(new Tariff('t', [makeRate({ prefix: '44' }), makeRate({ prefix: '441' })]).size).toBe(2);
  });
});

describe('bad input to the tariff', () => {
  const tariff = new Tariff('t', [makeRate()]);

  it.each(['+447700900123', '44 77', '', '44a'])('refuses the destination "%s" as a caller bug', (number) => {
    expect(() => tariff.lookup(number, NOW)).toThrow(RangeError);
  });

  it('refuses an invalid instant', () => {
    expect(() => tariff.lookup('44', new Date(Number.NaN))).toThrow(RangeError);
  });

  it('refuses an invalid rate and an empty id', () => {
    expect(() => new Tariff('t', [makeRate({ subsequentIncrement: 0 })])).toThrow(RangeError);
    expect(() => new Tariff('', [])).toThrow(RangeError);
  });

  it('is not changed by later changes to the rates it was built from', () => {
    const rate = makeRate();
    const copy = new Tariff('t', [rate]);
    rate.prefix = '1';
    rate.effectiveFrom.setTime(Date.UTC(2030, 0, 1));
    expect(copy.lookup('44', NOW)?.prefix).toBe('44');
    expect(copy.rates[0]?.effectiveFrom.toISOString()).toBe('2024-01-01T00:00:00.000Z');
  });
});
