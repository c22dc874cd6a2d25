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
import { isToken } from './grammar.ts';
import { SipParseError, type SipParseErrorCode } from './sip-parse-error.ts';
import { SipRequest } from './sip-request.ts';
import { SipResponse } from './sip-response.ts';
import type { SipHeader } from './types.ts';

export type SipMessage = SipRequest | SipResponse;

export type ParseResult = { readonly ok: true; readonly message: SipMessage } | { readonly ok: false; readonly error: SipParseError };

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
  const parsedStart = parseStartLine(startLine);
  let versionError: SipParseError | undefined;
  let message: SipMessage;
  if (parsedStart instanceof SipParseError) {
    // A request line with another SIP version: read the headers anyway, so a 505 can be formed.
    if (parsedStart.partial === undefined) return { ok: false, error: parsedStart };
    versionError = parsedStart;
    message = parsedStart.partial;
  } else {
    message = parsedStart;
  }

  // ---- headers
  let firstError: SipParseError | undefined;
  const headers = message.headers;
  let pos = lineEnd + 1;
  // The header being read (kept in locals rather than a closure: this is the hot loop).
  let curName: string | undefined;
  let curValue = '';
  let curRaw = '';
  let curFolded = false;
  while (pos < headerText.length) {
    let nl = headerText.indexOf('\n', pos);
    if (nl < 0) nl = headerText.length;
    const line = stripCr(headerText, pos, nl);
    pos = nl + 1;
    if (line.length === 0) continue;
    const c0 = line.charCodeAt(0);
    if (c0 === SP || c0 === HTAB) {
      if (curName === undefined) {
        firstError ??= new SipParseError('BAD_HEADER', 'Continuation line without a header');
        continue;
      }
      curValue = curValue.trimEnd() + ' ' + line.trim();
      curFolded = true;
      continue;
    }
    if (curName !== undefined) pushHeader(headers, curName, curValue, curRaw, curFolded);
    curName = undefined;
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
    curName = name;
    curValue = line.slice(colon + 1);
    curRaw = line;
    curFolded = false;
  }
  if (curName !== undefined) pushHeader(headers, curName, curValue, curRaw, curFolded);

  if (versionError !== undefined) return partialResult(versionError.code, versionError.message, message);
  if (firstError !== undefined && !lenient) return partialResult(firstError.code, firstError.message, message);
  if (!complete && !lenient) return partialResult('INCOMPLETE_HEADERS', 'Header block not terminated by an empty line', message);

  // ---- body (§7.4, §18.3, §20.14)
  const available = buf.length - bodyStart;
  const clText = message.get('content-length');
  if (lenient) {
    message.body = available > 0 ? buf.subarray(bodyStart) : EMPTY;
  } else {
    if (message.count('content-length') > 1) return partialResult('DUPLICATE_HEADER', 'Duplicate Content-Length header', message);
    if (clText !== undefined) {
      const cl = parseDecimal(clText);
      if (cl === undefined) return partialResult('BAD_CONTENT_LENGTH', 'Invalid Content-Length', message);
      if (cl > available) return partialResult('TRUNCATED_BODY', 'Body shorter than Content-Length', message);
      message.body = cl > 0 ? buf.subarray(bodyStart, bodyStart + cl) : EMPTY;
      message.wireLength = bodyStart + cl;
    } else {
      message.body = available > 0 ? buf.subarray(bodyStart) : EMPTY;
    }
  }
  if (message.wireLength === 0) message.wireLength = buf.length;

  if (!lenient) {
    const problem = checkMandatory(message);
    if (problem !== undefined) return partialResult(problem[0], problem[1], message);
  }
  return { ok: true, message };
}

function pushHeader(headers: SipHeader[], name: string, rawValue: string, raw: string, folded: boolean): void {
  const value = rawValue.trim();
  headers.push(folded ? { name, key: headerKey(name), value } : { name, key: headerKey(name), value, raw });
}

function partialResult(code: SipParseErrorCode, reason: string, message: SipMessage): ParseResult {
  return { ok: false, error: new SipParseError(code, reason, message) };
}

function fail(code: SipParseErrorCode, reason: string): ParseResult {
  return { ok: false, error: new SipParseError(code, reason) };
}

