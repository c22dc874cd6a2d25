import { describe, expect, it } from 'vitest';
import { parseTariffCsv, tariffToCsv, type Rate, type TariffCsvResult } from '../../src/billing/rating/index.ts';
import { makeRate } from './rating-fixtures.ts';

const HEADER =
  'prefix,description,price_per_minute,connection_fee,minimum_seconds,initial_increment,subsequent_increment,effective_from,effective_until,connection_fee_policy';
const UK = '44,United Kingdom,0.0125,0.05,0,60,60,2025-01-01T00:00:00.000Z,,answered';

function ratesOf(result: TariffCsvResult): Rate[] {
  if (!result.ok) throw new Error(`expected rates, got ${JSON.stringify(result.errors)}`);
  return result.rates;
}

function errorsOf(result: TariffCsvResult): { line: number; column: string; message: string }[] {
  if (result.ok) throw new Error('expected errors, got rates');
  expect(result).not.toHaveProperty('rates');
  return result.errors;
}

describe('importing a tariff CSV', () => {
  it('reads amounts as micro-units and dates as UTC instants', () => {
    const rates = ratesOf(parseTariffCsv(`${HEADER}\n${UK}\n`));
    expect(rates).toEqual([
      {
        prefix: '44',
        description: 'United Kingdom',
        pricePerMinute: 12_500,
        connectionFee: 50_000,
        minimumSeconds: 0,
        initialIncrement: 60,
        subsequentIncrement: 60,
        effectiveFrom: new Date('2025-01-01T00:00:00.000Z'),
        effectiveUntil: null,
        connectionFeePolicy: 'answered',
      },
    ]);
  });

  it.each([
    ['0', 0],
    ['3', 3_000_000],
    ['0.000001', 1],
    ['0.1', 100_000],
    ['12.345678', 12_345_678],
    ['007.5', 7_500_000],
    ['9007199254.740991', Number.MAX_SAFE_INTEGER],
  ])('reads the amount %s as %i micro-units', (text, micros) => {
    const rates = ratesOf(parseTariffCsv(`${HEADER}\n44,,${text},${text},0,1,1,2025-01-01,,\n`));
    expect(rates[0]?.pricePerMinute).toBe(micros);
    expect(rates[0]?.connectionFee).toBe(micros);
  });

  it.each([
    ['2025-01-31', '2025-01-31T00:00:00.000Z'],
    ['2025-01-31T12:30Z', '2025-01-31T12:30:00.000Z'],
    ['2025-01-31T12:30:15Z', '2025-01-31T12:30:15.000Z'],
    ['2025-01-31T12:30:15.5Z', '2025-01-31T12:30:15.500Z'],
    ['2025-01-31T12:30:15.123+00:00', '2025-01-31T12:30:15.123Z'],
    ['2024-02-29', '2024-02-29T00:00:00.000Z'],
  ])('reads the date %s as %s', (text, iso) => {
    const rates = ratesOf(parseTariffCsv(`${HEADER}\n44,,1,0,0,60,60,${text},,\n`));
    expect(rates[0]?.effectiveFrom.toISOString()).toBe(iso);
  });

  it('defaults an empty connection_fee_policy to answered and reads always', () => {
    const rates = ratesOf(parseTariffCsv(`${HEADER}\n44,,1,0,0,60,60,2025-01-01,,\n1,,1,0,0,60,60,2025-01-01,,always\n`));
    expect(rates.map((rate) => rate.connectionFeePolicy)).toEqual(['answered', 'always']);
  });

  it('accepts the columns in any order, CRLF line ends, a byte-order mark and blank lines', () => {
    const text =
      '\uFEFFconnection_fee_policy,effective_until,effective_from,subsequent_increment,initial_increment,minimum_seconds,connection_fee,price_per_minute,description,prefix\r\n' +
      '\r\nalways,2026-01-01,2025-01-01,6,30,10,0.01,0.2,"Paris, fixed",331\r\n';
    const rates = ratesOf(parseTariffCsv(text));
    expect(rates).toEqual([
      makeRate({
        prefix: '331',
        description: 'Paris, fixed',
        pricePerMinute: 200_000,
        connectionFee: 10_000,
        minimumSeconds: 10,
        initialIncrement: 30,
        subsequentIncrement: 6,
        effectiveFrom: new Date('2025-01-01T00:00:00.000Z'),
        effectiveUntil: new Date('2026-01-01T00:00:00.000Z'),
        connectionFeePolicy: 'always',
      }),
    ]);
  });

  it('counts lines inside quoted multi-line descriptions when naming an error line', () => {
    const text = `${HEADER}\r\n44,"United\r\nKingdom ""UK""",0.01,0,0,60,60,2025-01-01,,\r\n33,France,0.01,0,0,60,60,someday,,\r\n`;
    expect(errorsOf(parseTariffCsv(text))).toEqual([{ line: 4, column: 'effective_from', message: expect.stringContaining('"someday"') }]);
  });

  it('accepts a header with no rates as an empty tariff', () => {
    expect(parseTariffCsv(`${HEADER}\n`)).toEqual({ ok: true, rates: [] });
  });
});

