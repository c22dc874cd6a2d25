/**
 * parseMessage: bytes (or text) → SipRequest | SipResponse, per RFC 3261 §7 and §25.
 *
 * One pass over the header block: lines split at LF (a preceding CR is dropped), folded lines
 * (§7.3.1, leading SP/HTAB) joined with one space, each header kept as raw text in an array.
 * Structured parsing of individual headers is lazy (SipMessageBase accessors), except for the
 * mandatory ones, which are checked here in strict mode so that malformed requests are caught
 * at the edge with a 400 (§8.2.6.1 needs Via, From, To, Call-ID and CSeq to form one).
 */
import { headerKey } from './header-names.ts';
import { isToken, parseCSeq, parseNameAddr, parseVia } from './grammar.ts';
import { SipParseError, type SipParseErrorCode } from './sip-parse-error.ts';
import { SipRequest } from './sip-request.ts';
import { SipResponse } from './sip-response.ts';
import type { SipHeader } from './types.ts';

export type SipMessage = SipRequest | SipResponse;

export type ParseResult =
  | { readonly ok: true; readonly message: SipMessage }
  | { readonly ok: false; readonly error: SipParseError };

export interface ParseOptions {
  /**
   * Lenient mode, for messages an application hands over (drachtio `sip` frames): mandatory
   * headers are not required, and the body is everything after the blank line whatever
   * Content-Length says (apps may count characters instead of bytes).
   * Strict mode (default) is for messages from the network.
   */
  readonly lenient?: boolean;
}

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const HTAB = 0x09;
const EMPTY = Buffer.alloc(0);

/** Offset just past the blank line ending the header block, and where that block ends. */
interface HeaderEnd {
  readonly headersEnd: number;
  readonly bodyStart: number;
}

/** Find the empty line after the headers (CRLFCRLF, or LF LF / mixed), from `from`. */
export function findHeaderEnd(buf: Buffer, from: number): HeaderEnd | undefined {
  let i = buf.indexOf(LF, from);
  while (i >= 0) {
    const n1 = buf[i + 1];
    if (n1 === LF) return { headersEnd: i + 1, bodyStart: i + 2 };
    if (n1 === CR && buf[i + 2] === LF) return { headersEnd: i + 1, bodyStart: i + 3 };
    if (n1 === undefined || (n1 === CR && buf[i + 2] === undefined)) return undefined;
    i = buf.indexOf(LF, i + 1);
  }
  return undefined;
}

