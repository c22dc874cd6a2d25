/**
 * Hand-written scanners for the RFC 3261 §25 productions the edge needs: parameters, SIP/SIPS
 * and tel URIs, name-addr / addr-spec, Via, CSeq, and the comma-splitting of list headers.
 * No regular expressions, so no backtracking; every function returns `undefined` on malformed
 * input and never throws.
 */
import type { CSeq, NameAddr, Params, SipUri, Via } from './types.ts';

const SP = 0x20;
const HTAB = 0x09;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;
const LT = 0x3c;
const GT = 0x3e;
const COMMA = 0x2c;
const SEMI = 0x3b;
const EQUALS = 0x3d;
const COLON = 0x3a;
const QUESTION = 0x3f;
const AMP = 0x26;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const SLASH = 0x2f;

function isWs(c: number): boolean {
  return c === SP || c === HTAB || c === 0x0d || c === 0x0a;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isAlpha(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

/** RFC 3261 §25.1 `token` characters. */
export function isTokenChar(c: number): boolean {
  if (isAlpha(c) || isDigit(c)) return true;
  switch (c) {
    case 0x2d:
    case 0x2e:
    case 0x21:
    case 0x25:
    case 0x2a:
    case 0x5f:
    case 0x2b:
    case 0x60:
    case 0x27:
    case 0x7e:
      return true;
    default:
      return false;
  }
}

/** Whether `s` is a non-empty RFC 3261 token (e.g. a method name). */
export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (!isTokenChar(s.charCodeAt(i))) return false;
  return true;
}

function skipWs(s: string, i: number, end: number): number {
  while (i < end && isWs(s.charCodeAt(i))) i++;
  return i;
}

function trimEnd(s: string, start: number, end: number): number {
  while (end > start && isWs(s.charCodeAt(end - 1))) end--;
  return end;
}

/** Index of the closing quote of the quoted string opening at `open`, or -1. */
function closingQuote(s: string, open: number, end: number): number {
  for (let i = open + 1; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === BACKSLASH) i++;
    else if (c === DQUOTE) return i;
  }
  return -1;
}

/**
 * Split a list header's value at the commas that separate values (RFC 3261 §7.3.1), never
 * inside a quoted string or angle brackets. Empty elements are dropped.
 */
export function splitHeaderValues(value: string): string[] {
  const out: string[] = [];
  const end = value.length;
  let start = 0;
  let angle = false;
  for (let i = 0; i < end; i++) {
    const c = value.charCodeAt(i);
    if (c === DQUOTE) {
      const q = closingQuote(value, i, end);
      if (q < 0) break;
      i = q;
    } else if (c === LT) {
      angle = true;
    } else if (c === GT) {
      angle = false;
    } else if (c === COMMA && !angle) {
      const piece = value.slice(start, i).trim();
      if (piece.length > 0) out.push(piece);
      start = i + 1;
    }
  }
  const last = value.slice(start).trim();
  if (last.length > 0) out.push(last);
  return out;
}

/**
 * Parse `;name[=value]` parameters of `s` from `start` to `end` (the first character at
 * `start` must be `;`, or whitespace before it). `stopAtQuestion` ends URI parameters at `?`.
 * Returns the parameters and the index where parsing stopped, or undefined when malformed.
 */
export function parseParams(s: string, start: number, end: number, stopAtQuestion = false): { params: Params; next: number } | undefined {
  const params: Params = new Map();
  let i = skipWs(s, start, end);
  while (i < end) {
    const c = s.charCodeAt(i);
    if (stopAtQuestion && c === QUESTION) break;
    if (c !== SEMI) return undefined;
    i = skipWs(s, i + 1, end);
    const nameStart = i;
    while (i < end) {
      const d = s.charCodeAt(i);
      if (d === SEMI || d === EQUALS || isWs(d) || (stopAtQuestion && d === QUESTION)) break;
      if (!isTokenChar(d) && d !== LBRACKET && d !== RBRACKET && d !== COLON && d !== SLASH && d !== AMP && d !== 0x24) return undefined;
      i++;
    }
    if (i === nameStart) return undefined;
    const name = s.slice(nameStart, i).toLowerCase();
    i = skipWs(s, i, end);
    let value: string | null = null;
    if (i < end && s.charCodeAt(i) === EQUALS) {
      i = skipWs(s, i + 1, end);
      if (i < end && s.charCodeAt(i) === DQUOTE) {
        const q = closingQuote(s, i, end);
        if (q < 0) return undefined;
        value = s.slice(i, q + 1);
        i = q + 1;
      } else {
        const valueStart = i;
        while (i < end) {
          const d = s.charCodeAt(i);
          if (d === SEMI || isWs(d) || (stopAtQuestion && d === QUESTION)) break;
          if (d === DQUOTE || d === LT || d === GT || d === COMMA) return undefined;
          i++;
        }
        value = s.slice(valueStart, i);
      }
      i = skipWs(s, i, end);
    }
    params.set(name, value);
  }
  return { params, next: i };
}

