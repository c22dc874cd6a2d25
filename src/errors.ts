/**
 * The error registry: every error the service reports has a stable code (equal to its key), an
 * HTTP status and, where a SIP request can fail with it, a SIP status and reason phrase.
 * test/unit/errors.test.ts checks codes are unique, equal to their keys and documented in
 * docs/errors.md.
 */
export interface ErrorSpec {
  code: string;
  http: number;
  sip?: [number, string];
  message: string;
}

export const ERRORS = {
  VALIDATION_FAILED: { code: 'VALIDATION_FAILED', http: 400, sip: [400, 'Bad Request'], message: 'the request is not valid' },
  INVALID_AMOUNT: { code: 'INVALID_AMOUNT', http: 400, message: 'amount must be an integer number of micro-units' },
  INVALID_PIN: { code: 'INVALID_PIN', http: 400, message: 'a PIN is 6 to 12 digits and not a trivial one (repeats, runs)' },
  WEAK_PASSWORD: { code: 'WEAK_PASSWORD', http: 400, message: 'the password is too short, too simple or too common' },
  INVALID_BODY: { code: 'INVALID_BODY', http: 400, message: 'the body is not valid JSON, not UTF-8, or repeats a key' },
  AUTO_TOPUP_LIMIT: { code: 'AUTO_TOPUP_LIMIT', http: 400, message: "the auto top-up amount or threshold is above the operator's limit" },
  INVALID_CLI: { code: 'INVALID_CLI', http: 400, message: 'a caller ID must be an E.164 number (+ and 7 to 15 digits)' },
  INVALID_SPEED_DIAL: {
    code: 'INVALID_SPEED_DIAL',
    http: 400,
    message: 'a speed dial is a position 1 to 99, a name of 1 to 40 characters and a number that can be dialled',
  },
  INVALID_TARIFF_CSV: { code: 'INVALID_TARIFF_CSV', http: 400, message: 'the tariff CSV has errors; nothing was imported' },
  UNKNOWN_ACCOUNT: { code: 'UNKNOWN_ACCOUNT', http: 404, sip: [404, 'Not Found'], message: 'no such account' },
  UNKNOWN_SPEED_DIAL: { code: 'UNKNOWN_SPEED_DIAL', http: 404, sip: [404, 'Speed Dial Not Set'], message: 'no speed dial is set at that position' },
  INVALID_CALLBACK: { code: 'INVALID_CALLBACK', http: 400, message: 'a callback connects two different numbers that can be dialled' },
  CALLBACK_UNAVAILABLE: {
    code: 'CALLBACK_UNAVAILABLE',
    http: 403,
    sip: [403, 'Callback Unavailable'],
    message: 'callbacks are not offered (CALLBACK_ENABLED)',
  },
  CALLBACK_SCHEDULED: {
    code: 'CALLBACK_SCHEDULED',
    http: 409,
    sip: [486, 'Callback Scheduled'],
    message: 'a call to a callback number is not answered: the caller is called back and connected to the callback destination',
  },
  CALLER_ID_REQUIRED: { code: 'CALLER_ID_REQUIRED', http: 403, sip: [403, 'Caller ID Required'], message: 'a callback by call needs the caller ID presented' },
  CALLER_ID_NOT_REGISTERED: {
    code: 'CALLER_ID_NOT_REGISTERED',
    http: 404,
    sip: [404, 'Caller ID Not Registered'],
    message: 'the caller ID is registered to no account',
  },
  NO_CALLBACK_DESTINATION: {
    code: 'NO_CALLBACK_DESTINATION',
    http: 404,
    sip: [404, 'No Callback Destination'],
    message: 'the account has set no callback destination (PUT /v1/self/callback-destination)',
  },
  UNKNOWN_CALLBACK: { code: 'UNKNOWN_CALLBACK', http: 404, message: 'no such callback request' },
  UNKNOWN_RECORDING: { code: 'UNKNOWN_RECORDING', http: 404, message: 'no such call recording' },
  RANGE_NOT_SATISFIABLE: { code: 'RANGE_NOT_SATISFIABLE', http: 416, message: 'the byte range is not one range within the file' },
  CALLBACK_LIMIT: {
    code: 'CALLBACK_LIMIT',
    http: 429,
    sip: [486, 'Callback Limit'],
    message: 'too many callbacks within the hour for the account or to the number (CALLBACK_MAX_PER_HOUR, CALLBACK_MAX_PER_NUMBER_PER_HOUR)',
  },
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
  RATE_UNUSABLE: {
    code: 'RATE_UNUSABLE',
    http: 422,
    sip: [404, 'No Usable Rate For Destination'],
    message: "the destination's rate cannot price a call (its cost overflows); the tariff must be fixed",
  },
  DESTINATION_BLOCKED: { code: 'DESTINATION_BLOCKED', http: 403, sip: [403, 'Destination Blocked'], message: 'calls to that destination are not allowed' },
  NO_ANSWER: { code: 'NO_ANSWER', http: 504, sip: [480, 'No Answer'], message: 'the callee was alerted and did not answer in time' },
  NO_ROUTE: { code: 'NO_ROUTE', http: 503, sip: [503, 'No Route To Destination'], message: 'no carrier route for that destination' },
  SERVICE_UNAVAILABLE: { code: 'SERVICE_UNAVAILABLE', http: 503, sip: [503, 'Service Unavailable'], message: 'a dependency is unavailable' },
  UNAUTHENTICATED: { code: 'UNAUTHENTICATED', http: 401, sip: [401, 'Unauthorized'], message: 'missing, unknown or expired credentials' },
  FORBIDDEN: { code: 'FORBIDDEN', http: 403, sip: [403, 'Forbidden'], message: 'the credentials do not allow this request' },
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
  CUSTOMER_ERASED: { code: 'CUSTOMER_ERASED', http: 409, message: "the customer's personal data was erased" },
  CONSENT_BY_PERSON_ONLY: {
    code: 'CONSENT_BY_PERSON_ONLY',
    http: 403,
    message: 'only the customer can opt in to an e-mail list; an operator may only record an opt-out',
  },
  VERIFICATION_FAILED: { code: 'VERIFICATION_FAILED', http: 400, message: 'the verification code is wrong, used or expired' },
  NOTHING_TO_VERIFY: { code: 'NOTHING_TO_VERIFY', http: 409, message: 'the customer has no unverified or pending e-mail address' },
  REAUTHENTICATION_REQUIRED: {
    code: 'REAUTHENTICATION_REQUIRED',
    http: 403,
    message: 'enter your password again: this needs a password entered in the last few minutes',
  },
  PURPOSE_REQUIRED: {
    code: 'PURPOSE_REQUIRED',
    http: 403,
    message: "the customer's processing is restricted: state the purpose of this read (X-Purpose: customer_request, legal_claim or lawful_request)",
  },
  CARD_NUMBER_REFUSED: {
    code: 'CARD_NUMBER_REFUSED',
    http: 400,
    message: 'a field holds what looks like a payment card number; the service keeps no card data',
  },
  INVALID_PAYMENT_TOKEN: { code: 'INVALID_PAYMENT_TOKEN', http: 400, message: 'not a payment-provider token (card numbers are never accepted)' },
  PAYMENT_DECLINED: { code: 'PAYMENT_DECLINED', http: 402, message: 'the payment provider declined the charge' },
  ORDERS_UNAVAILABLE: { code: 'ORDERS_UNAVAILABLE', http: 404, message: 'online orders are not available: no payment provider is configured' },
  ORDER_STATE: { code: 'ORDER_STATE', http: 409, message: 'the order is not at that step (it may be paid, failed or expired)' },
  ORDER_THROTTLED: { code: 'ORDER_THROTTLED', http: 429, message: 'too many orders from this address; retry later' },
  PAYMENT_PROVIDER_FAILED: { code: 'PAYMENT_PROVIDER_FAILED', http: 502, message: 'the payment provider did not open a checkout; retry later' },
  WEBHOOK_SIGNATURE_INVALID: { code: 'WEBHOOK_SIGNATURE_INVALID', http: 400, message: 'the webhook signature does not verify' },
  INVALID_VOUCHER_CODE: {
    code: 'INVALID_VOUCHER_CODE',
    http: 400,
    message: 'that is not a voucher code: 20 digits starting with 9 (check for a typo)',
  },
  VOUCHER_NOT_REDEEMABLE: {
    code: 'VOUCHER_NOT_REDEEMABLE',
    http: 422,
    message: 'the voucher cannot be redeemed: it is unknown, already used, expired, withdrawn, or in another currency than the account',
  },
  VOUCHER_THROTTLED: { code: 'VOUCHER_THROTTLED', http: 429, message: 'too many voucher attempts; retry later' },
  URI_TOO_LONG: { code: 'URI_TOO_LONG', http: 414, message: 'the request URL is too long' },
  HEADERS_TOO_LARGE: { code: 'HEADERS_TOO_LARGE', http: 431, sip: [400, 'Headers Too Large'], message: 'the request headers are too large' },
  PAYLOAD_TOO_LARGE: { code: 'PAYLOAD_TOO_LARGE', http: 413, message: 'the request body is too large' },
  UNSUPPORTED_MEDIA_TYPE: { code: 'UNSUPPORTED_MEDIA_TYPE', http: 415, message: 'the request body has an unsupported content type' },
  // SIP only: the SIP app's own refusals (their HTTP status is the nearest meaning, for logs and metrics)
  BAD_CALL_ID: { code: 'BAD_CALL_ID', http: 400, sip: [400, 'Bad Call-ID'], message: 'the request has no usable Call-ID' },
  BAD_REQUEST_URI: { code: 'BAD_REQUEST_URI', http: 400, sip: [400, 'Bad Request-URI'], message: 'the Request-URI carries no dialled number' },
  MALFORMED_AUTHORIZATION: {
    code: 'MALFORMED_AUTHORIZATION',
    http: 400,
    sip: [400, 'Malformed Authorization Header'],
    message: "the REGISTER's Authorization header cannot be parsed",
  },
  MALFORMED_PROXY_AUTHORIZATION: {
    code: 'MALFORMED_PROXY_AUTHORIZATION',
    http: 400,
    sip: [400, 'Bad Proxy-Authorization'],
    message: "the INVITE's Proxy-Authorization header cannot be parsed (the reason phrase says why)",
  },
  PROXY_AUTHENTICATION_REQUIRED: {
    code: 'PROXY_AUTHENTICATION_REQUIRED',
    http: 401,
    sip: [407, 'Proxy Authentication Required'],
    message: "a device's INVITE must carry digest credentials",
  },
  ACCESS_NUMBER_VIA_CARRIER_ONLY: {
    code: 'ACCESS_NUMBER_VIA_CARRIER_ONLY',
    http: 403,
    sip: [403, 'Access Number Only Via Carrier'],
    message: 'access numbers are reached through carriers only',
  },
  TOO_MANY_CONTACTS: {
    code: 'TOO_MANY_CONTACTS',
    http: 403,
    sip: [403, 'Too Many Contacts'],
    message: 'the registration would hold more contacts than allowed',
  },
  EMERGENCY_NOT_SUPPORTED: {
    code: 'EMERGENCY_NOT_SUPPORTED',
    http: 404,
    sip: [404, 'Emergency Calls Not Supported'],
    message: 'an emergency number was dialled: emergency calls cannot be placed through this service',
  },
  SHORT_CODE_NOT_SUPPORTED: {
    code: 'SHORT_CODE_NOT_SUPPORTED',
    http: 404,
    sip: [404, 'Short Codes Not Supported'],
    message: 'a short code or service code was dialled; only full numbers can be called',
  },
  ADDRESS_INCOMPLETE: {
    code: 'ADDRESS_INCOMPLETE',
    http: 400,
    sip: [484, 'Address Incomplete'],
    message: 'the dialled number is too short to be complete (an area code or country code is missing)',
  },
  NOT_A_PHONE_NUMBER: {
    code: 'NOT_A_PHONE_NUMBER',
    http: 404,
    sip: [404, 'Not A Phone Number'],
    message: 'what was dialled is not a phone number that can be called',
  },
  NUMBER_NOT_FOUND: {
    code: 'NUMBER_NOT_FOUND',
    http: 404,
    sip: [404, 'Number Not Found'],
    message: "a carrier's call is to no access number and no personal number",
  },
  INTERVAL_TOO_BRIEF: { code: 'INTERVAL_TOO_BRIEF', http: 400, sip: [423, 'Interval Too Brief'], message: 'the registration expires sooner than the minimum' },
  CALLEE_UNAVAILABLE: {
    code: 'CALLEE_UNAVAILABLE',
    http: 404,
    sip: [480, 'Temporarily Unavailable'],
    message: 'no device is registered for the personal number, or none answered',
  },
  CALLEE_BUSY: {
    code: 'CALLEE_BUSY',
    http: 409,
    sip: [486, 'Busy Here'],
    message: 'the called devices are busy; also what a caller to a callback access number hears, whatever became of the call',
  },
  CALL_CANCELLED: { code: 'CALL_CANCELLED', http: 409, sip: [487, 'Request Terminated'], message: 'the caller cancelled the call before it was answered' },
  MEDIA_NOT_ACCEPTABLE: {
    code: 'MEDIA_NOT_ACCEPTABLE',
    http: 415,
    sip: [488, 'Not Acceptable Here'],
    message: 'the SDP offers nothing the media endpoint can use',
  },
  REGISTRATION_OUT_OF_ORDER: {
    code: 'REGISTRATION_OUT_OF_ORDER',
    http: 409,
    sip: [500, 'Out Of Order Request'],
    message: "a REGISTER with an older CSeq than the binding's last",
  },
  CALL_RATE_LIMITED: {
    code: 'CALL_RATE_LIMITED',
    http: 429,
    // 4xx, not 503: a policy refusal must not make the device fail over to another server (RFC 3263 §4.3)
    sip: [480, 'Call Rate Limit Exceeded'],
    message: "the account's new calls per second are above its limit",
  },
  NO_MEDIA_SERVER: {
    code: 'NO_MEDIA_SERVER',
    http: 503,
    sip: [503, 'No Media Server'],
    message: 'access-number calls need a media server and none is configured',
  },
  MEDIA_PORTS_EXHAUSTED: {
    code: 'MEDIA_PORTS_EXHAUSTED',
    http: 503,
    sip: [503, 'Media Ports Exhausted'],
    message: "the media endpoint's RTP port range is used up",
  },
  ALL_ROUTES_FAILED: { code: 'ALL_ROUTES_FAILED', http: 502, sip: [503, 'All Routes Failed'], message: 'every carrier route failed with a retryable status' },
  INTERNAL: { code: 'INTERNAL', http: 500, sip: [500, 'Server Internal Error'], message: 'internal error' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

/** The SIP status and reason for an error (403 Forbidden where none is registered). */
export function sipStatusOf(code: ErrorCode): readonly [number, string] {
  const spec: ErrorSpec = ERRORS[code];
  return spec.sip ?? [403, 'Forbidden'];
}

/** The codes a SIP request can fail with (those with a SIP status and reason). */
export type SipErrorCode = { [K in ErrorCode]: (typeof ERRORS)[K] extends { sip: readonly [number, string] } ? K : never }[ErrorCode];

/** An expected failure carrying its registry entry (caught and turned into HTTP/SIP responses). */
export class AppError extends Error {
  readonly spec: ErrorSpec;
  constructor(
    readonly code: ErrorCode,
    readonly detail?: string,
    readonly extra?: Record<string, unknown>,
  ) {
    super(detail ?? ERRORS[code].message);
    this.name = 'AppError';
    this.spec = ERRORS[code];
  }
}
