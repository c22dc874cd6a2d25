/**
 * Answers a SIP request with a failure from the error registry (src/errors.ts): its status and
 * reason phrase, so that no handler writes a status inline.
 */
import { sipStatusOf } from '../errors.ts';
import type { SipErrorCode } from '../errors.ts';
import type { SipResponse } from './sip-types.ts';

export interface SipErrorOptions {
  /** Headers of the response (Retry-After, Proxy-Authenticate, Min-Expires…). */
  headers?: Record<string, string>;
  /** Appended to the reason phrase (`Reason: detail`, at most 120 characters in all). */
  detail?: string;
}

/** The status and reason phrase `code` answers with (`detail` appended to the reason). */
export function sipErrorOf(code: SipErrorCode, detail?: string): readonly [number, string] {
  const [status, reason] = sipStatusOf(code);
  return [status, detail === undefined ? reason : `${reason}: ${detail}`.slice(0, 120)];
}

export function sendSipError(res: SipResponse, code: SipErrorCode, opts: SipErrorOptions = {}): void {
  const [status, reason] = sipErrorOf(code, opts.detail);
  if (opts.headers) res.send(status, reason, { headers: opts.headers });
  else res.send(status, reason);
}