/** `;a=b;lr` from a parameter map. */
export function serialiseParams(params: Params): string {
  let out = '';
  for (const [name, value] of params) out += value === null ? `;${name}` : `;${name}=${value}`;
  return out;
}

function parsePort(s: string, start: number, end: number): number | undefined {
  if (start >= end || end - start > 5) return undefined;
  let n = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (!isDigit(c)) return undefined;
    n = n * 10 + (c - 0x30);
  }
  return n <= 65535 ? n : undefined;
}

function isHostChar(c: number): boolean {
  return isAlpha(c) || isDigit(c) || c === 0x2d || c === 0x2e || c === 0x5f;
}

function isIpv6Char(c: number): boolean {
  return isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66) || c === COLON || c === 0x2e;
}

/**
 * Parse `host[:port]` from `start`; the host ends at `:`, `;`, `?`, `>` or whitespace.
 * Returns host (IPv6 kept in brackets), port, and the next index.
 */
function parseHostPort(s: string, start: number, end: number): { host: string; port: number | undefined; next: number } | undefined {
  let i = start;
  if (i >= end) return undefined;
  if (s.charCodeAt(i) === LBRACKET) {
    const close = s.indexOf(']', i + 1);
    if (close < 0 || close >= end || close === i + 1) return undefined;
    for (let k = i + 1; k < close; k++) if (!isIpv6Char(s.charCodeAt(k))) return undefined;
    i = close + 1;
  } else {
    while (i < end && isHostChar(s.charCodeAt(i))) i++;
    if (i === start) return undefined;
  }
  const host = s.slice(start, i);
  let port: number | undefined;
  if (i < end && s.charCodeAt(i) === COLON) {
    const portStart = i + 1;
    i = portStart;
    while (i < end && isDigit(s.charCodeAt(i))) i++;
    port = parsePort(s, portStart, i);
    if (port === undefined) return undefined;
  }
  return { host, port, next: i };
}

/** Parse a SIP, SIPS or tel URI; undefined for other schemes or malformed text. */
export function parseUri(text: string): SipUri | undefined {
  const end = trimEnd(text, 0, text.length);
  const start = skipWs(text, 0, end);
  const colon = text.indexOf(':', start);
  if (colon < 0 || colon >= end) return undefined;
  const scheme = text.slice(start, colon).toLowerCase();
  if (scheme === 'tel') return parseTelUri(text, colon + 1, end);
  if (scheme !== 'sip' && scheme !== 'sips') return undefined;
  let i = colon + 1;
  let user: string | undefined;
  let password: string | undefined;
  let limit = text.indexOf('?', i);
  if (limit < 0 || limit > end) limit = end;
  const at = text.indexOf('@', i);
  if (at >= 0 && at < limit) {
    const pw = text.indexOf(':', i);
    if (pw >= 0 && pw < at) {
      user = text.slice(i, pw);
      password = text.slice(pw + 1, at);
    } else {
      user = text.slice(i, at);
    }
    for (let k = i; k < at; k++) {
      const c = text.charCodeAt(k);
      if (c <= SP || c === LT || c === GT || c === DQUOTE || c === 0x7f) return undefined;
    }
    i = at + 1;
  }
  const hp = parseHostPort(text, i, end);
  if (hp === undefined) return undefined;
  i = hp.next;
  const pp = parseParams(text, i, end, true);
  if (pp === undefined) return undefined;
  i = pp.next;
  const headers = new Map<string, string>();
  if (i < end && text.charCodeAt(i) === QUESTION) {
    const parts = text.slice(i + 1, end).split('&');
    for (const part of parts) {
      if (part.length === 0) continue;
      const eq = part.indexOf('=');
      if (eq <= 0) return undefined;
      headers.set(part.slice(0, eq), part.slice(eq + 1));
    }
    i = end;
  }
  if (i !== end) return undefined;
  return { scheme, user, password, host: hp.host, port: hp.port, params: pp.params, headers };
}

