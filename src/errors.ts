/**
 * The error registry: every error the service reports has a stable code (equal to its key), an
 * HTTP status and, where a SIP request can fail with it, a SIP status and reason phrase.
 * test/unit/errors.test.ts checks codes are unique, equal to their keys and documented in
 * docs/errors.md.
 */
export interface ErrorSpec { code: string; http: number; sip?: [number, string]; message: string }

export const ERRORS = {
  VALIDATION_FAILED: { code: 'VALIDATION_FAILED', http: 400, sip: [400, 'Bad Request'], message: 'the request is not valid' },
  INVALID_AMOUNT: { code: 'INVALID_AMOUNT', http: 400, message: 'amount must be an integer number of micro-units' },
  INVALID_PIN: { code: 'INVALID_PIN', http: 400, message: 'a PIN is 6 to 12 digits and not a trivial one (repeats, runs)' },
  WEAK_PASSWORD: { code: 'WEAK_PASSWORD', http: 400, message: 'the password is too short, too simple or too common' },
  INVALID_BODY: { code: 'INVALID_BODY', http: 400, message: 'the body is not valid JSON, not UTF-8, or repeats a key' },
  AUTO_TOPUP_LIMIT: { code: 'AUTO_TOPUP_LIMIT', http: 400, message: 'the auto top-up amount or threshold is above the operator\'s limit' },
  INVALID_CLI: { code: 'INVALID_CLI', http: 400, message: 'a caller ID must be an E.164 number (+ and 7 to 15 digits)' },
  INVALID_TARIFF_CSV: { code: 'INVALID_TARIFF_CSV', http: 400, message: 'the tariff CSV has errors; nothing was imported' },
  UNKNOWN_ACCOUNT: { code: 'UNKNOWN_ACCOUNT', http: 404, sip: [404, 'Not Found'], message: 'no such account' },
  UNKNOWN_CUSTOMER: { code: 'UNKNOWN_CUSTOMER', http: 404, message: 'no such customer' },
  UNKNOWN_TARIFF: { code: 'UNKNOWN_TARIFF', http: 404, message: 'no such tariff' },
  TARIFF_CURRENCY_MISMATCH: { code: 'TARIFF_CURRENCY_MISMATCH', http: 409, message: 'the tariff is priced in another currency than the account' },
  TARIFF_CURRENCY_IN_USE: { code: 'TARIFF_CURRENCY_IN_USE', http: 409, message: 'accounts use the tariff; its currency cannot change' },
  CLI_TAKEN: { code: 'CLI_TAKEN', http: 409, message: 'that caller ID is registered to another account' },
  PIN_TAKEN: { code: 'PIN_TAKEN', http: 409, message: 'that PIN is not available' },
  IDEMPOTENCY_CONFLICT: { code: 'IDEMPOTENCY_CONFLICT', http: 409, message: 'the idempotency key was used for a different request' },
  ACCOUNT_CLOSED: { code: 'ACCOUNT_CLOSED', http: 409, sip: [403, 'Account Closed'], message: 'the account is closed' },
  ACCOUNT_SUSPENDED: { code: 'ACCOUNT_SUSPENDED', http: 409, sip: [403, 'Account Suspended'], message: 'the account is suspended' },
  INSUFFICIENT_CREDIT: { code: 'INSUFFICIENT_CREDIT', http: 402, sip: [402, 'Insufficient Credit'], message: 'not enough credit' },
  DAILY_CAP_REACHED: { code: 'DAILY_CAP_REACHED', http: 402, sip: [403, 'Daily Spend Limit Reached'], message: 'the daily spend limit is reached' },
  TOO_MANY_CALLS: { code: 'TOO_MANY_CALLS', http: 429, sip: [486, 'Too Many Calls In Progress'], message: 'the concurrent-call limit is reached' },
  NO_RATE: { code: 'NO_RATE', http: 404, sip: [404, 'No Rate For Destination'], message: 'no rate for that destination' },
  RATE_UNUSABLE: { code: 'RATE_UNUSABLE', http: 422, sip: [404, 'No Usable Rate For Destination'], message: 'the destination\'s rate cannot price a call (its cost overflows); the tariff must be fixed' },
  DESTINATION_BLOCKED: { code: 'DESTINATION_BLOCKED', http: 403, sip: [403, 'Destination Blocked'], message: 'calls to that destination are not allowed' },
  NO_ANSWER: { code: 'NO_ANSWER', http: 504, sip: [480, 'No Answer'], message: 'the callee was alerted and did not answer in time' },
  NO_ROUTE: { code: 'NO_ROUTE', http: 503, sip: [503, 'No Route To Destination'], message: 'no carrier route for that destination' },
  SERVICE_UNAVAILABLE: { code: 'SERVICE_UNAVAILABLE', http: 503, sip: [503, 'Service Unavailable'], message: 'a dependency is unavailable' },
  UNAUTHENTICATED: { code: 'UNAUTHENTICATED', http: 401, message: 'missing, unknown or expired credentials' },
  FORBIDDEN: { code: 'FORBIDDEN', http: 403, message: 'the credentials do not allow this request' },
  RATE_LIMITED: { code: 'RATE_LIMITED', http: 429, message: 'too many requests; retry later' },
  LOGIN_FAILED: { code: 'LOGIN_FAILED', http: 401, message: 'wrong username or password' },
  LOGIN_THROTTLED: { code: 'LOGIN_THROTTLED', http: 429, message: 'too many failed logins; retry later' },
  WRONG_CREDENTIAL: { code: 'WRONG_CREDENTIAL', http: 403, message: 'the current password or PIN is wrong' },
  NOT_FOUND: { code: 'NOT_FOUND', http: 404, message: 'no such resource' },
  UNKNOWN_API_KEY: { code: 'UNKNOWN_API_KEY', http: 404, message: 'no such API key' },
  UNKNOWN_CALL: { code: 'UNKNOWN_CALL', http: 404, message: 'no such call in progress' },
  UNKNOWN_CLI: { code: 'UNKNOWN_CLI', http: 404, message: 'no such caller ID on this account' },
  UNKNOWN_CLI_REQUEST: { code: 'UNKNOWN_CLI_REQUEST', http: 404, message: 'no such pending caller-ID request' },
  UNKNOWN_CARRIER: { code: 'UNKNOWN_CARRIER', http: 404, message: 'no such carrier' },
  UNKNOWN_GATEWAY: { code: 'UNKNOWN_GATEWAY', http: 404, message: 'no such gateway' },
  UNKNOWN_NUMBER: { code: 'UNKNOWN_NUMBER', http: 404, message: 'no such access number or DID' },
  IDEMPOTENCY_KEY_REQUIRED: { code: 'IDEMPOTENCY_KEY_REQUIRED', http: 400, message: 'an Idempotency-Key header (1-64 of [A-Za-z0-9_.:-]) is required' },
  ALREADY_EXISTS: { code: 'ALREADY_EXISTS', http: 409, message: 'the resource already exists' },
  CUSTOMER_ERASED: { code: 'CUSTOMER_ERASED', http: 409, message: 'the customer\'s personal data was erased' },
  INVALID_PAYMENT_TOKEN: { code: 'INVALID_PAYMENT_TOKEN', http: 400, message: 'not a payment-provider token (card numbers are never accepted)' },
  PAYMENT_DECLINED: { code: 'PAYMENT_DECLINED', http: 402, message: 'the payment provider declined the charge' },
  URI_TOO_LONG: { code: 'URI_TOO_LONG', http: 414, message: 'the request URL is too long' },
  HEADERS_TOO_LARGE: { code: 'HEADERS_TOO_LARGE', http: 431, message: 'the request headers are too large' },
  PAYLOAD_TOO_LARGE: { code: 'PAYLOAD_TOO_LARGE', http: 413, message: 'the request body is too large' },
  UNSUPPORTED_MEDIA_TYPE: { code: 'UNSUPPORTED_MEDIA_TYPE', http: 415, message: 'the request body has an unsupported content type' },
  INTERNAL: { code: 'INTERNAL', http: 500, message: 'internal error' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

/** The SIP status and reason for an error (403 Forbidden where none is registered). */
export function sipStatusOf(code: ErrorCode): readonly [number, string] {
  const spec: ErrorSpec = ERRORS[code];
  return spec.sip ?? [403, 'Forbidden'];
}

/** An expected failure carrying its registry entry (caught and turned into HTTP/SIP responses). */
export class AppError extends Error {
  readonly spec: ErrorSpec;
  constructor(readonly code: ErrorCode, readonly detail?: string, readonly extra?: Record<string, unknown>) {
    super(detail ?? ERRORS[code].message);
    this.name = 'AppError';
    this.spec = ERRORS[code];
  }
}
