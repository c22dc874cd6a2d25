/**
 * Parser of SIP Authorization / Proxy-Authorization header values (RFC 3261 §25.1,
 * RFC 7616 §3.4): `Digest username="bob", realm="x", nonce="…", uri="sip:x", response="…", …`.
 *
 * Handles quoted strings with backslash escapes, unquoted tokens, case-insensitive parameter
 * names, and several credentials in one value (`Digest a=1, Digest b=2`) or in several header
 * values. Never throws: malformed input yields `{ ok: false, reason }`.
 */

/** The parameters of one `Digest` credential, names lower-cased, values unquoted. */
export interface DigestCredentials {
  readonly scheme: 'digest';
  readonly params: ReadonlyMap<string, string>;
}

/** A credential of another scheme (Basic, Bearer…): kept only so it can be skipped. */
export interface OtherCredentials {
  readonly scheme: string;
  readonly params: ReadonlyMap<string, string>;
}

export type CredentialsParseResult = { ok: true; credentials: (DigestCredentials | OtherCredentials)[] } | { ok: false; reason: string };

const MAX_VALUE_LENGTH = 8192;
const MAX_PARAMS = 32;
const TOKEN = /[A-Za-z0-9\-.!%*_+`'~]/;

/** Parses one or more header values (each may hold several comma-separated credentials). */
export function parseCredentials(values: readonly string[]): CredentialsParseResult {
  const all: (DigestCredentials | OtherCredentials)[] = [];
  for (const value of values) {
    const r = parseOneValue(value);
    if (!r.ok) return r;
    all.push(...r.credentials);
  }
  return { ok: true, credentials: all };
}

class Cursor {
  i = 0;
  constructor(readonly s: string) {}
  get done(): boolean {
    return this.i >= this.s.length;
  }
  peek(): string {
    return this.s[this.i] ?? '';
  }
  skipLws(): void {
    while (!this.done && /[ \t\r\n]/.test(this.peek())) this.i++;
  }
  token(): string {
    const start = this.i;
    while (!this.done && TOKEN.test(this.peek())) this.i++;
    return this.s.slice(start, this.i);
  }
}

function parseOneValue(value: string): CredentialsParseResult {
  if (value.length > MAX_VALUE_LENGTH) return { ok: false, reason: 'credentials too long' };
  const c = new Cursor(value);
  const credentials: (DigestCredentials | OtherCredentials)[] = [];
  c.skipLws();
  if (c.done) return { ok: false, reason: 'empty credentials' };
  while (!c.done) {
    const scheme = c.token();
    if (scheme === '') return { ok: false, reason: `unexpected character at ${c.i}` };
    c.skipLws();
    const params = new Map<string, string>();
    // auth-params: name = (token | quoted-string), separated by commas; a following
    // `Scheme name=…` (a token followed by whitespace and another token, no '=') starts the next credential.
    for (;;) {
      c.skipLws();
      if (c.done) break;
      const save = c.i;
      const name = c.token();
      if (name === '') return { ok: false, reason: `expected a parameter name at ${c.i}` };
      c.skipLws();
      if (c.peek() !== '=') {
        // Not a parameter: the start of the next credential (only valid after a comma).
        c.i = save;
        break;
      }
      c.i++;
      c.skipLws();
      let v: string;
      if (c.peek() === '"') {
        const q = quoted(c);
        if (q === undefined) return { ok: false, reason: `unterminated quoted string for ${name}` };
        v = q;
      } else {
        v = c.token();
        if (v === '') return { ok: false, reason: `empty value for ${name}` };
      }
      const key = name.toLowerCase();
      if (params.has(key)) return { ok: false, reason: `duplicate parameter ${key}` };
      if (params.size >= MAX_PARAMS) return { ok: false, reason: 'too many parameters' };
      params.set(key, v);
      c.skipLws();
      if (c.done) break;
      if (c.peek() !== ',') return { ok: false, reason: `expected ',' at ${c.i}` };
      c.i++;
      // Allow empty list elements (`a=1,,b=2`) as RFC 7230 #rule does.
      while (!c.done && (c.peek() === ',' || /[ \t\r\n]/.test(c.peek()))) c.i++;
    }
    if (params.size === 0) return { ok: false, reason: `credential ${scheme} has no parameters` };
    const lower = scheme.toLowerCase();
    credentials.push(lower === 'digest' ? { scheme: 'digest', params } : { scheme: lower, params });
  }
  return { ok: true, credentials };
}

/** Reads a quoted-string at the cursor (which is on the opening quote); undefined if unterminated. */
function quoted(c: Cursor): string | undefined {
  c.i++;
  let out = '';
  while (!c.done) {
    const ch = c.peek();
    if (ch === '"') {
      c.i++;
      return out;
    }
    if (ch === '\\') {
      c.i++;
      if (c.done) return undefined;
      out += c.peek();
      c.i++;
      continue;
    }
    out += ch;
    c.i++;
  }
  return undefined;
}
