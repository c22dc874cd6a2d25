/**
 * serialiseMessage: SipRequest | SipResponse → bytes. Headers go out in order, unchanged ones
 * byte for byte as received; Content-Length always states the body's byte length (added when
 * absent, corrected when wrong).
 */
import type { SipRequest } from './sip-request.ts';
import type { SipResponse } from './sip-response.ts';

/** The header block (start line, headers, blank line) as text. */
export function serialiseHead(message: SipRequest | SipResponse): string {
  return message.head();
}

/** The whole message as it goes on the wire. */
export function serialiseMessage(message: SipRequest | SipResponse): Buffer {
  const head = message.head();
  const headLength = Buffer.byteLength(head, 'utf8');
  const out = Buffer.allocUnsafe(headLength + message.body.length);
  out.write(head, 0, 'utf8');
  if (message.body.length > 0) message.body.copy(out, headLength);
  return out;
}
