/**
 * The SIP app's one parser of SIP addresses: name-addr / addr-spec header values (Contact, To,
 * From, P-Asserted-Identity; RFC 3261 §20.10, §25.1): `"Name" <sip:u@h;transport=tcp>;tag=1;
 * +sip.instance="<urn:uuid:…>"`, a bare `sip:u@h;expires=60` (the parameters are then header
 * parameters), several comma-separated values, and `*`; and the user part of a Request-URI or
 * address (`sip:`, `sips:`, `tel:` RFC 3966). Never throws; a malformed value gives a reason for
 * the 400 reply.
 */

export interface SipUri {
  scheme: 'sip' | 'sips';
  user: string | undefined;
  host: string;
  port: number | undefined;
}

export interface NameAddr {
  displayName: string | undefined;
  /** The URI as written (between the angle brackets when there were any). */
  uri: string;
  parsedUri: SipUri;
  /** Header parameters, names lower-cased; a parameter without a value maps to ''. Values unquoted. */
  params: Map<string, string>;
  /** Header parameters as written (name[=value]), in order, for echoing back. */
  rawParams: string[];
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; reason: string };

const MAX_URI = 512;
const MAX_ELEMENTS = 32;
const TOKEN_RE = /^[A-Za-z0-9\-.!%*_+`'~]+$/;

/** Splits on `sep` outside quoted strings and angle brackets. Undefined when quotes or brackets are unbalanced. */
function splitTop(s: string, sep: string): string[] | undefined {
  const out: string[] = [];
  let cur = '';
  let inQuote = false;
  let inAngle = false;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (inQuote) {
      cur += ch;
      if (ch === '\\' && i + 1 < s.length) {
        cur += s[++i];
        continue;
      }
      if (ch === '"') inQuote = false;
      continue;
    }
    if (ch === '"') inQuote = true;
    else if (ch === '<') {
      if (inAngle) return undefined;
      inAngle = true;
    } else if (ch === '>') {
      if (!inAngle) return undefined;
      inAngle = false;
    } else if (ch === sep && !inAngle) {
      out.push(cur);
      cur = '';
      continue;
    }
    cur += ch;
  }
  if (inQuote || inAngle) return undefined;
  out.push(cur);
  return out;
}

export function parseSipUri(uri: string): ParseResult<SipUri> {
  if (uri.length === 0 || uri.length > MAX_URI) return { ok: false, reason: 'URI missing or too long' };
  if (/[\s<>"]/.test(uri)) return { ok: false, reason: 'URI contains a forbidden character' };
  const m = /^(sips?):(?:([^@;?]+)@)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::([0-9]{1,5}))?(?:[;?].*)?$/i.exec(uri);
  if (!m) return { ok: false, reason: 'not a sip: or sips: URI' };
  const port = m[4] === undefined ? undefined : Number(m[4]);
  if (port !== undefined && (port < 1 || port > 65535)) return { ok: false, reason: 'URI port out of range' };
  return { ok: true, value: { scheme: m[1]!.toLowerCase() as 'sip' | 'sips', user: m[2], host: m[3]!.toLowerCase(), port } };
}

function parseParams(text: string): ParseResult<{ params: Map<string, string>; raw: string[] }> {
  const params = new Map<string, string>();
  const raw: string[] = [];
  if (text.trim() === '') return { ok: true, value: { params, raw } };
  const t = text.trim();
  if (!t.startsWith(';')) return { ok: false, reason: 'unexpected text after the address' };
  const parts = splitTop(t.slice(1), ';');
  if (!parts) return { ok: false, reason: 'unbalanced quotes in parameters' };
  for (const part of parts) {
    const p = part.trim();
    const eq = p.indexOf('=');
    const name = (eq < 0 ? p : p.slice(0, eq)).trim();
    if (!TOKEN_RE.test(name)) return { ok: false, reason: `bad parameter name ${JSON.stringify(name.slice(0, 32))}` };
    let value = eq < 0 ? '' : p.slice(eq + 1).trim();
    if (value.startsWith('"')) {
      if (value.length < 2 || !value.endsWith('"')) return { ok: false, reason: `bad quoted value of ${name}` };
      value = value.slice(1, -1).replace(/\\(.)/g, '$1');
    } else if (eq >= 0 && !/^[A-Za-z0-9\-.!%*_+`'~:[\]]+$/.test(value)) {
      return { ok: false, reason: `bad value of ${name}` };
    }
    const key = name.toLowerCase();
    if (params.has(key)) return { ok: false, reason: `duplicate parameter ${key}` };
    params.set(key, value);
    raw.push(eq < 0 ? name : `${name}=${p.slice(eq + 1).trim()}`);
  }
  return { ok: true, value: { params, raw } };
}

