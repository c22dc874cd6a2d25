import fc from 'fast-check';
import { stringify } from 'csv-stringify/sync';
import { describe, expect, it } from 'vitest';
import { parseTariffCsv, tariffToCsv, TARIFF_CSV_COLUMNS, type Rate } from '../../src/billing/rating/index.ts';

const EARLIEST = Date.UTC(1970, 0, 1);
const LATEST = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

function rateArb(description: fc.Arbitrary<string>): fc.Arbitrary<Rate> {
  return fc
    .record({
      prefix: fc.oneof(fc.constantFrom('1', '44', '447', '33'), fc.stringMatching(/^[0-9]{1,15}$/)),
      description,
      pricePerMinute: fc.oneof(fc.integer({ min: 0, max: 1_000_000 }), fc.maxSafeNat()),
      connectionFee: fc.oneof(fc.constant(0), fc.maxSafeNat()),
      minimumSeconds: fc.nat(3_600),
      initialIncrement: fc.integer({ min: 1, max: 3_600 }),
      subsequentIncrement: fc.integer({ min: 1, max: 3_600 }),
      from: fc.integer({ min: EARLIEST, max: LATEST - 1 }),
      length: fc.option(fc.integer({ min: 1, max: 10 * 365 * 86_400_000 })),
      connectionFeePolicy: fc.constantFrom('answered' as const, 'always' as const),
    })
    .map(({ from, length, ...rest }) => ({
      ...rest,
      effectiveFrom: new Date(from),
      effectiveUntil: length === null ? null : new Date(Math.min(from + length, LATEST)),
    }));
}

/** Keeps each rate whose window does not overlap an earlier kept rate of the same prefix. */
function withoutOverlaps(rates: readonly Rate[]): Rate[] {
  const kept: Rate[] = [];
  const end = (rate: Rate): number => rate.effectiveUntil?.getTime() ?? Number.POSITIVE_INFINITY;
  for (const rate of rates) {
    const clash = kept.some((other) => other.prefix === rate.prefix && rate.effectiveFrom.getTime() < end(other) && other.effectiveFrom.getTime() < end(rate));
    if (!clash) kept.push(rate);
  }
  return kept;
}

const anyDescription = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.constantFrom('', ' ', ',', '"', '""', 'a\nb', 'a\r\nb', '\r', 'Côte d’Ivoire', '=1+1', ' padded '),
);
const ratesArb = fc.array(rateArb(anyDescription), { maxLength: 30 }).map(withoutOverlaps);

describe('tariff CSV round trip', () => {
  it('importing an export gives back the same rates', () => {
    fc.assert(
      fc.property(ratesArb, (rates) => {
        expect(parseTariffCsv(tariffToCsv(rates))).toEqual({ ok: true, rates });
      }),
      { numRuns: 300 },
    );
  });

  it('exporting an import gives back the same text', () => {
    fc.assert(
      fc.property(ratesArb, (rates) => {
        const csv = tariffToCsv(rates);
        const read = parseTariffCsv(csv);
        if (!read.ok) throw new Error(JSON.stringify(read.errors));
        expect(tariffToCsv(read.rates)).toBe(csv);
      }),
      { numRuns: 100 },
    );
  });
});

type Column = (typeof TARIFF_CSV_COLUMNS)[number];

const BAD_VALUES: Partial<Record<Column, readonly string[]>> = {
  prefix: ['', '+44', '44a', '1234567890123456', ' 44'],
  price_per_minute: ['', '-1', '0.0000001', '1e3', 'abc', '1.', '1,5', '99999999999'],
  connection_fee: ['', '-0.5', '0.1234567', '2E2', 'free'],
  minimum_seconds: ['', '-1', '1.5', 'x'],
  initial_increment: ['', '0', '-1', '2.5'],
  subsequent_increment: ['', '0', '-6', 'six'],
  effective_from: ['', 'yesterday', '2025-02-30', '2025-01-01T00:00:00+02:00', '2025-01-01T00:00', '1969-01-01'],
  effective_until: ['never', '2025-13-01', '1970-01-01'],
  connection_fee_policy: ['sometimes', 'ANSWERED', 'always '],
};
const badCellArb = fc
  .constantFrom(...Object.entries(BAD_VALUES))
  .chain(([column, values]) => fc.constantFrom(...(values ?? [])).map((value) => ({ column: column as Column, value })));

/** Rates whose rows each fit on one line, so row i is on line i + 2. */
const oneLineRatesArb = fc.array(rateArb(fc.stringMatching(/^[A-Za-z ]{0,12}$/)), { minLength: 1, maxLength: 10 }).map(withoutOverlaps);

function rows(rates: readonly Rate[]): string[][] {
  return tariffToCsv(rates)
    .trimEnd()
    .split('\n')
    .slice(1)
    .map((line) => line.split(','));
}

describe('a bad cell anywhere', () => {
  it('is reported with its line and column, and no rates are returned', () => {
    fc.assert(
      fc.property(oneLineRatesArb, fc.nat(), badCellArb, (rates, seed, bad) => {
        const table = rows(rates);
        const index = seed % table.length;
        const target = table[index] as string[];
        target[TARIFF_CSV_COLUMNS.indexOf(bad.column)] = bad.value;
        const result = parseTariffCsv(stringify([[...TARIFF_CSV_COLUMNS], ...table]));
        expect(result.ok).toBe(false);
        if (result.ok) return;
        expect(result).not.toHaveProperty('rates');
        expect(result.errors).toContainEqual(expect.objectContaining({ line: index + 2, column: bad.column }));
        expect(result.errors.every((error) => error.line === index + 2)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('a missing column is reported on the header line', () => {
    fc.assert(
      fc.property(oneLineRatesArb, fc.constantFrom(...TARIFF_CSV_COLUMNS), (rates, dropped) => {
        const keep = TARIFF_CSV_COLUMNS.map((column, i) => (column === dropped ? -1 : i)).filter((i) => i >= 0);
        const table = [[...TARIFF_CSV_COLUMNS], ...rows(rates)].map((row) => keep.map((i) => row[i] ?? ''));
        expect(parseTariffCsv(stringify(table))).toEqual({
          ok: false,
          errors: [{ line: 1, column: dropped, message: 'required column is missing from the header' }],
        });
      }),
    );
  });

  it('a repeated prefix and window is reported on the repeating line', () => {
    fc.assert(
      fc.property(oneLineRatesArb, fc.nat(), (rates, seed) => {
        const table = rows(rates);
        const copy = [...(table[seed % table.length] as string[])];
        const result = parseTariffCsv(stringify([[...TARIFF_CSV_COLUMNS], ...table, copy]));
        expect(result).toEqual({
          ok: false,
          errors: [expect.objectContaining({ line: table.length + 2, column: 'effective_from' })],
        });
      }),
    );
  });
});