describe('a bad tariff CSV gives errors by line and column and no rates', () => {
  const row = (cells: Partial<Record<string, string>>): string => {
    const base: Record<string, string> = {
      prefix: '44',
      description: 'UK',
      price_per_minute: '0.01',
      connection_fee: '0',
      minimum_seconds: '0',
      initial_increment: '60',
      subsequent_increment: '60',
      effective_from: '2025-01-01T00:00:00.000Z',
      effective_until: '',
      connection_fee_policy: 'answered',
    };
    return HEADER.split(',')
      .map((column) => cells[column] ?? base[column])
      .join(',');
  };

  it.each([
    ['price_per_minute', 'abc', 'must be a decimal amount'],
    ['price_per_minute', '0.0000001', 'more than 6 decimals'],
    ['price_per_minute', '-0.01', 'must not be negative'],
    ['price_per_minute', '1e3', 'exponent notation'],
    ['price_per_minute', '1.', 'must be a decimal amount'],
    ['price_per_minute', '.5', 'must be a decimal amount'],
    ['price_per_minute', ' 1', 'must be a decimal amount'],
    ['price_per_minute', '', 'is required'],
    ['price_per_minute', '9007199254.740992', 'too large'],
    ['connection_fee', '0.1234567', 'more than 6 decimals'],
    ['connection_fee', '-1', 'must not be negative'],
    ['prefix', '+44', "E.164 without '+'"],
    ['prefix', '', '1 to 15 digits'],
    ['prefix', '1234567890123456', '1 to 15 digits'],
    ['minimum_seconds', '-1', 'whole number'],
    ['minimum_seconds', '1.5', 'whole number'],
    ['initial_increment', '0', 'must be >= 1'],
    ['subsequent_increment', '0', 'must be >= 1'],
    ['subsequent_increment', '', 'is required'],
    ['effective_from', 'yesterday', 'ISO-8601'],
    ['effective_from', '2025-02-30', 'not a real date'],
    ['effective_from', '2025-01-01T24:00:00Z', 'not a real date'],
    ['effective_from', '2025-01-01T00:00:00', 'end with Z'],
    ['effective_from', '2025-01-01T00:00:00+02:00', 'must be in UTC'],
    ['effective_from', '1969-12-31', 'between 1970-01-01 and 9999-12-31'],
    ['effective_from', '', 'is required'],
    ['effective_until', '2025-13-01', 'not a real date'],
    ['effective_until', '2025-01-01T00:00:00.000Z', 'later than effective_from'],
    ['effective_until', '2024-12-31', 'later than effective_from'],
    ['connection_fee_policy', 'sometimes', "'answered' or 'always'"],
    ['connection_fee_policy', 'ANSWERED', "'answered' or 'always'"],
  ])('%s = "%s" is refused (%s)', (column, value, message) => {
    const text = `${HEADER}\n${row({ prefix: '1' })}\n${row({ [column]: value })}\n`;
    const errors = errorsOf(parseTariffCsv(text));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ line: 3, column });
    expect(errors[0]?.message).toContain(message);
  });

  it('names every missing header column on line 1', () => {
    const header = HEADER.replace(',connection_fee,', ',').replace(',effective_until', '');
    expect(errorsOf(parseTariffCsv(`${header}\n`))).toEqual([
      { line: 1, column: 'connection_fee', message: 'required column is missing from the header' },
      { line: 1, column: 'effective_until', message: 'required column is missing from the header' },
    ]);
  });

  it('refuses unknown and repeated header columns', () => {
    const errors = errorsOf(parseTariffCsv(`${HEADER},rate,prefix\n`));
    expect(errors.map(({ line, column }) => ({ line, column }))).toEqual([
      { line: 1, column: 'rate' },
      { line: 1, column: 'prefix' },
    ]);
  });

  it('refuses an empty file and a file whose first line is blank', () => {
    expect(errorsOf(parseTariffCsv(''))).toEqual([{ line: 1, column: '', message: expect.stringContaining('header row is required') }]);
    expect(errorsOf(parseTariffCsv(`\n${HEADER}\n`))[0]).toMatchObject({ line: 1, column: '' });
  });

  it('refuses a row with a missing field, naming the first missing column', () => {
    const short = row({}).split(',').slice(0, 8).join(',');
    expect(errorsOf(parseTariffCsv(`${HEADER}\n${short}\n`))).toEqual([{ line: 2, column: 'effective_until', message: 'expected 10 fields, found 8' }]);
  });

  it('refuses a row with an extra field', () => {
    expect(errorsOf(parseTariffCsv(`${HEADER}\n${row({})},extra\n`))).toEqual([{ line: 2, column: '', message: 'expected 10 fields, found 11' }]);
  });

  it('refuses an unclosed quote at the line where it opens', () => {
    expect(errorsOf(parseTariffCsv(`${HEADER}\n${row({})}\n44,"UK,0.01\n`))).toEqual([
      { line: 3, column: '', message: 'CSV syntax: quoted field is not closed' },
    ]);
  });

  it('refuses a stray quote inside an unquoted field', () => {
    expect(errorsOf(parseTariffCsv(`${HEADER}\n${row({ description: 'the "UK"' })}\n`))[0]).toMatchObject({ line: 2, column: '' });
  });

  it('refuses a duplicate prefix and window, naming both lines', () => {
    const text = `${HEADER}\n${row({})}\n${row({ prefix: '33' })}\n${row({ description: 'again' })}\n`;
    expect(errorsOf(parseTariffCsv(text))).toEqual([
      {
        line: 4,
        column: 'effective_from',
        message: 'prefix 44 window [2025-01-01T00:00:00.000Z, open-ended) overlaps [2025-01-01T00:00:00.000Z, open-ended) on line 2',
      },
    ]);
  });

  it('refuses overlapping windows of one prefix and accepts touching ones', () => {
    const first = row({ effective_until: '2025-06-01' });
    const overlapping = row({ effective_from: '2025-05-31T23:59:59.999Z' });
    const touching = row({ effective_from: '2025-06-01' });
    expect(errorsOf(parseTariffCsv(`${HEADER}\n${first}\n${overlapping}\n`))[0]).toMatchObject({ line: 3, column: 'effective_from' });
    expect(ratesOf(parseTariffCsv(`${HEADER}\n${first}\n${touching}\n`))).toHaveLength(2);
  });

  it('reports every error of every row at once, in line order', () => {
    const text = `${HEADER}\n${row({ price_per_minute: '-1', connection_fee_policy: 'never' })}\n${row({ prefix: '33' })}\n${row({ prefix: 'x1', initial_increment: '0' })}\n`;
    expect(errorsOf(parseTariffCsv(text)).map(({ line, column }) => `${line}:${column}`)).toEqual([
      '2:price_per_minute',
      '2:connection_fee_policy',
      '4:prefix',
      '4:initial_increment',
    ]);
  });
});