function parseTelUri(text: string, start: number, end: number): SipUri | undefined {
  let i = start;
  while (i < end) {
    const c = text.charCodeAt(i);
    if (c === SEMI) break;
    if (!(isDigit(c) || isAlpha(c) || c === 0x2b || c === 0x2d || c === 0x2e || c === 0x28 || c === 0x29 || c === 0x2a || c === 0x23)) return undefined;
    i++;
  }
  if (i === start) return undefined;
  const pp = parseParams(text, i, end);
  if (pp === undefined || pp.next !== end) return undefined;
  return { scheme: 'tel', user: text.slice(start, i), password: undefined, host: '', port: undefined, params: pp.params, headers: new Map() };
}

/** Write a URI back as text. */
export function serialiseUri(uri: SipUri): string {
  if (uri.scheme === 'tel') return `tel:${uri.user ?? ''}${serialiseParams(uri.params)}`;
  let out = `${uri.scheme}:`;
  if (uri.user !== undefined) {
    out += uri.user;
    if (uri.password !== undefined) out += `:${uri.password}`;
    out += '@';
  }
  out += uri.host;
  if (uri.port !== undefined) out += `:${uri.port}`;
  out += serialiseParams(uri.params);
  if (uri.headers.size > 0) {
    let sep = '?';
    for (const [name, value] of uri.headers) {
      out += `${sep}${name}=${value}`;
      sep = '&';
    }
  }
  return out;
}

/**
 * Parse a name-addr (`"Alice" <sip:a@b>;tag=1`) or addr-spec (`sip:a@b;tag=1`). In the
 * addr-spec form, parameters after the URI are header parameters (RFC 3261 §20.10).
 * The URI itself is not validated here: use parseUri on `uri` when its parts are needed.
 */
export function parseNameAddr(text: string): NameAddr | undefined {
  const end = trimEnd(text, 0, text.length);
  let i = skipWs(text, 0, end);
  if (i >= end) return undefined;
  let displayName: string | undefined;
  const first = text.charCodeAt(i);
  let lt = -1;
  if (first === DQUOTE) {
    const q = closingQuote(text, i, end);
    if (q < 0) return undefined;
    displayName = text.slice(i + 1, q);
    i = skipWs(text, q + 1, end);
    if (i >= end || text.charCodeAt(i) !== LT) return undefined;
    lt = i;
  } else {
    for (let k = i; k < end; k++) {
      const c = text.charCodeAt(k);
      if (c === LT) {
        lt = k;
        break;
      }
      if (c === SEMI || c === DQUOTE || c === GT) break;
    }
    if (lt >= 0) {
      const dn = text.slice(i, trimEnd(text, i, lt));
      for (let k = 0; k < dn.length; k++) {
        const c = dn.charCodeAt(k);
        if (!isTokenChar(c) && !isWs(c) && c < 0x80) return undefined;
      }
      displayName = dn.length > 0 ? dn : undefined;
    }
  }
  if (lt >= 0) {
    const gt = text.indexOf('>', lt + 1);
    if (gt < 0 || gt >= end) return undefined;
    const uri = text.slice(lt + 1, gt).trim();
    if (uri.length === 0 || uri.indexOf('<') >= 0 || uri.indexOf(':') < 0) return undefined;
    const pp = parseParams(text, gt + 1, end);
    if (pp === undefined || pp.next !== end) return undefined;
    return { displayName, uri, bracketed: true, params: pp.params };
  }
  let uriEnd = i;
  while (uriEnd < end) {
    const c = text.charCodeAt(uriEnd);
    if (c === SEMI || isWs(c)) break;
    if (c === LT || c === GT || c === DQUOTE || c === COMMA) return undefined;
    uriEnd++;
  }
  const uri = text.slice(i, uriEnd);
  if (uri.indexOf(':') <= 0) return undefined;
  const pp = parseParams(text, uriEnd, end);
  if (pp === undefined || pp.next !== end) return undefined;
  return { displayName: undefined, uri, bracketed: false, params: pp.params };
}