/** Parse one SIP message. Never throws. */
export function parseMessage(data: Buffer | string, options: ParseOptions = {}): ParseResult {
  const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const lenient = options.lenient === true;

  // §7.5: ignore CRLFs before the start line (also keep-alives, RFC 5626 §3.5.1).
  let start = 0;
  while (start < buf.length && (buf[start] === CR || buf[start] === LF)) start++;
  if (start >= buf.length) return fail('EMPTY', 'Empty message');

  const end = findHeaderEnd(buf, start);
  let headerText: string;
  let bodyStart: number;
  let complete = true;
  if (end === undefined) {
    headerText = buf.toString('utf8', start);
    bodyStart = buf.length;
    complete = false;
  } else {
    headerText = buf.toString('utf8', start, end.headersEnd);
    bodyStart = end.bodyStart;
  }

  // ---- start line
  let lineEnd = headerText.indexOf('\n');
  if (lineEnd < 0) lineEnd = headerText.length;
  const startLine = stripCr(headerText, 0, lineEnd);
  const message = parseStartLine(startLine);
  if (message instanceof SipParseError) return { ok: false, error: message };

  // ---- headers
  let firstError: SipParseError | undefined;
  const headers = message.headers;
  let pos = lineEnd + 1;
  let current: { name: string; value: string; raw: string; folded: boolean } | undefined;
  const flush = (): void => {
    if (current === undefined) return;
    const value = current.value.trim();
    const h: SipHeader = current.folded
      ? { name: current.name, key: headerKey(current.name), value }
      : { name: current.name, key: headerKey(current.name), value, raw: current.raw };
    headers.push(h);
    current = undefined;
  };
  while (pos < headerText.length) {
    let nl = headerText.indexOf('\n', pos);
    if (nl < 0) nl = headerText.length;
    const line = stripCr(headerText, pos, nl);
    pos = nl + 1;
    if (line.length === 0) continue;
    const c0 = line.charCodeAt(0);
    if (c0 === SP || c0 === HTAB) {
      if (current === undefined) {
        firstError ??= new SipParseError('BAD_HEADER', 'Continuation line without a header');
        continue;
      }
      current.value = current.value.trimEnd() + ' ' + line.trim();
      current.folded = true;
      continue;
    }
    flush();
    const colon = line.indexOf(':');
    if (colon <= 0) {
      firstError ??= new SipParseError('BAD_HEADER', 'Malformed header line');
      continue;
    }
    let nameEnd = colon;
    while (nameEnd > 0 && (line.charCodeAt(nameEnd - 1) === SP || line.charCodeAt(nameEnd - 1) === HTAB)) nameEnd--;
    const name = line.slice(0, nameEnd);
    if (!isToken(name)) {
      firstError ??= new SipParseError('BAD_HEADER', 'Malformed header name');
      continue;
    }
    current = { name, value: line.slice(colon + 1), raw: line, folded: false };
  }
  flush();

  const partial = (code: SipParseErrorCode, reason: string): ParseResult =>
    ({ ok: false, error: new SipParseError(code, reason, message) });

  if (firstError !== undefined && !lenient) return partial(firstError.code, firstError.message);
  if (!complete && !lenient) return partial('INCOMPLETE_HEADERS', 'Header block not terminated by an empty line');

  // ---- body (§7.4, §18.3, §20.14)
  const available = buf.length - bodyStart;
  const clText = message.get('content-length');
  if (lenient) {
    message.body = available > 0 ? buf.subarray(bodyStart) : EMPTY;
  } else {
    if (message.count('content-length') > 1) return partial('DUPLICATE_HEADER', 'Duplicate Content-Length header');
    if (clText !== undefined) {
      const cl = parseDecimal(clText);
      if (cl === undefined) return partial('BAD_CONTENT_LENGTH', 'Invalid Content-Length');
      if (cl > available) return partial('TRUNCATED_BODY', 'Body shorter than Content-Length');
      message.body = cl > 0 ? buf.subarray(bodyStart, bodyStart + cl) : EMPTY;
      message.wireLength = bodyStart + cl;
    } else {
      message.body = available > 0 ? buf.subarray(bodyStart) : EMPTY;
    }
  }
  if (message.wireLength === 0) message.wireLength = buf.length;

  if (!lenient) {
    const problem = checkMandatory(message);
    if (problem !== undefined) return partial(problem[0], problem[1]);
  }
  return { ok: true, message };
}

function fail(code: SipParseErrorCode, reason: string): ParseResult {
  return { ok: false, error: new SipParseError(code, reason) };
}

function stripCr(s: string, from: number, to: number): string {
  return to > from && s.charCodeAt(to - 1) === CR ? s.slice(from, to - 1) : s.slice(from, to);
}

function isSipVersion(v: string): boolean {
  return v.length === 7 && v.toUpperCase() === 'SIP/2.0';
}

