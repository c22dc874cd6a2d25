/**
 * Tariff CSV import and export. One header row naming the columns (any order, each exactly
 * once), then one rate per row. Money columns are decimal currency units with up to 6 decimals,
 * read as integer micro-units by string manipulation; dates are ISO-8601 in UTC. Import is
 * all-or-nothing: any error means no rates, and each error names its line (header = line 1) and
 * column. Export writes the same format, so importing an export gives back the same rates.
 */
import { readCsv, writeCsv } from './csv.ts';
import { maxCallCostProblem } from './cost.ts';
import { formatDecimalMicros, parseDecimalMicros } from './money.ts';
import {
  assertValidRate,
  CONNECTION_FEE_POLICIES,
  DEFAULT_CONNECTION_FEE_POLICY,
  describeWindow,
  findWindowConflicts,
  rateProblems,
  type ConnectionFeePolicy,
  type Rate,
} from './rate.ts';

export const TARIFF_CSV_COLUMNS = [
  'prefix',
  'description',
  'price_per_minute',
  'connection_fee',
  'minimum_seconds',
  'initial_increment',
  'subsequent_increment',
  'effective_from',
  'effective_until',
  'connection_fee_policy',
] as const;

export type TariffCsvColumn = (typeof TARIFF_CSV_COLUMNS)[number];

const COLUMN_OF_FIELD: Record<keyof Rate, TariffCsvColumn> = {
  prefix: 'prefix',
  description: 'description',
  pricePerMinute: 'price_per_minute',
  connectionFee: 'connection_fee',
  minimumSeconds: 'minimum_seconds',
  initialIncrement: 'initial_increment',
  subsequentIncrement: 'subsequent_increment',
  effectiveFrom: 'effective_from',
  effectiveUntil: 'effective_until',
  connectionFeePolicy: 'connection_fee_policy',
};

export interface TariffCsvError {
  /** 1-based; the header is line 1. */
  line: number;
  /** Column name from TARIFF_CSV_COLUMNS, or the header cell concerned; '' when no column applies. */
  column: string;
  message: string;
}

export type TariffCsvResult = { ok: true; rates: Rate[] } | { ok: false; errors: TariffCsvError[] };

type FieldRead<T> = { ok: true; value: T } | { ok: false; message: string };

function readInteger(text: string, min: number): FieldRead<number> {
  if (text === '') return { ok: false, message: 'is required' };
  if (!/^[0-9]+$/.test(text)) return { ok: false, message: `must be a whole number >= ${min}, got "${text}"` };
  const value = Number(text);
  if (!Number.isSafeInteger(value)) return { ok: false, message: `is too large, got "${text}"` };
  if (value < min) return { ok: false, message: `must be >= ${min}, got "${text}"` };
  return { ok: true, value };
}

function readMicros(text: string): FieldRead<number> {
  const read = parseDecimalMicros(text);
  return read.ok ? { ok: true, value: read.micros } : read;
}

const ISO_UTC = /^([0-9]{4})-([0-9]{2})-([0-9]{2})(?:T([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{1,3}))?)?(Z|[+-][0-9]{2}:?[0-9]{2})?)?$/;

/**
 * An ISO-8601 instant in UTC: "2025-01-31", "2025-01-31T12:00Z", "2025-01-31T12:00:00.000Z"
 * (also "+00:00"). A time without a zone or with a non-zero offset is refused, as are impossible
 * calendar dates (2025-02-30) and leap seconds.
 */
