/**
 * Header names: RFC 3261 §7.3.3 compact forms, case-insensitive matching (§7.3.1), canonical
 * spelling for headers the edge writes itself, and which headers may be combined into one
 * comma-separated line (§7.3.1: only headers whose grammar is a comma-separated list).
 */

/** Compact form → canonical lower-case long name (RFC 3261 §7.3.3, RFC 3515, RFC 3841, RFC 4028, RFC 3891, RFC 4474). */
const COMPACT: Readonly<Record<string, string>> = {
  i: 'call-id',
  m: 'contact',
  e: 'content-encoding',
  l: 'content-length',
  c: 'content-type',
  f: 'from',
  s: 'subject',
  k: 'supported',
  t: 'to',
  v: 'via',
  o: 'event',
  u: 'allow-events',
  r: 'refer-to',
  b: 'referred-by',
  a: 'accept-contact',
  j: 'reject-contact',
  d: 'request-disposition',
  x: 'session-expires',
  y: 'identity',
  n: 'identity-info',
};

/** Canonical spelling for writing a header name. */
const CANONICAL: Readonly<Record<string, string>> = {
  'call-id': 'Call-ID',
  cseq: 'CSeq',
  'www-authenticate': 'WWW-Authenticate',
  'mime-version': 'MIME-Version',
  rseq: 'RSeq',
  rack: 'RAck',
  'min-se': 'Min-SE',
  'p-asserted-identity': 'P-Asserted-Identity',
  'p-preferred-identity': 'P-Preferred-Identity',
  'sip-etag': 'SIP-ETag',
  'sip-if-match': 'SIP-If-Match',
};

/**
 * Headers whose grammar is `#(value)` / `1#(value)`, so one line may carry several values
 * separated by commas. Authorization-type headers are deliberately absent: their commas separate
 * parameters of one value.
 */
const LIST_HEADERS: ReadonlySet<string> = new Set([
  'via',
  'route',
  'record-route',
  'contact',
  'allow',
  'supported',
  'require',
  'proxy-require',
  'unsupported',
  'accept',
  'accept-encoding',
  'accept-language',
  'content-encoding',
  'content-language',
  'in-reply-to',
  'alert-info',
  'call-info',
  'error-info',
  'warning',
  'allow-events',
  'path',
  'service-route',
  'p-asserted-identity',
  'p-preferred-identity',
  'reason',
  'security-client',
  'security-server',
  'security-verify',
  'accept-contact',
  'reject-contact',
  'request-disposition',
  'history-info',
  'privacy',
]);

const keyCache = new Map<string, string>();
const KEY_CACHE_LIMIT = 512;

/** Canonical lower-case long name of a header name as written: `V` → `via`, `Call-ID` → `call-id`. */
export function headerKey(name: string): string {
  const cached = keyCache.get(name);
  if (cached !== undefined) return cached;
  const lower = name.toLowerCase();
  const key = lower.length === 1 ? (COMPACT[lower] ?? lower) : lower;
  if (keyCache.size < KEY_CACHE_LIMIT) keyCache.set(name, key);
  return key;
}

/** The conventional spelling of a header key: `call-id` → `Call-ID`, `max-forwards` → `Max-Forwards`. */
export function canonicalHeaderName(name: string): string {
  const key = headerKey(name);
  const special = CANONICAL[key];
  if (special !== undefined) return special;
  let out = '';
  let upper = true;
  for (let i = 0; i < key.length; i++) {
    const ch = key[i] as string;
    out += upper ? ch.toUpperCase() : ch;
    upper = ch === '-';
  }
  return out;
}

/** Whether several values of this header may share one comma-separated line. */
export function isListHeader(key: string): boolean {
  return LIST_HEADERS.has(key);
}