describe('exporting a tariff CSV', () => {
  it('writes the header, amounts in currency units and ISO-8601 UTC dates', () => {
    const csv = tariffToCsv([
      makeRate({ pricePerMinute: 12_500, connectionFee: 50_000 }),
      makeRate({
        prefix: '331',
        description: 'Paris, "fixed"',
        pricePerMinute: 3_000_000,
        connectionFee: 1,
        minimumSeconds: 10,
        initialIncrement: 30,
        subsequentIncrement: 6,
        effectiveUntil: new Date('2026-01-01T00:00:00.000Z'),
        connectionFeePolicy: 'always',
      }),
    ]);
    expect(csv).toBe(
      `${HEADER}\n` +
        '44,United Kingdom,0.0125,0.05,0,60,60,2024-01-01T00:00:00.000Z,,answered\n' +
        '331,"Paris, ""fixed""",3,0.000001,10,30,6,2024-01-01T00:00:00.000Z,2026-01-01T00:00:00.000Z,always\n',
    );
  });

  it('writes only the header for no rates', () => {
    expect(tariffToCsv([])).toBe(`${HEADER}\n`);
  });

  it('refuses rates that could not be imported again', () => {
    expect(() => tariffToCsv([makeRate({ pricePerMinute: 0.5 })])).toThrow(RangeError);
    expect(() => tariffToCsv([makeRate(), makeRate()])).toThrow(RangeError);
  });
});
