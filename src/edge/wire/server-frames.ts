/**
 * Builders for server→app payloads (spec §1.6, §4.1, §4.8, §5.6). Each builder names the
 * tokens it writes, so leader positions are kept in one place.
 */
import { randomUUID } from 'node:crypto';

const CRLF = '\r\n';

/** §1.4: every frame starts with a fresh, unique msgId (the reference uses a random UUID). */
export function newMessageId(): string {
  return randomUUID();
}

/** §4.1 token 7: time of day in UTC, `HH:MM:SS.uuuuuu`. */
export function stackTime(now: Date = new Date()): string {
  const p2 = (n: number): string => (n < 10 ? '0' : '') + n;
  const micros = String(now.getUTCMilliseconds() * 1000).padStart(6, '0');
  return `${p2(now.getUTCHours())}:${p2(now.getUTCMinutes())}:${p2(now.getUTCSeconds())}.${micros}`;
}

/** §1.6 general form: `<newId>|response|<appMsgId>|<status>[|<data tokens…>][CRLF<body>]` */
export function responsePayload(appMsgId: string, tokens: readonly string[], body?: string): string {
  const leader = `${newMessageId()}|response|${appMsgId}|${tokens.join('|')}`;
  return body === undefined ? leader : leader + CRLF + body;
}

/** Where a SIP message came from or went to, as written into leaders. */
export interface WireMeta {
  /** SIP message size in bytes (token 3). */
  readonly bytes: number;
  /** `udp`, `tcp`, or '' (the reference leaves it empty in some frames, §4.1). */
  readonly proto: string;
  readonly address: string;
  readonly port: number | string;
}

/**
 * R6 (§1.6): `OK|application|<bytes>|<proto>|<addr>|<port>|<time>|<txnId>|Msg sent:|` + CRLF + request as sent.
 */
export function requestSentPayload(appMsgId: string, meta: WireMeta, txnId: string, sent: string): string {
  return responsePayload(
    appMsgId,
    ['OK', 'application', String(meta.bytes), meta.proto, meta.address, String(meta.port), stackTime(), txnId, 'Msg sent:', ''],
    sent,
  );
}

/**
 * R7 (§1.6): `OK|application|<bytes>|<proto>|<addr>|<port>|<time>|<txnId>|<dialogId>||Msg sent:|` + CRLF + response as sent.
 */
export function responseSentPayload(appMsgId: string, meta: WireMeta, txnId: string, dialogId: string, sent: string): string {
  return responsePayload(
    appMsgId,
    ['OK', 'application', String(meta.bytes), meta.proto, meta.address, String(meta.port), stackTime(), txnId, dialogId, '', 'Msg sent:', ''],
    sent,
  );
}

/** R8 / R5: `NOK|<reason>` (SIP-level failure) or `NO|<reason>` (parser failure, then close). */
export function failurePayload(appMsgId: string, status: 'NO' | 'NOK', reason: string): string {
  return responsePayload(appMsgId, [status, reason]);
}

/**
 * Format A (§4.1, 13 tokens): a new out-of-dialog request delivered for the first time.
 * `<id>|sip|network|<bytes>|<proto>|<srcAddr>|<srcPort>|<time>|<txnId>||<rcvAddr>|<rcvPort>|`
 */
export function newRequestPayload(meta: WireMeta, txnId: string, receivedOn: { address: string; port: number }, message: string): string {
  return (
    `${newMessageId()}|sip|network|${meta.bytes}|${meta.proto}|${meta.address}|${meta.port}|${stackTime()}|${txnId}||` +
    `${receivedOn.address}|${receivedOn.port}|${CRLF}${message}`
  );
}

/**
 * Format B (§4.1, 11 tokens): everything else (in-dialog requests, CANCEL, ACK, responses to app
 * requests, and unsolicited notifications with source `application`, §4.8).
 * `<id>|sip|<source>|<bytes>|<proto>|<addr>|<port>|<time>|<txnId>|<dialogId>|`
 */
export function sipPayload(source: 'network' | 'application', meta: WireMeta, txnId: string, dialogId: string, message: string): string {
  return `${newMessageId()}|sip|${source}|${meta.bytes}|${meta.proto}|${meta.address}|${meta.port}|${stackTime()}|${txnId}|${dialogId}|` + `${CRLF}${message}`;
}
