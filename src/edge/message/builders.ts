/**
 * Messages built from other messages: a response from a request (RFC 3261 §8.2.6), a CANCEL
 * from an INVITE (§9.1) and the ACK for a non-2xx final response (§17.1.1.3).
 */
import { headerKey } from './header-names.ts';
import { reasonPhrase } from './reason-phrases.ts';
import { SipRequest } from './sip-request.ts';
import { SipResponse } from './sip-response.ts';
import type { SipHeader } from './types.ts';

export interface ResponseOptions {
  /** Reason phrase; the standard one by default. */
  readonly reason?: string;
  /**
   * Tag to put on To when the request's To has none and the status is above 100 (§8.2.6.2).
   * Omitted: the To is copied unchanged.
   */
  readonly toTag?: string;
  /** Copy Record-Route (for 1xx/2xx responses to dialog-creating requests, §12.1.1). */
  readonly copyRecordRoute?: boolean;
  /** Extra headers appended after the copied ones. */
  readonly headers?: ReadonlyArray<readonly [name: string, value: string]>;
  /** Body (a string is UTF-8 encoded). */
  readonly body?: string | Buffer;
}

/**
 * A response to `request`: all Via lines, From, To (tagged as asked), Call-ID and CSeq copied
 * in that order (§8.2.6.2); Timestamp copied into a 100 (§8.2.6.1). Works on a partial request
 * from a parse error as long as it carries those headers (see canFormResponse).
 */
export function createResponse(request: SipRequest, status: number, options: ResponseOptions = {}): SipResponse {
  const headers: SipHeader[] = [];
  for (const h of request.headers) if (h.key === 'via') headers.push(h);
  const copy = (key: string): void => {
    for (const h of request.headers) {
      if (h.key === key) {
        headers.push(h);
        return;
      }
    }
  };
  copy('from');
  const to = request.headers.find((h) => h.key === 'to');
  if (to !== undefined) {
    if (options.toTag !== undefined && status > 100 && request.toTag === undefined) {
      headers.push({ name: to.name, key: 'to', value: addTag(to.value, options.toTag) });
    } else {
      headers.push(to);
    }
  } else {
    // only for a 4xx to a request that lacked its To: name the Request-URI so the response is well-formed
    headers.push({ name: 'To', key: 'to', value: `<${request.uri}>` });
  }
  copy('call-id');
  copy('cseq');
  if (status === 100) copy('timestamp');
  if (options.copyRecordRoute === true) for (const h of request.headers) if (h.key === 'record-route') headers.push(h);
  if (options.headers !== undefined) {
    for (const [name, value] of options.headers) headers.push({ name, key: headerKey(name), value });
  }
  const response = new SipResponse(status, options.reason ?? reasonPhrase(status), headers);
  if (options.body !== undefined) response.setBody(options.body);
  return response;
}

/** Whether a (possibly partial) request carries what createResponse needs for a valid response. */
export function canFormResponse(request: SipRequest): boolean {
  // A missing To is tolerated: the 400 that says so names the Request-URI in its To (createResponse).
  return request.topVia !== undefined && request.from !== undefined && request.callId !== undefined && request.callId.length > 0 && request.cseq !== undefined;
}

/** Append `;tag=<tag>` to a From/To value. */
export function addTag(value: string, tag: string): string {
  return `${value};tag=${tag}`;
}

/**
 * The CANCEL for `invite` (§9.1): same Request-URI, top Via (so the same branch), From, To,
 * Call-ID, CSeq number with method CANCEL, and Route headers; Max-Forwards 70.
 */
export function createCancel(invite: SipRequest): SipRequest {
  const headers: SipHeader[] = [];
  const topVia = invite.getAll('via')[0];
  if (topVia !== undefined) headers.push({ name: 'Via', key: 'via', value: topVia });
  headers.push({ name: 'Max-Forwards', key: 'max-forwards', value: '70' });
  for (const h of invite.headers) {
    if (h.key === 'from' || h.key === 'to' || h.key === 'call-id' || h.key === 'route') headers.push(h);
  }
  const seq = invite.cseq?.seq ?? 1;
  headers.push({ name: 'CSeq', key: 'cseq', value: `${seq} CANCEL` });
  return new SipRequest('CANCEL', invite.uri, headers);
}

/**
 * The ACK for a non-2xx final response to `invite` (§17.1.1.3): the INVITE's Request-URI, top
 * Via, From, Call-ID and Route, the response's To (with its tag), CSeq number with method ACK.
 */
export function createAckForNon2xx(invite: SipRequest, response: SipResponse): SipRequest {
  const headers: SipHeader[] = [];
  const topVia = invite.getAll('via')[0];
  if (topVia !== undefined) headers.push({ name: 'Via', key: 'via', value: topVia });
  headers.push({ name: 'Max-Forwards', key: 'max-forwards', value: '70' });
  for (const h of invite.headers) if (h.key === 'from') headers.push(h);
  const to = response.get('to') ?? invite.get('to');
  if (to !== undefined) headers.push({ name: 'To', key: 'to', value: to });
  for (const h of invite.headers) if (h.key === 'call-id' || h.key === 'route') headers.push(h);
  const seq = invite.cseq?.seq ?? 1;
  headers.push({ name: 'CSeq', key: 'cseq', value: `${seq} ACK` });
  return new SipRequest('ACK', invite.uri, headers);
}
