/**
 * Why a message could not be accepted. Parsing never throws: parseMessage returns this in its
 * result, with whatever could be read (`partial`) so the caller can still answer 400 when the
 * partial request carries Via, From, To, Call-ID and CSeq (RFC 3261 §8.2.6, §16.3 step 1).
 */
import type { SipRequest } from './sip-request.ts';
import type { SipResponse } from './sip-response.ts';

export type SipParseErrorCode =
  | 'EMPTY'
  | 'BAD_START_LINE'
  | 'UNSUPPORTED_VERSION'
  | 'BAD_HEADER'
  | 'INCOMPLETE_HEADERS'
  | 'MISSING_HEADER'
  | 'DUPLICATE_HEADER'
  | 'BAD_VIA'
  | 'BAD_FROM'
  | 'BAD_TO'
  | 'BAD_CSEQ'
  | 'CSEQ_METHOD_MISMATCH'
  | 'BAD_REQUEST_URI'
  | 'BAD_MAX_FORWARDS'
  | 'BAD_CONTENT_LENGTH'
  | 'TRUNCATED_BODY'
  | 'TOO_LARGE';

export class SipParseError extends Error {
  override readonly name = 'SipParseError';
  readonly code: SipParseErrorCode;
  /** What was read before the error (headers parsed so far); undefined if not even the start line. */
  readonly partial: SipRequest | SipResponse | undefined;
  /** The status a server should answer with when it can form a response: 400, or 505 for a bad version. */
  readonly status: number;

  constructor(code: SipParseErrorCode, message: string, partial?: SipRequest | SipResponse) {
    // A parse error is an expected outcome, returned and never thrown: skip the stack trace,
    // which would cost more than the parse itself under a flood of garbage.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
    this.code = code;
    this.partial = partial;
    this.status = code === 'UNSUPPORTED_VERSION' ? 505 : 400;
  }
}
