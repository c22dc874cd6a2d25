/**
 * JSON schemas shared by the routes. Money is an integer number of micro-units (1e-6 of the
 * account currency), bounded by ±10^15 like everywhere else (src/billing/money.ts).
 */
import { AppError } from '../errors.ts';
import { NO_CARD_NUMBER } from './card-number-keyword.ts';

export const MAX_MICROS = 1_000_000_000_000_000;

export const micros = { type: 'integer', minimum: -MAX_MICROS, maximum: MAX_MICROS, description: 'micro-units (1e-6 of the currency)' } as const;
export const positiveMicros = { type: 'integer', minimum: 1, maximum: MAX_MICROS, description: 'micro-units (1e-6 of the currency), > 0' } as const;
export const nonNegativeMicros = { type: 'integer', minimum: 0, maximum: MAX_MICROS, description: 'micro-units (1e-6 of the currency), ≥ 0' } as const;
export const id = { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER } as const;
/**
 * A telephone number as a person dials it (read later with the account's dialling plan). A card
 * number typed there without + is refused like anywhere else; with + it is a telephone number.
 */
export const dialledNumber = {
  type: 'string',
  minLength: 3,
  maxLength: 24,
  pattern: '^\\+?[0-9 ().-]+$',
  description: 'as dialled, or with + and the country code',
  ...NO_CARD_NUMBER,
} as const;
export const dateTime = { type: 'string', format: 'date-time' } as const;
export const nullableDateTime = { type: ['string', 'null'], format: 'date-time' } as const;
export const e164 = { type: 'string', pattern: '^\\+[1-9][0-9]{6,14}$', description: 'E.164 number' } as const;
export const currency = { type: 'string', pattern: '^[A-Z]{3}$', description: 'ISO 4217 code' } as const;
export const pin = { type: 'string', pattern: '^[0-9]{6,12}$' } as const;

export const problem = {
  type: 'object',
  description: 'RFC 9457 problem details with a stable code (docs/errors.md)',
  required: ['type', 'title', 'status', 'code', 'detail'],
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    code: { type: 'string' },
    detail: { type: 'string' },
    instance: { type: 'string' },
    errors: { type: 'array', items: { type: 'object', additionalProperties: true } },
  },
} as const;

export const accountIdParams = { type: 'object', required: ['accountId'], additionalProperties: false, properties: { accountId: id } } as const;
export const customerIdParams = { type: 'object', required: ['customerId'], additionalProperties: false, properties: { customerId: id } } as const;

export const pageQuery = {
  cursor: { type: 'string', maxLength: 500, description: "opaque cursor from the previous page's nextCursor" },
  limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
} as const;

export function page(items: object) {
  return {
    type: 'object',
    required: ['items', 'nextCursor'],
    properties: { items: { type: 'array', items }, nextCursor: { type: ['string', 'null'] } },
  } as const;
}

export const account = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    number: { type: 'string' },
    customerId: { type: 'integer' },
    kind: { type: 'string', enum: ['calling_account', 'chatpin'] },
    status: { type: 'string', enum: ['active', 'suspended', 'closed'] },
    currency: { type: 'string' },
    tariffId: { type: ['string', 'null'] },
    maxConcurrentCalls: { type: 'integer' },
    dailySpendCap: { type: ['integer', 'null'] },
    creditFloor: { type: 'integer' },
    balance: { type: 'integer', description: 'durable (Postgres) balance in micro-units' },
    country: { type: 'string' },
    username: { type: ['string', 'null'] },
  },
} as const;

export const customer = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    name: { type: 'string' },
    email: { type: ['string', 'null'] },
    addressLine1: { type: ['string', 'null'] },
    addressLine2: { type: ['string', 'null'] },
    city: { type: ['string', 'null'] },
    postalCode: { type: ['string', 'null'] },
    country: { type: ['string', 'null'] },
    phoneNumbers: { type: 'array', items: { type: 'string' } },
    emailVerifiedAt: nullableDateTime,
    pendingEmail: { type: ['string', 'null'], description: 'a new address waiting for its verification code; the old one stays in use until then' },
    restrictedAt: nullableDateTime,
    erasedAt: nullableDateTime,
    closedAt: nullableDateTime,
    createdAt: dateTime,
    updatedAt: dateTime,
  },
} as const;