function parseStartLine(line: string): SipMessage | SipParseError {
  const sp1 = line.indexOf(' ');
  if (sp1 <= 0) return new SipParseError('BAD_START_LINE', 'Malformed start line');
  const first = line.slice(0, sp1);
  if (first.length > 4 && first.slice(0, 4).toUpperCase() === 'SIP/') {
    if (!isSipVersion(first)) return new SipParseError('UNSUPPORTED_VERSION', 'SIP Version Not Supported');
    const sp2 = line.indexOf(' ', sp1 + 1);
    const codeText = sp2 < 0 ? line.slice(sp1 + 1) : line.slice(sp1 + 1, sp2);
    const status = codeText.length === 3 ? parseDecimal(codeText) : undefined;
    if (status === undefined || status < 100 || status > 699) return new SipParseError('BAD_START_LINE', 'Malformed status line');
    const reason = sp2 < 0 ? '' : line.slice(sp2 + 1);
    return new SipResponse(status, reason, [], EMPTY, first);
  }
  const sp2 = line.lastIndexOf(' ');
  if (sp2 <= sp1) return new SipParseError('BAD_START_LINE', 'Malformed request line');
  const version = line.slice(sp2 + 1);
  const uri = line.slice(sp1 + 1, sp2);
  if (!isToken(first) || uri.length === 0 || uri.indexOf(' ') >= 0) return new SipParseError('BAD_START_LINE', 'Malformed request line');
  if (!isSipVersion(version)) {
    if (version.slice(0, 4).toUpperCase() === 'SIP/') {
      const req = new SipRequest(first, uri, [], EMPTY, version);
      return new SipParseError('UNSUPPORTED_VERSION', 'SIP Version Not Supported', req);
    }
    return new SipParseError('BAD_START_LINE', 'Malformed request line');
  }
  return new SipRequest(first, uri, [], EMPTY, version);
}

/** Non-negative decimal of at most 9 digits, or undefined. */
function parseDecimal(text: string): number | undefined {
  const t = text.trim();
  if (t.length === 0 || t.length > 9) return undefined;
  let n = 0;
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return undefined;
    n = n * 10 + (c - 0x30);
  }
  return n;
}

const SINGLE = ['from', 'to', 'call-id', 'cseq', 'max-forwards'] as const;

function checkMandatory(m: SipMessage): [SipParseErrorCode, string] | undefined {
  if (m.kind === 'request') {
    const colon = m.uri.indexOf(':');
    if (colon <= 0 || !isToken(m.uri.slice(0, colon))) return ['BAD_REQUEST_URI', 'Malformed Request-URI'];
  }
  const via = m.get('via');
  if (via === undefined) return ['MISSING_HEADER', 'Missing Via header'];
  const vias = m.getAll('via');
  if (vias.length === 0 || parseVia(vias[0] as string) === undefined) return ['BAD_VIA', 'Malformed Via header'];
  for (const key of SINGLE) {
    if (m.count(key) > 1) return ['DUPLICATE_HEADER', `Duplicate ${displayName(key)} header`];
  }
  const from = m.get('from');
  if (from === undefined) return ['MISSING_HEADER', 'Missing From header'];
  if (parseNameAddr(from) === undefined) return ['BAD_FROM', 'Malformed From header'];
  const to = m.get('to');
  if (to === undefined) return ['MISSING_HEADER', 'Missing To header'];
  if (parseNameAddr(to) === undefined) return ['BAD_TO', 'Malformed To header'];
  const callId = m.get('call-id');
  if (callId === undefined || callId.length === 0) return ['MISSING_HEADER', 'Missing Call-ID header'];
  const cseqText = m.get('cseq');
  if (cseqText === undefined) return ['MISSING_HEADER', 'Missing CSeq header'];
  const cseq = parseCSeq(cseqText);
  if (cseq === undefined) return ['BAD_CSEQ', 'Malformed CSeq header'];
  if (m.kind === 'request' && cseq.method !== m.method) return ['CSEQ_METHOD_MISMATCH', 'CSeq method does not match the request method'];
  if (m.has('max-forwards') && m.maxForwards === undefined) return ['BAD_MAX_FORWARDS', 'Malformed Max-Forwards header'];
  return undefined;
}

function displayName(key: string): string {
  switch (key) {
    case 'call-id': return 'Call-ID';
    case 'cseq': return 'CSeq';
    case 'max-forwards': return 'Max-Forwards';
    default: return key.charAt(0).toUpperCase() + key.slice(1);
  }
}
