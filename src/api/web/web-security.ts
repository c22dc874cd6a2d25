/**
 * Cookies, CSRF and security headers for the web pages.
 *
 * - Session cookies are HttpOnly, SameSite=Strict, Path=/, and Secure whenever the request came
 *   over HTTPS (directly, or through a trusted proxy's X-Forwarded-Proto).
 * - CSRF: every state-changing form carries a token derived from the session secret
 *   (SHA-256 of a label and the cookie value). A page can only show it to someone who holds the
 *   cookie, and another site can neither read the cookie nor the token. Before login, a random
 *   pre-session cookie plays the same part (double submit). POSTs whose Origin names another
 *   site are refused as well.
 * - Every page: a Content-Security-Policy with no inline script or style, no framing, forms only
 *   to this origin; no caching of personal pages; no referrer to other sites.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

export const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "media-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

/** `formAction`: other origins a form of this page may lead to (an order page's pay button redirects to the provider's checkout). */
export function securityHeaders(reply: FastifyReply, o: { formAction?: readonly string[] } = {}): void {
  const csp = o.formAction?.length ? CSP.replace("form-action 'self'", `form-action 'self' ${o.formAction.join(' ')}`) : CSP;
  void reply.headers({
    'content-security-policy': csp,
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'same-origin', // no-referrer would make browsers send "Origin: null" on our own form posts
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'permissions-policy': 'camera=(), microphone=(), geolocation=()',
    'cache-control': 'no-store',
  });
}

export function readCookies(req: FastifyRequest): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i <= 0) continue;
    const name = part.slice(0, i).trim();
    const value = part.slice(i + 1).trim();
    if (/^[\x21-\x7e]{1,300}$/.test(value) && !out.has(name)) out.set(name, value);
  }
  return out;
}

export function isHttps(req: FastifyRequest): boolean {
  return req.protocol === 'https';
}

export function setCookie(req: FastifyRequest, reply: FastifyReply, name: string, value: string, maxAgeSeconds: number): void {
  const flags = [`${name}=${value}`, 'Path=/', 'HttpOnly', 'SameSite=Strict', `Max-Age=${maxAgeSeconds}`];
  if (isHttps(req)) flags.push('Secure');
  void reply.header('set-cookie', flags.join('; ')); // Fastify appends Set-Cookie headers
}

export function clearCookie(req: FastifyRequest, reply: FastifyReply, name: string): void {
  setCookie(req, reply, name, '', 0);
}

export function csrfFor(secret: string): string {
  return createHash('sha256').update(`csrf\0${secret}`).digest('base64url');
}

export function csrfValid(secret: string | undefined, given: unknown): boolean {
  if (!secret || typeof given !== 'string') return false;
  const want = Buffer.from(csrfFor(secret));
  const got = Buffer.from(given);
  return want.length === got.length && timingSafeEqual(want, got);
}

/** A POST from another site's page (Origin present and not ours) is refused outright. */
export function sameOrigin(req: FastifyRequest): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === req.host;
  } catch {
    return false;
  }
}

export const PRE_SESSION_COOKIE = 'ss_pre';

/** The pre-login CSRF secret: reused while the cookie lives, created otherwise. */
export function preSession(req: FastifyRequest, reply: FastifyReply): string {
  const have = readCookies(req).get(PRE_SESSION_COOKIE);
  if (have && /^[A-Za-z0-9_-]{43}$/.test(have)) return have;
  const v = randomBytes(32).toString('base64url');
  setCookie(req, reply, PRE_SESSION_COOKIE, v, 3600);
  return v;
}
