/**
 * What every page handler uses: the page shell, calls into the account API, form and message
 * helpers. Pages call the API in-process (`inject`) with the visitor's own credential (customer
 * session token or operator API key), so authorisation, validation and audit stay in the API.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiContext } from '../api-context.ts';
import { Html, html } from '../../common/html.ts';
import type { OperatorSessions } from '../operator-sessions.ts';
import { securityHeaders } from './web-security.ts';
import type { Texts } from './texts.ts';
import { textsFor } from './texts.ts';

export interface Web {
  app: FastifyInstance;
  ctx: ApiContext;
  operators: OperatorSessions;
  assetVersion: string;
}

export interface ApiResult<T = Record<string, unknown>> {
  status: number;
  json: T;
  text: string;
  headers: Record<string, unknown>;
}

/** One request to the account API as `bearer`, from the visitor's address (the login throttle counts per address). */
export async function callApi<T = Record<string, unknown>>(
  web: Web,
  req: FastifyRequest,
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  url: string,
  o: { bearer?: string; body?: unknown; payload?: string; headers?: Record<string, string> } = {},
): Promise<ApiResult<T>> {
  const headers: Record<string, string> = { ...(o.bearer ? { authorization: `Bearer ${o.bearer}` } : {}), ...o.headers };
  const r = await web.app.inject({
    method,
    url,
    headers,
    remoteAddress: req.ip,
    ...(o.body !== undefined ? { payload: o.body as object } : {}),
    ...(o.payload !== undefined ? { payload: o.payload } : {}),
  });
  let json = {} as T;
  if (String(r.headers['content-type'] ?? '').includes('json')) json = r.json() as T;
  return { status: r.statusCode, json, text: r.body, headers: r.headers as Record<string, unknown> };
}

/**
 * A recording's audio from the account API, relayed as it came: status (200, 206, 416, 403, 404…),
 * body and the headers a player needs; the visitor's Range header is passed on, so the browser's
 * audio element seeks by byte ranges. The API authorises and audits each request.
 */
export async function relayAudio(web: Web, req: FastifyRequest, reply: FastifyReply, url: string, headers: Record<string, string>): Promise<FastifyReply> {
  const range = req.headers.range;
  const r = await web.app.inject({ method: 'GET', url, headers: { ...headers, ...(range === undefined ? {} : { range }) }, remoteAddress: req.ip });
  securityHeaders(reply);
  for (const h of ['content-type', 'content-range', 'accept-ranges', 'content-disposition', 'content-length']) {
    const v = r.headers[h];
    if (v !== undefined) void reply.header(h, v);
  }
  void reply.header('cache-control', 'private, no-store');
  return reply.code(r.statusCode).send(r.rawPayload);
}

export const T = (req: FastifyRequest): Texts => textsFor(req.headers['accept-language']);

/** A message id from the query string (`?m=security.pwChanged`) to its text; unknown ids show nothing. */
export function message(t: Texts, id: unknown): string | undefined {
  if (typeof id !== 'string' || !/^[a-zA-Z]+\.[a-zA-Z]+$/.test(id)) return undefined;
  const [a, b] = id.split('.') as [string, string];
  const group = (t as unknown as Record<string, unknown>)[a];
  const v = group && typeof group === 'object' ? (group as Record<string, unknown>)[b] : undefined;
  return typeof v === 'string' ? v : undefined;
}

export interface NavItem {
  href: string;
  label: string;
}

export interface PageOpts {
  title: string;
  nav?: { label: string; items: NavItem[]; current: string; logout: { action: string; label: string; csrf: string } };
  body: Html;
  status?: number;
  notice?: string | undefined;
  error?: string | undefined;
  /** Origins beyond this one the page's forms may lead to (CSP form-action). */
  formAction?: readonly string[];
}