export const customerFields = {
  name: { type: 'string', minLength: 1, maxLength: 200, ...NO_CARD_NUMBER },
  email: { type: ['string', 'null'], maxLength: 254, pattern: '^[^@\\s]+@[^@\\s]+$', ...NO_CARD_NUMBER },
  addressLine1: { type: ['string', 'null'], maxLength: 200, ...NO_CARD_NUMBER },
  addressLine2: { type: ['string', 'null'], maxLength: 200, ...NO_CARD_NUMBER },
  city: { type: ['string', 'null'], maxLength: 100, ...NO_CARD_NUMBER },
  postalCode: { type: ['string', 'null'], maxLength: 20, ...NO_CARD_NUMBER },
  country: { type: ['string', 'null'], pattern: '^[A-Z]{2}$' },
  phoneNumbers: { type: 'array', maxItems: 10, items: e164 },
} as const;

export const liveBalance = {
  type: 'object',
  required: ['accountId', 'currency', 'balance', 'reserved', 'available', 'callsInProgress', 'durableBalance'],
  properties: {
    accountId: { type: 'integer' },
    currency: { type: 'string' },
    balance: { type: 'integer' },
    reserved: { type: 'integer' },
    available: { type: 'integer' },
    callsInProgress: { type: 'integer' },
    spentToday: { type: 'integer' },
    creditFloor: { type: 'integer' },
    status: { type: 'string' },
    durableBalance: { type: ['integer', 'null'], description: 'the Postgres balance (may lag the live one by unwritten ledger events)' },
    unit: { type: 'string', enum: ['micro'] },
  },
} as const;

export const callRecord = {
  type: 'object',
  properties: {
    callId: { type: 'string' },
    accountId: { type: ['integer', 'null'] },
    kind: { type: 'string' },
    cli: { type: ['string', 'null'] },
    sourceIp: { type: ['string', 'null'] },
    accessNumber: { type: ['string', 'null'] },
    device: { type: ['string', 'null'] },
    dialledNumber: { type: ['string', 'null'] },
    destination: { type: ['string', 'null'] },
    startTime: dateTime,
    answerTime: nullableDateTime,
    endTime: dateTime,
    durationMs: { type: 'integer' },
    billedSeconds: { type: 'integer' },
    ratePrefix: { type: ['string', 'null'] },
    pricePerMinute: { type: ['integer', 'null'] },
    cost: { type: 'integer' },
    unrecovered: { type: 'integer' },
    currency: { type: ['string', 'null'] },
    disposition: { type: 'string' },
    sipCode: { type: ['integer', 'null'] },
    sipReason: { type: ['string', 'null'] },
    carrier: { type: ['string', 'null'] },
  },
} as const;

export const cdrQuery = {
  from: { ...dateTime, description: 'start time ≥ from' },
  to: { ...dateTime, description: 'start time < to' },
  number: { type: 'string', pattern: '^\\+?[0-9]{1,16}$', description: 'caller ID, dialled number or destination' },
} as const;

export const ok = { type: 'object', required: ['ok'], properties: { ok: { type: 'boolean' } } } as const;

/** Opaque cursors: base64url JSON of the last row's sort key. */
export function encodeCursor(v: unknown): string {
  return Buffer.from(JSON.stringify(v)).toString('base64url');
}

export function decodeCursor<T>(s: string | undefined, check: (v: unknown) => v is T): T | undefined {
  if (s === undefined) return undefined;
  try {
    const v: unknown = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
    if (check(v)) return v;
  } catch {
    /* falls through */
  }
  throw new AppError('VALIDATION_FAILED', 'cursor is not valid');
}

export const isId = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
export const isTimeKey = (v: unknown): v is [number, string] => Array.isArray(v) && v.length === 2 && Number.isSafeInteger(v[0]) && typeof v[1] === 'string';