function readInstant(text: string): FieldRead<Date> {
  if (text === '') return { ok: false, message: 'is required' };
  const match = ISO_UTC.exec(text);
  const expected = 'must be an ISO-8601 UTC date like 2025-01-31 or 2025-01-31T00:00:00.000Z';
  if (match === null) return { ok: false, message: `${expected}, got "${text}"` };
  const [, year, month, day, hour, minute, second, fraction, zone] = match;
  if (hour !== undefined && zone === undefined) {
    return { ok: false, message: `must say it is UTC (end with Z), got "${text}"` };
  }
  if (zone !== undefined && zone !== 'Z' && !/^[+-]00:?00$/.test(zone)) {
    return { ok: false, message: `must be in UTC (Z or +00:00), got "${text}"` };
  }
  const parts = [year, month, day, hour ?? '0', minute ?? '0', second ?? '0'].map(Number) as [number, number, number, number, number, number];
  const millis = Number((fraction ?? '').padEnd(3, '0'));
  const [y, mo, d, h, mi, s] = parts;
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s, millis));
  // Date.UTC maps years 0..99 to 1900..1999; setUTCFullYear restores the year as written.
  date.setUTCFullYear(y, mo - 1, d);
  const valid = h <= 23 && mi <= 59 && s <= 59 && date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
  if (!valid) return { ok: false, message: `is not a real date and time, got "${text}"` };
  return { ok: true, value: date };
}

function readPolicy(text: string): FieldRead<ConnectionFeePolicy> {
  if (text === '') return { ok: true, value: DEFAULT_CONNECTION_FEE_POLICY };
  const policy = CONNECTION_FEE_POLICIES.find((candidate) => candidate === text);
  if (policy === undefined) return { ok: false, message: `must be 'answered' or 'always' (empty means 'answered'), got "${text}"` };
  return { ok: true, value: policy };
}

function readHeader(fields: readonly string[]): { columns: TariffCsvColumn[] } | { errors: TariffCsvError[] } {
  const errors: TariffCsvError[] = [];
  const columns: TariffCsvColumn[] = [];
  const seen = new Set<string>();
  for (const cell of fields) {
    const name = cell.trim();
    const column = TARIFF_CSV_COLUMNS.find((candidate) => candidate === name);
    if (column === undefined) {
      errors.push({ line: 1, column: name, message: `unknown column "${name}"; expected ${TARIFF_CSV_COLUMNS.join(',')}` });
    } else if (seen.has(column)) {
      errors.push({ line: 1, column, message: 'column appears more than once' });
    } else {
      columns.push(column);
    }
    seen.add(name);
  }
  for (const column of TARIFF_CSV_COLUMNS) {
    if (!seen.has(column)) errors.push({ line: 1, column, message: 'required column is missing from the header' });
  }
  return errors.length > 0 ? { errors } : { columns };
}

/** What a rate must be able to price: a call of `maxCallSeconds` for at most `maxMicros`. */
export interface TariffLimits {
  maxCallSeconds: number;
  maxMicros: number;
}

function readRow(
  line: number,
  columns: readonly TariffCsvColumn[],
  fields: readonly string[],
  errors: TariffCsvError[],
  limits: TariffLimits | undefined,
): Rate | undefined {
  if (fields.length !== columns.length) {
    const column = fields.length < columns.length ? (columns[fields.length] ?? '') : '';
    errors.push({ line, column, message: `expected ${columns.length} fields, found ${fields.length}` });
    return undefined;
  }
  const cells = new Map<TariffCsvColumn, string>();
  columns.forEach((column, index) => cells.set(column, fields[index] ?? ''));
  const errorCount = errors.length;
  function field<T>(column: TariffCsvColumn, read: (text: string) => FieldRead<T>, fallback: T): T {
    const result = read(cells.get(column) ?? '');
    if (result.ok) return result.value;
    errors.push({ line, column, message: `${column} ${result.message}` });
    return fallback;
  }
  const prefix = field(
    'prefix',
    (text) => (/^[0-9]{1,15}$/.test(text) ? { ok: true, value: text } : { ok: false, message: `must be 1 to 15 digits (E.164 without '+'), got "${text}"` }),
    '',
  );
  const rate: Rate = {
    prefix,
    description: cells.get('description') ?? '',
    pricePerMinute: field('price_per_minute', readMicros, 0),
    connectionFee: field('connection_fee', readMicros, 0),
    minimumSeconds: field('minimum_seconds', (text) => readInteger(text, 0), 0),
    initialIncrement: field('initial_increment', (text) => readInteger(text, 1), 1),
    subsequentIncrement: field('subsequent_increment', (text) => readInteger(text, 1), 1),
    effectiveFrom: field('effective_from', readInstant, new Date(0)),
    effectiveUntil: field('effective_until', (text) => (text === '' ? { ok: true, value: null } : readInstant(text)), null),
    connectionFeePolicy: field('connection_fee_policy', readPolicy, DEFAULT_CONNECTION_FEE_POLICY),
  };
  if (errors.length > errorCount) return undefined;
  for (const problem of rateProblems(rate)) {
    const column = COLUMN_OF_FIELD[problem.field];
    errors.push({ line, column, message: `${column} ${problem.message}` });
  }
  if (errors.length > errorCount) return undefined;
  const unratable = limits === undefined ? undefined : maxCallCostProblem(rate, limits.maxCallSeconds, limits.maxMicros);
  if (unratable !== undefined) errors.push({ line, column: 'price_per_minute', message: unratable });
  return errors.length > errorCount ? undefined : rate;
}