function stripCr(s: string, from: number, to: number): string {
  return to > from && s.charCodeAt(to - 1) === CR ? s.slice(from, to - 1) : s.slice(from, to);
}

function hasSpaceOrControl(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f) return true;
  }
  return false;
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
    // RFC 3261 §7.1: the version is case-insensitive on receipt, but sent upper-case (the app's parser accepts nothing else)
    return new SipResponse(status, reason, [], EMPTY, 'SIP/2.0');
  }
  const sp2 = line.lastIndexOf(' ');
  if (sp2 <= sp1) return new SipParseError('BAD_START_LINE', 'Malformed request line');
  const version = line.slice(sp2 + 1);
  const uri = line.slice(sp1 + 1, sp2);
  // RFC 3261 §25.1: a Request-URI holds no whitespace or control characters (a TAB or bare CR in it is not a URI the app could parse)
  if (!isToken(first) || uri.length === 0 || hasSpaceOrControl(uri)) return new SipParseError('BAD_START_LINE', 'Malformed request line');
  if (!isSipVersion(version)) {
    if (version.slice(0, 4).toUpperCase() === 'SIP/') {
      const req = new SipRequest(first, uri, [], EMPTY, version);
      return new SipParseError('UNSUPPORTED_VERSION', 'SIP Version Not Supported', req);
    }
    return new SipParseError('BAD_START_LINE', 'Malformed request line');
  }
  return new SipRequest(first, uri, [], EMPTY, 'SIP/2.0');
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

/** Headers that may appear only once (§20: their grammar is not a list). */
function isSingle(key: string): boolean {
  return key === 'from' || key === 'to' || key === 'call-id' || key === 'cseq' || key === 'max-forwards';
}

function checkMandatory(m: SipMessage): [SipParseErrorCode, string] | undefined {
  if (m.kind === 'request') {
    const colon = m.uri.indexOf(':');
    if (colon <= 0 || !isToken(m.uri.slice(0, colon))) return ['BAD_REQUEST_URI', 'Malformed Request-URI'];
  }
  let via = false;
  let seen = '';
  for (const h of m.headers) {
    const key = h.key;
    if (key === 'via') via = true;
    else if (isSingle(key)) {
      if (seen.indexOf(`|${key}|`) >= 0) return ['DUPLICATE_HEADER', `Duplicate ${displayName(key)} header`];
      seen += `|${key}|`;
    }
  }
  // The accessors below parse and cache, so later reads cost nothing.
  if (!via) return ['MISSING_HEADER', 'Missing Via header'];
  if (m.topVia === undefined) return ['BAD_VIA', 'Malformed Via header'];
  if (!m.has('from')) return ['MISSING_HEADER', 'Missing From header'];
  if (m.from === undefined) return ['BAD_FROM', 'Malformed From header'];
  if (!m.has('to')) return ['MISSING_HEADER', 'Missing To header'];
  if (m.to === undefined) return ['BAD_TO', 'Malformed To header'];
  const callId = m.callId;
  if (callId === undefined || callId.length === 0) return ['MISSING_HEADER', 'Missing Call-ID header'];
  if (!m.has('cseq')) return ['MISSING_HEADER', 'Missing CSeq header'];
  const cseq = m.cseq;
  if (cseq === undefined) return ['BAD_CSEQ', 'Malformed CSeq header'];
  // Some UAs ACK with `CSeq: <n> INVITE`; the reference's stack takes it as the ACK (issue 13).
  const ackOfInvite = m.kind === 'request' && m.method === 'ACK' && cseq.method === 'INVITE';
  if (m.kind === 'request' && cseq.method !== m.method && !ackOfInvite) return ['CSEQ_METHOD_MISMATCH', 'CSeq method does not match the request method'];
  if (m.has('max-forwards') && m.maxForwards === undefined) return ['BAD_MAX_FORWARDS', 'Malformed Max-Forwards header'];
  return undefined;
}

function displayName(key: string): string {
  switch (key) {
    case 'call-id':
      return 'Call-ID';
    case 'cseq':
      return 'CSeq';
    case 'max-forwards':
      return 'Max-Forwards';
    default:
      return key.charAt(0).toUpperCase() + key.slice(1);
  }
}