interface AddressParts {
  displayName: string | undefined;
  uri: string;
  rest: string;
}

/** Splits one name-addr or addr-spec into display name, URI and the header parameters' text. */
function splitAddress(element: string): ParseResult<AddressParts> {
  const s = element.trim();
  if (s === '') return { ok: false, reason: 'empty address' };
  const lt = findUnquoted(s, '<');
  if (lt < 0) {
    const semi = s.indexOf(';');
    const uri = semi < 0 ? s : s.slice(0, semi);
    if (uri.includes('?')) return { ok: false, reason: 'a URI with headers must be in angle brackets' };
    return { ok: true, value: { displayName: undefined, uri, rest: semi < 0 ? '' : s.slice(semi) } };
  }
  const gt = s.indexOf('>', lt);
  if (gt < 0) return { ok: false, reason: 'missing >' };
  const name = s.slice(0, lt).trim();
  let displayName: string | undefined;
  if (name.startsWith('"')) {
    if (!/^"(?:[^"\\]|\\.)*"$/.test(name)) return { ok: false, reason: 'bad display name' };
    displayName = name.slice(1, -1).replace(/\\(.)/g, '$1');
  } else if (name !== '') {
    if (!/^[A-Za-z0-9\-.!%*_+`'~]+(?:\s+[A-Za-z0-9\-.!%*_+`'~]+)*$/.test(name)) return { ok: false, reason: 'bad display name' };
    displayName = name;
  }
  return { ok: true, value: { displayName, uri: s.slice(lt + 1, gt).trim(), rest: s.slice(gt + 1) } };
}

/** Parses one name-addr or addr-spec with its header parameters. */
export function parseNameAddr(element: string): ParseResult<NameAddr> {
  const parts = splitAddress(element);
  if (!parts.ok) return parts;
  const { displayName, uri, rest } = parts.value;
  const parsedUri = parseSipUri(uri);
  if (!parsedUri.ok) return parsedUri;
  const params = parseParams(rest);
  if (!params.ok) return params;
  return { ok: true, value: { displayName, uri, parsedUri: parsedUri.value, params: params.value.params, rawParams: params.value.raw } };
}

/** Percent-decoding that never throws: undefined for a malformed escape. */
function decodeUser(user: string): string | undefined {
  try {
    return decodeURIComponent(user);
  } catch {
    return undefined;
  }
}

/**
 * The user part of a `sip:`/`sips:` URI (without a `:password`), or the number of a `tel:` URI,
 * percent-decoded; undefined when there is none or the URI is malformed.
 */
export function uriUser(uri: string): string | undefined {
  const raw = rawUriUser(uri);
  return raw === undefined ? undefined : decodeUser(raw);
}

/** The user part as written (not decoded). */
function rawUriUser(uri: string): string | undefined {
  const tel = /^tel:([^;?]+)(?:[;?].*)?$/i.exec(uri.trim());
  if (tel) return tel[1]!;
  const sip = parseSipUri(uri.trim());
  return sip.ok ? sip.value.user?.split(':')[0] : undefined;
}

/**
 * A From / To / P-Asserted-Identity value (the first address of a list): its display name and the
 * user part of its URI, decoded (`user`; undefined when absent or malformed) and as written.
 */
export function addressOf(value: string | undefined): { displayName: string | undefined; user: string | undefined; rawUser: string | undefined } | undefined {
  if (value === undefined) return undefined;
  const elements = splitTop(value, ',');
  const parts = elements === undefined ? undefined : splitAddress(elements[0]!);
  if (!parts?.ok) return undefined;
  const rawUser = rawUriUser(parts.value.uri);
  return { displayName: parts.value.displayName, user: rawUser === undefined ? undefined : decodeUser(rawUser), rawUser };
}

function findUnquoted(s: string, ch: string): number {
  let inQuote = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (inQuote) {
      if (c === '\\') i++;
      else if (c === '"') inQuote = false;
    } else if (c === '"') inQuote = true;
    else if (c === ch) return i;
  }
  return -1;
}

/** A Contact header value: `*`, or a list of addresses. */
export function parseContactHeader(value: string): ParseResult<'*' | NameAddr[]> {
  const v = value.trim();
  if (v === '*') return { ok: true, value: '*' };
  const elements = splitTop(v, ',');
  if (!elements) return { ok: false, reason: 'unbalanced quotes or angle brackets' };
  if (elements.length > MAX_ELEMENTS) return { ok: false, reason: 'too many contacts' };
  const out: NameAddr[] = [];
  for (const e of elements) {
    if (e.trim() === '*') return { ok: false, reason: '* must be the only contact' };
    const r = parseNameAddr(e);
    if (!r.ok) return r;
    out.push(r.value);
  }
  return { ok: true, value: out };
}