/**
 * Reads a tariff CSV; all-or-nothing. With `limits`, a row whose rate cannot price a call of the
 * longest allowed duration (maxCallCostProblem) is an error on its line too.
 */
export function parseTariffCsv(text: string, limits?: TariffLimits): TariffCsvResult {
  if (typeof text !== 'string') throw new RangeError('tariff CSV must be a string');
  const read = readCsv(text);
  if (!read.ok) {
    return { ok: false, errors: [{ line: read.line, column: '', message: `CSV syntax: ${read.message}` }] };
  }
  const [header, ...rows] = read.records;
  if (header === undefined || header.line !== 1) {
    return { ok: false, errors: [{ line: 1, column: '', message: `header row is required on line 1: ${TARIFF_CSV_COLUMNS.join(',')}` }] };
  }
  const headerRead = readHeader(header.fields);
  if ('errors' in headerRead) return { ok: false, errors: headerRead.errors };
  const { columns } = headerRead;

  const errors: TariffCsvError[] = [];
  const rates: Rate[] = [];
  const lines: number[] = [];
  for (const row of rows) {
    const rate = readRow(row.line, columns, row.fields, errors, limits);
    if (rate !== undefined) {
      rates.push(rate);
      lines.push(row.line);
    }
  }
  for (const conflict of findWindowConflicts(rates)) {
    const first = rates[conflict.first] as Rate;
    const second = rates[conflict.second] as Rate;
    errors.push({
      line: lines[conflict.second] ?? 0,
      column: 'effective_from',
      message: `prefix ${second.prefix} window ${describeWindow(second)} overlaps ${describeWindow(first)} on line ${lines[conflict.first] ?? 0}`,
    });
  }
  if (errors.length > 0) {
    return { ok: false, errors: errors.sort((a, b) => a.line - b.line) };
  }
  return { ok: true, rates };
}

/**
 * Writes rates as tariff CSV (header plus one row per rate, in the given order, LF line ends).
 * Throws a RangeError for an invalid rate or overlapping windows: such a list could not be
 * imported again.
 */
export function tariffToCsv(rates: readonly Rate[]): string {
  rates.forEach(assertValidRate);
  const conflict = findWindowConflicts(rates)[0];
  if (conflict !== undefined) {
    const rate = rates[conflict.second] as Rate;
    throw new RangeError(`rates #${conflict.first + 1} and #${conflict.second + 1} share prefix ${rate.prefix} with overlapping windows`);
  }
  const rows = rates.map((rate) => [
    rate.prefix,
    rate.description,
    formatDecimalMicros(rate.pricePerMinute),
    formatDecimalMicros(rate.connectionFee),
    String(rate.minimumSeconds),
    String(rate.initialIncrement),
    String(rate.subsequentIncrement),
    rate.effectiveFrom.toISOString(),
    rate.effectiveUntil === null ? '' : rate.effectiveUntil.toISOString(),
    rate.connectionFeePolicy,
  ]);
  return writeCsv([TARIFF_CSV_COLUMNS, ...rows]);
}