export function sendPage(web: Web, req: FastifyRequest, reply: FastifyReply, o: PageOpts): FastifyReply {
  const t = T(req);
  securityHeaders(reply, o.formAction ? { formAction: o.formAction } : {});
  const nav =
    o.nav &&
    html`
    <nav aria-label="${o.nav.label}"><ul>
      ${o.nav.items.map((i) => html`<li><a href="${i.href}"${i.href === o.nav!.current ? html` aria-current="page"` : ''}>${i.label}</a></li>`)}
      <li><form method="post" action="${o.nav.logout.action}" class="inline"><input type="hidden" name="_csrf" value="${o.nav.logout.csrf}"><button type="submit" class="link">${o.nav.logout.label}</button></form></li>
    </ul></nav>`;
  const doc = html`<!doctype html>
<html lang="${t.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${o.title} · ${t.product}</title>
<link rel="icon" href="/web/assets/favicon.svg?v=${web.assetVersion}" type="image/svg+xml">
<link rel="stylesheet" href="/web/assets/app.css?v=${web.assetVersion}">
<script src="/web/assets/app.js?v=${web.assetVersion}" defer></script>
</head>
<body>
<a class="skip" href="#main">${t.skip}</a>
<header><p class="brand">${t.product}</p>${nav}</header>
<main id="main" tabindex="-1">
<h1>${o.title}</h1>
${o.notice ? html`<p class="notice" role="status">${o.notice}</p>` : ''}
${o.error ? html`<p class="error" role="alert">${o.error}</p>` : ''}
${o.body}
</main>
</body>
</html>
`;
  return reply
    .status(o.status ?? 200)
    .type('text/html; charset=utf-8')
    .send(doc.text);
}

export function redirect(reply: FastifyReply, to: string): FastifyReply {
  securityHeaders(reply);
  return reply.status(303).header('location', to).send();
}

export function withMessage(path: string, id: string, kind: 'm' | 'e' = 'm'): string {
  return `${path}${path.includes('?') ? '&' : '?'}${kind}=${encodeURIComponent(id)}`;
}

export const hidden = (csrf: string): Html => html`<input type="hidden" name="_csrf" value="${csrf}">`;

/** Route options for a page or form route: public to the API's access hook (the page checks its own cookie), documented under "web". */
const pageResponses: Record<string, unknown> = {
  200: { description: 'HTML page', content: { 'text/html': { schema: { type: 'string' } } } },
  303: { description: 'redirect to a page' },
};

export function pageRoute(summary: string, extra: Record<string, unknown> = {}) {
  return {
    config: { access: 'public' as const },
    schema: { tags: ['web'], summary, response: pageResponses, ...extra } as Record<string, unknown>,
  };
}

/** Route options for a form POST: urlencoded fields, all strings, `_csrf` required; the handler shows validation errors on the page. */
export function formRoute(summary: string, fields: string[]) {
  const properties: Record<string, object> = { _csrf: { type: 'string', maxLength: 100 } };
  for (const f of fields) properties[f] = { type: 'string', maxLength: 2000 };
  return {
    attachValidation: true,
    ...pageRoute(summary, { body: { type: 'object', additionalProperties: false, properties } }),
  };
}

/**
 * A form field as well-formed text: a JSON form post may carry a lone surrogate (`"\ud800"`), which
 * no URL, header or database text can hold; it becomes U+FFFD, as a browser's form encoding does.
 */
export function field(body: unknown, name: string): string {
  const v = (body as Record<string, unknown> | undefined)?.[name];
  return typeof v === 'string' ? Buffer.from(v, 'utf8').toString('utf8') : '';
}

export function dateTimeText(t: Texts, v: unknown): string {
  if (typeof v !== 'string' && !(v instanceof Date)) return '';
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) return '';
  return new Intl.DateTimeFormat(t.locale, { dateStyle: 'medium', timeStyle: 'medium', timeZone: 'UTC' }).format(d) + ' UTC';
}

export function durationText(ms: unknown): string {
  const s = Math.round(Number(ms ?? 0) / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

export function problemText(t: Texts, r: ApiResult): string {
  const code = (r.json as { code?: unknown }).code;
  return (typeof code === 'string' && t.problems[code]) || t.common.error;
}

export { Html };
