/**
 * How app-supplied headers are handled (spec §5, "How app-supplied headers are handled"):
 *
 * - Ignored: Via, Route, Record-Route, RSeq, Content-Length (the stack generates them).
 * - Dropped: lines whose name contains non-token characters.
 * - Custom headers pass verbatim, the name rewritten to Capital-After-Dash except `X-…` names.
 * - `@localhost` substitution in From, To, Contact and P-Asserted-Identity (MUST).
 * - Content-Type auto-detection: a body starting `v=0` without Content-Type is SDP (MUST).
 * - Re-serialisation: URIs without angle brackets get them (E.13, E.22).
 */
import { canonicalHeaderName, isToken, parseNameAddr, serialiseParams, type SipHeader, type SipMessageBase } from '../message/index.ts';

const IGNORED = new Set(['via', 'route', 'record-route', 'rseq', 'content-length']);
const LOCALHOST_HEADERS = new Set(['from', 'to', 'contact', 'p-asserted-identity']);

/** The header name as the reference writes it: canonical case, `X-…` names as written. */
export function wireHeaderName(name: string): string {
  if (name.length > 2 && (name[0] === 'x' || name[0] === 'X') && name[1] === '-') return name;
  return canonicalHeaderName(name);
}

/** App headers that may be copied into an outgoing message, in the app's order. */
export function usableAppHeaders(app: SipMessageBase, skip: ReadonlySet<string> = new Set()): SipHeader[] {
  const out: SipHeader[] = [];
  for (const h of app.headers) {
    if (IGNORED.has(h.key) || skip.has(h.key)) continue;
    if (!isToken(h.name)) continue;
    out.push(h);
  }
  return out;
}

/**
 * `@localhost` substitution: host and port of a URI written `…@localhost[:port]` become the
 * transport's. A value without angle brackets gets them (sofia re-serialises name-addrs).
 */
export function substituteLocalhost(key: string, value: string, hostport: string, anywhere = false): string {
  if (!LOCALHOST_HEADERS.has(key)) return value;
  let out = value;
  if (out.includes('@localhost')) out = out.replace(/@localhost(:\d+)?/g, `@${hostport}`);
  else if (anywhere && /(^|[:<@])localhost(:\d+)?/.test(out)) out = out.replace(/([:<@])localhost(:\d+)?/, `$1${hostport}`);
  return bracketNameAddr(out);
}

/** `sip:a@b;tag=x` → `<sip:a@b>;tag=x`; name-addrs are left as written. */
export function bracketNameAddr(value: string): string {
  if (value.includes('<')) return value;
  const parsed = parseNameAddr(value);
  if (parsed === undefined) return value;
  return `<${parsed.uri}>${serialiseParams(parsed.params)}`;
}

/** A From/To value without its tag parameter (the dialog keeps party and tag apart). */
export function withoutTag(value: string): string {
  const gt = value.lastIndexOf('>');
  const head = gt >= 0 ? value.slice(0, gt + 1) : '';
  const tail = gt >= 0 ? value.slice(gt + 1) : value;
  return head + tail.replace(/;\s*tag=[^;]*/i, '');
}

/** Content-Type auto-detection (§5): SDP bodies get `application/sdp`. */
export function isSdp(body: Buffer): boolean {
  return body.length >= 3 && body[0] === 0x76 && body[1] === 0x3d && body[2] === 0x30; // "v=0"
}

/** Copies the app's usable headers into `target` (appended, names as the reference writes them). */
export function appendAppHeaders(target: SipMessageBase, headers: readonly SipHeader[], hostport: string): void {
  for (const h of headers) target.append(wireHeaderName(h.name), substituteLocalhost(h.key, h.value, hostport));
}