/** Write a name-addr back as text; always uses angle brackets (as sofia does). */
export function serialiseNameAddr(value: NameAddr): string {
  const name = value.displayName !== undefined && value.displayName.length > 0 ? `"${value.displayName}" ` : '';
  return `${name}<${value.uri}>${serialiseParams(value.params)}`;
}

/** Parse one Via value: `SIP/2.0/UDP host:port;branch=…;rport` (RFC 3261 §20.42, RFC 3581). */
export function parseVia(text: string): Via | undefined {
  const end = trimEnd(text, 0, text.length);
  let i = skipWs(text, 0, end);
  const tokens: string[] = [];
  for (let n = 0; n < 3; n++) {
    const t0 = i;
    while (i < end && isTokenChar(text.charCodeAt(i))) i++;
    if (i === t0) return undefined;
    tokens.push(text.slice(t0, i));
    i = skipWs(text, i, end);
    if (n < 2) {
      if (i >= end || text.charCodeAt(i) !== SLASH) return undefined;
      i = skipWs(text, i + 1, end);
    }
  }
  const [name, version, transport] = tokens as [string, string, string];
  if (i === end) return undefined;
  const hp = parseHostPort(text, i, end);
  if (hp === undefined) return undefined;
  i = hp.next;
  const pp = parseParams(text, i, end);
  if (pp === undefined || pp.next !== end) return undefined;
  const params = pp.params;
  const rportRaw = params.get('rport');
  let rport: number | null | undefined;
  if (rportRaw === null) rport = null;
  else if (rportRaw !== undefined) {
    rport = parsePort(rportRaw, 0, rportRaw.length);
    if (rport === undefined) return undefined;
  }
  const branch = params.get('branch');
  const received = params.get('received');
  return {
    protocolName: `${name}/${version}`,
    transport: transport.toUpperCase(),
    host: hp.host,
    port: hp.port,
    branch: branch === null ? undefined : branch,
    received: received === null ? undefined : received,
    rport,
    params,
  };
}

/** Write a Via value back as text, parameters in map order. */
export function serialiseVia(via: Via): string {
  const port = via.port !== undefined ? `:${via.port}` : '';
  return `${via.protocolName}/${via.transport} ${via.host}${port}${serialiseParams(via.params)}`;
}

/** Parse `CSeq: 4711 INVITE` (sequence number below 2**31, RFC 3261 §8.1.1.5). */
export function parseCSeq(text: string): CSeq | undefined {
  const end = trimEnd(text, 0, text.length);
  let i = skipWs(text, 0, end);
  const d0 = i;
  let seq = 0;
  while (i < end && isDigit(text.charCodeAt(i))) {
    seq = seq * 10 + (text.charCodeAt(i) - 0x30);
    i++;
    if (i - d0 > 10) return undefined;
  }
  if (i === d0 || seq > 0x7fffffff) return undefined;
  const ws = i;
  i = skipWs(text, i, end);
  if (i === ws) return undefined;
  const method = text.slice(i, end);
  if (!isToken(method)) return undefined;
  return { seq, method };
}

/** Host of a URI or Via without IPv6 brackets: `[::1]` → `::1`. */
export function stripBrackets(host: string): string {
  return host.length > 1 && host.charCodeAt(0) === LBRACKET && host.charCodeAt(host.length - 1) === RBRACKET ? host.slice(1, -1) : host;
}

/** Host for a URI or Via: IPv6 literals get brackets. */
export function bracketHost(host: string): string {
  return host.indexOf(':') >= 0 && host.charCodeAt(0) !== LBRACKET ? `[${host}]` : host;
}
