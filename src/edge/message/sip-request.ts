/** A SIP request (RFC 3261 §7.1). */
import { parseUri } from './grammar.ts';
import { SipMessageBase } from './sip-message-base.ts';
import type { SipHeader, SipUri } from './types.ts';

export class SipRequest extends SipMessageBase {
  readonly kind = 'request' as const;
  /** Method as written (case-sensitive, §7.1), e.g. `INVITE`. */
  method: string;
  /** Request-URI as written. */
  uri: string;
  /** Version token of the request line, normally `SIP/2.0`. */
  version: string;

  constructor(method: string, uri: string, headers: SipHeader[] = [], body?: Buffer, version = 'SIP/2.0') {
    super(headers, body);
    this.method = method;
    this.uri = uri;
    this.version = version;
  }

  startLine(): string {
    return `${this.method} ${this.uri} ${this.version}`;
  }

  /** The Request-URI parsed; undefined when it is not a valid sip/sips/tel URI. */
  get parsedUri(): SipUri | undefined {
    return parseUri(this.uri);
  }

  /** A deep copy (headers and body are copied; header objects are immutable and shared). */
  clone(): SipRequest {
    const copy = new SipRequest(this.method, this.uri, this.headers.slice(), this.body, this.version);
    copy.wireLength = this.wireLength;
    return copy;
  }
}
