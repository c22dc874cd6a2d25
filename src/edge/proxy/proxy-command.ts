/**
 * Spec §7: the `proxy` command's tokens, named. After `<msgId>|proxy|<txnId>|` come
 *
 *   <rr>|<full>|<follow>|<fork>|<provTimeout>|<finalTimeout>|<dest1>[|<dest2>…]
 *
 * and a body holding a dummy request line plus the app's extra headers, which go on every
 * forwarded request (§5 header rules). The request line itself is ignored, as the reference does.
 */
import { parseMessage, type SipHeader } from '../message/index.ts';
import { usableAppHeaders } from '../core/header-rules.ts';

export interface ProxyOptions {
  /** `remainInDialog`: add Record-Route (Path for REGISTER) and stay in the dialog path. */
  readonly recordRoute: boolean;
  /** `fullResponse`: report every final response from a target (R9), then `done` (R10). */
  readonly fullResponse: boolean;
  /** `followRedirects`: on a 3xx, try the Contact URIs of the redirect next. */
  readonly followRedirects: boolean;
  /** `simultaneous` forking; otherwise serial. */
  readonly simultaneous: boolean;
  /** No response at all from a target within this many ms → try the next one (0: none). */
  readonly provisionalTimeoutMs: number;
  readonly destinations: readonly string[];
  /** Extra headers for the forwarded request(s). */
  readonly headers: readonly SipHeader[];
}

/** Headers the proxy owns on the forwarded request; the app cannot set them. */
const PROXY_OWN = new Set(['via', 'from', 'to', 'call-id', 'cseq', 'max-forwards', 'route', 'record-route', 'content-length']);

/** `2s`, `1500ms` → milliseconds; anything else (the reference logs and ignores it) → 0. */
export function parseProxyTimeout(text: string): number {
  const m = /^(\d+)(ms|s)$/.exec(text);
  if (m === null) return 0;
  const n = Number(m[1]);
  return m[2] === 's' ? n * 1000 : n;
}

export function parseProxyCommand(tokens: readonly string[], body: string): ProxyOptions {
  const tok = (i: number): string => tokens[i] ?? '';
  const destinations = tokens
    .slice(6)
    .map((d) => d.trim())
    .filter((d) => d.length > 0);
  let headers: SipHeader[] = [];
  if (body.trim().length > 0) {
    const parsed = parseMessage(body.endsWith('\r\n\r\n') ? body : `${body.replace(/(\r\n)*$/, '')}\r\n\r\n`, { lenient: true });
    if (parsed.ok) headers = usableAppHeaders(parsed.message, PROXY_OWN);
  }
  return {
    recordRoute: tok(0) !== '',
    fullResponse: tok(1) !== '',
    followRedirects: tok(2) !== '',
    simultaneous: tok(3) === 'simultaneous',
    provisionalTimeoutMs: parseProxyTimeout(tok(4)),
    destinations,
    headers,
  };
}
