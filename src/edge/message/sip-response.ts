/** A SIP response (RFC 3261 §7.2). */
import { SipMessageBase } from './sip-message-base.ts';
import type { SipHeader } from './types.ts';

export class SipResponse extends SipMessageBase {
  readonly kind = 'response' as const;
  status: number;
  reason: string;
  version: string;

  constructor(status: number, reason: string, headers: SipHeader[] = [], body?: Buffer, version = 'SIP/2.0') {
    super(headers, body);
    this.status = status;
    this.reason = reason;
    this.version = version;
  }

  startLine(): string {
    return `${this.version} ${this.status} ${this.reason}`;
  }

  /** 1xx. */
  get isProvisional(): boolean {
    return this.status < 200;
  }

  /** 2xx. */
  get isSuccess(): boolean {
    return this.status >= 200 && this.status < 300;
  }

  clone(): SipResponse {
    const copy = new SipResponse(this.status, this.reason, this.headers.slice(), this.body, this.version);
    copy.wireLength = this.wireLength;
    return copy;
  }
}
