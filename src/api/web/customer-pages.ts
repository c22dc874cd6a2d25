/**
 * Customer self-care pages under /my. The session cookie holds the API's own session token
 * (HttpOnly); every page acts through the /v1/self routes with it, so a customer can only ever
 * reach their own account. Where the API has no self-care route (SIP devices, top-up history),
 * the page reads the account of the session directly and writes the audit row itself.
 */
import { callerIdText, callResultText } from './call-cells.ts';
import { AppError } from '../../errors.ts';
import { problemHandler } from '../problem.ts';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { balanceView, streamBalanceView } from './balance-stream.ts';
import { html } from '../../common/html.ts';
import type { Html } from '../../common/html.ts';
import { formatMoney, microsToDecimal, minorDigits, parseAmount } from './money-format.ts';
import type { Texts } from './texts.ts';
import {
  T,
  callApi,
  dateTimeText,
  durationText,
  field,
  formRoute,
  hidden,
  message,
  pageRoute,
  problemText,
  redirect,
  relayAudio,
  sendPage,
  withMessage,
} from './web-kit.ts';
import type { ApiResult, PageOpts, Web } from './web-kit.ts';
import { clearCookie, csrfFor, csrfValid, preSession, readCookies, sameOrigin, securityHeaders, setCookie } from './web-security.ts';
import { myLiveCalls } from '../routes/self-care.ts';

export const CUSTOMER_COOKIE = 'ss_sess';

interface Me {
  token: string;
  csrf: string;
  accountId: number;
  customerId: number;
  currency: string;
  number: string;
  status: string;
}

interface SpeedDialItem {
  position: number;
  name: string;
  number: string;
}

interface CallbackItem {
  status: string;
  reason: string | null;
  callMe: string;
  /** Null for a menu request. */
  connectTo: string | null;
  menu?: boolean;
  createdAt: string;
}

interface Account {
  id: number;
  number: string;
  currency: string;
  status: string;
  customerId: number;
}

function nav(t: Texts, me: Me, current: string): PageOpts['nav'] {
  const n = t.nav;
  return {
    label: n.label,
    current,
    items: [
      { href: '/my', label: n.home },
      { href: '/my/calls', label: n.calls },
      { href: '/my/security', label: n.security },
      { href: '/my/caller-ids', label: n.callerIds },
      { href: '/my/speed-dials', label: n.speedDials },
      { href: '/my/callbacks', label: n.callbacks },
      { href: '/my/recordings', label: n.recordings },
      { href: '/my/devices', label: n.devices },
      { href: '/my/top-ups', label: n.topups },
      { href: '/my/privacy', label: n.privacy },
    ],
    logout: { action: '/my/logout', label: n.logout, csrf: me.csrf },
  };
}

/** The signed-in customer, or a redirect to the login page. */
async function signedIn(web: Web, req: FastifyRequest, reply: FastifyReply): Promise<Me | undefined> {
  const token = readCookies(req).get(CUSTOMER_COOKIE);
  const r = token ? await callApi<{ account: Account }>(web, req, 'GET', '/v1/self', { bearer: token }) : undefined;
  if (!token || !r || r.status !== 200) {
    if (token) clearCookie(req, reply, CUSTOMER_COOKIE);
    redirect(reply, '/my/login');
    return undefined;
  }
  const a = r.json.account;
  return { token, csrf: csrfFor(token), accountId: a.id, customerId: a.customerId, currency: a.currency, number: a.number, status: a.status };
}

/** The customer for a form POST: same origin and a valid CSRF token, else a 403 page. */
async function signedInForm(web: Web, req: FastifyRequest, reply: FastifyReply): Promise<Me | undefined> {
  const token = readCookies(req).get(CUSTOMER_COOKIE);
  if (!sameOrigin(req) || !csrfValid(token, field(req.body, '_csrf'))) {
    sendPage(web, req, reply, { title: T(req).common.error, status: 403, body: html`<p>${T(req).common.csrf}</p>` });
    return undefined;
  }
  return signedIn(web, req, reply);
}

function show(web: Web, req: FastifyRequest, reply: FastifyReply, me: Me, current: string, o: Omit<PageOpts, 'nav'>): FastifyReply {
  const t = T(req);
  const q = req.query as Record<string, unknown>;
  return sendPage(web, req, reply, { notice: message(t, q.m), error: message(t, q.e), ...o, nav: nav(t, me, current) });
}

const money = (t: Texts, me: Me, micros: unknown): string => formatMoney(Number(micros ?? 0), me.currency, t.locale);

/**
 * What the "number dialled" cell shows: a speed-dialled call (`*7` from a device, `*7#` keyed at an
 * access number) by the speed dial's name beside the keys, when that speed dial still stands for
 * the number the call went to; anything else as dialled.
 */
export function dialledText(c: Record<string, unknown>, speedDials: readonly SpeedDialItem[]): string {
  const dialled = typeof c.dialledNumber === 'string' ? c.dialledNumber : '';
  const m = /^[*#][*#0-9]*?([0-9]{1,2})$/.exec(dialled);
  if (!m || typeof c.destination !== 'string') return dialled;
  const digits = m[1]!;
  const candidates = [Number(digits), ...(digits.length === 2 ? [Number(digits.slice(1))] : [])];
  const d = speedDials.find((x) => candidates.includes(x.position) && x.number === `+${c.destination as string}`);
  return d ? `${d.name} (${dialled})` : dialled;
}

function callsTable(t: Texts, me: Me, items: Record<string, unknown>[], empty = t.calls.none, speedDials: readonly SpeedDialItem[] = []): Html {
  if (items.length === 0) return html`<p>${empty}</p>`;
  return html`<div class="table-wrap" tabindex="0" role="region" aria-label="${t.calls.caption}"><table>
    <caption>${t.calls.caption}</caption>
    <thead><tr><th scope="col">${t.calls.start}</th><th scope="col">${t.calls.dialled}</th><th scope="col">${t.calls.cli}</th><th scope="col">${t.calls.duration}</th><th scope="col" class="num">${t.calls.cost}</th><th scope="col">${t.calls.result}</th></tr></thead>
    <tbody>${items.map((c) => html`<tr><td>${dateTimeText(t, c.startTime)}</td><td>${dialledText(c, speedDials)}</td><td>${callerIdText(t, c)}</td><td>${durationText(c.durationMs)}</td><td class="num">${money(t, me, c.cost)}</td><td>${callResultText(t, c)}</td></tr>`)}</tbody>
  </table></div>`;
}

type MyLiveCall = Awaited<ReturnType<typeof myLiveCalls>>[number];

/** Rows of the calls-in-progress table (also sent, rendered and escaped here, by the live stream). */
function liveCallRows(t: Texts, calls: readonly MyLiveCall[]): Html[] {
  if (calls.length === 0) return [html`<tr><td colspan="3">${t.home.noLiveCalls}</td></tr>`];
  return calls.map(
    (c) =>
      html`<tr><td>${c.dialledNumber ?? ''}</td><td>${c.state === 'answered' ? t.home.answered : t.home.ringing}</td><td>${dateTimeText(t, c.answeredAt ?? c.startedAt)}</td></tr>`,
  );
}

/** Dates from the filter form (YYYY-MM-DD, "to" inclusive) as the API's time range. */
function cdrFilter(q: Record<string, unknown>): { params: URLSearchParams; ok: boolean; values: { from: string; to: string; number: string } } {
  const values = { from: String(q.from ?? ''), to: String(q.to ?? ''), number: String(q.number ?? '').replace(/[\s-]/g, '') };
  const params = new URLSearchParams();
  let ok = true;
  const day = /^\d{4}-\d{2}-\d{2}$/;
  if (values.from) {
    if (day.test(values.from) && !Number.isNaN(Date.parse(values.from))) params.set('from', `${values.from}T00:00:00.000Z`);
    else ok = false;
  }
  if (values.to) {
    const d = new Date(`${values.to}T00:00:00.000Z`);
    if (day.test(values.to) && !Number.isNaN(d.getTime())) params.set('to', new Date(d.getTime() + 86_400_000).toISOString());
    else ok = false;
  }
  if (values.number) {
    if (/^\+?[0-9]{1,16}$/.test(values.number)) params.set('number', values.number);
    else ok = false;
  }
  return { params, ok, values };
}

export function customerPages(web: Web, app: FastifyInstance): void {
  const { ctx } = web;

  app.get('/my/login', pageRoute('Customer login page'), async (req, reply) => {
    const t = T(req);
    const pre = preSession(req, reply);
    const q = req.query as Record<string, unknown>;
    return sendPage(web, req, reply, {
      title: t.login.title,
      notice: message(t, q.m),
      error: message(t, q.e),
      body: html`<p>${t.login.intro}</p>
      <form method="post" action="/my/login" class="stack">
        ${hidden(csrfFor(pre))}
        <label for="username">${t.login.username}</label><input id="username" name="username" autocomplete="username" required maxlength="64">
        <label for="password">${t.login.password}</label><input id="password" name="password" type="password" autocomplete="current-password" required maxlength="200">
        <button type="submit">${t.login.submit}</button>
      </form>`,
    });
  });

  app.post('/my/login', formRoute('Customer login (throttled; one generic error)', ['username', 'password']), async (req, reply) => {
    const pre = readCookies(req).get('ss_pre');
    if (!sameOrigin(req) || !csrfValid(pre, field(req.body, '_csrf'))) return redirect(reply, withMessage('/my/login', 'common.csrf', 'e'));
    const username = field(req.body, 'username').trim();
    const password = field(req.body, 'password');
    const r =
      username && password && !req.validationError
        ? await callApi<{ token: string }>(web, req, 'POST', '/v1/self/login', { body: { username: username.slice(0, 64), password: password.slice(0, 200) } })
        : undefined;
    if (!r || r.status !== 200) return redirect(reply, withMessage('/my/login', 'login.failed', 'e'));
    setCookie(req, reply, CUSTOMER_COOKIE, r.json.token, ctx.settings.session.ttlSeconds);
    clearCookie(req, reply, 'ss_pre');
    return redirect(reply, '/my');
  });

  app.get('/my/set-password', pageRoute('Choose my password with the one-time link of my welcome mail'), async (req, reply) => {
    const pre = preSession(req, reply);
    const q = req.query as Record<string, unknown>;
    const token = typeof q.token === 'string' && /^pl_[A-Za-z0-9_-]{43}$/.test(q.token) ? q.token : '';
    return sendPage(web, req, reply, {
      title: 'Choose your password',
      error: message(T(req), q.e),
      body: token
        ? html`<p>Choose the password for self-care. The link works once.</p>
      <form method="post" action="/my/set-password" class="stack">
        ${hidden(csrfFor(pre))}<input type="hidden" name="token" value="${token}">
        <label for="newPassword">New password</label><input id="newPassword" name="newPassword" type="password" autocomplete="new-password" required maxlength="200">
        <button type="submit">Save</button>
      </form>`
        : html`<p>This link is not valid. Ask for a new one from support.</p>`,
    });
  });

  app.post('/my/set-password', formRoute('Choose my password with a one-time link', ['token', 'newPassword']), async (req, reply) => {
    const pre = readCookies(req).get('ss_pre');
    const token = field(req.body, 'token');
    const back = `/my/set-password?token=${encodeURIComponent(token)}`;
    if (!sameOrigin(req) || !csrfValid(pre, field(req.body, '_csrf'))) return redirect(reply, withMessage(back, 'common.csrf', 'e'));
    const r = await callApi<{ username?: string; code?: string }>(web, req, 'POST', '/v1/self/password-link', {
      body: { token, newPassword: field(req.body, 'newPassword').slice(0, 200) },
    });
    if (r.status === 200) return redirect(reply, withMessage('/my/login', 'login.passwordSet'));
    return redirect(reply, withMessage(back, r.json.code === 'WEAK_PASSWORD' ? 'login.weakPassword' : 'login.linkInvalid', 'e'));
  });

  app.post('/my/logout', formRoute('Customer logout', []), async (req, reply) => {
    const me = await signedInForm(web, req, reply);
    if (!me) return reply;
    await callApi(web, req, 'POST', '/v1/self/logout', { bearer: me.token });
    clearCookie(req, reply, CUSTOMER_COOKIE);
    return redirect(reply, withMessage('/my/login', 'login.loggedOut'));
  });

  app.get('/my', pageRoute('Customer home: live balance, calls in progress, last calls'), async (req, reply) => {
    const me = await signedIn(web, req, reply);
    if (!me) return reply;
    const t = T(req);
    const [b, calls, live, auto, speedDials] = await Promise.all([
      balanceView(ctx, me.accountId, t.locale),
      callApi<{ items: Record<string, unknown>[] }>(web, req, 'GET', '/v1/self/cdrs?limit=5', { bearer: me.token }),
      myLiveCalls(ctx, me.accountId),
      callApi<{ enabled: boolean; recentCharges?: { at: string; result: string }[] }>(web, req, 'GET', '/v1/self/auto-topup', { bearer: me.token }),
      callApi<{ items?: SpeedDialItem[] }>(web, req, 'GET', '/v1/self/speed-dials', { bearer: me.token }),
    ]);
    // a refused charge turned auto top-up off: said here, where the customer looks first (for two weeks, or until it is on again)
    const refused = auto.status === 200 && !auto.json.enabled ? auto.json.recentCharges?.[0] : undefined;
    const autoOff =
      refused && ['declined', 'invalid_token'].includes(refused.result) && Date.now() - Date.parse(refused.at) < 14 * 86_400_000 ? refused : undefined;
    return show(web, req, reply, me, '/my', {
      title: t.home.title,
      body: html`
      ${autoOff ? html`<div class="card" role="alert"><p>${t.home.autoOff} (${dateTimeText(t, autoOff.at)}, ${autoOff.result}). <a href="/my/top-ups">${t.home.autoOffAction}</a>.</p></div>` : ''}
      <section aria-labelledby="bal-h" class="card" data-balance-stream="/my/balance/events">
        <h2 id="bal-h">${t.home.balance} <span class="live-dot" aria-hidden="true"></span></h2>
        <dl class="facts">
          <dt>${t.home.account}</dt><dd>${me.number}</dd>
          <dt>${t.home.available}</dt><dd class="big" data-field="available" aria-live="polite">${b.available}</dd>
          <dt>${t.home.balance}</dt><dd data-field="balance">${b.balance}</dd>
          <dt>${t.home.reserved}</dt><dd data-field="reserved">${b.reserved}</dd>
          <dt>${t.home.callsInProgress}</dt><dd data-field="callsInProgress">${b.callsInProgress}</dd>
          <dt>${t.home.status}</dt><dd data-field="status">${b.status}</dd>
        </dl>
        <p class="hint">${t.common.liveHint}</p>
      </section>
      <section aria-labelledby="live-h">
        <h2 id="live-h">${t.home.callsInProgress}</h2>
        <div class="table-wrap" tabindex="0" role="region" aria-label="${t.home.callsInProgress}"><table>
          <thead><tr><th scope="col">${t.home.liveNumber}</th><th scope="col">${t.home.liveState}</th><th scope="col">${t.home.liveSince}</th></tr></thead>
          <tbody data-live-calls>${liveCallRows(t, live)}</tbody>
        </table></div>
      </section>
      <section aria-labelledby="last-h">
        <h2 id="last-h">${t.home.lastCalls}</h2>
        ${callsTable(t, me, calls.json.items ?? [], t.home.noCalls, speedDials.json.items ?? [])}
        <p><a href="/my/calls">${t.home.allCalls}</a></p>
      </section>`,
    });
  });

  app.get('/my/balance/events', pageRoute('Server-sent events: the live balance, formatted'), async (req, reply) => {
    const token = readCookies(req).get(CUSTOMER_COOKIE);
    const s = token ? await ctx.sessions.get(token) : undefined;
    if (!token || !s) {
      securityHeaders(reply);
      problemHandler(new AppError('UNAUTHENTICATED', 'log in first'), req, reply);
      return reply;
    }
    const t = T(req);
    streamBalanceView(
      ctx,
      reply,
      s.accountId,
      t.locale,
      async () => (await ctx.sessions.get(token)) !== undefined,
      async () => ({
        liveCallsHtml: liveCallRows(t, await myLiveCalls(ctx, s.accountId))
          .map(String)
          .join(''),
      }),
    );
  });

  app.get('/my/calls', pageRoute('Call history with date and number filters, paged'), async (req, reply) => {
    const me = await signedIn(web, req, reply);
    if (!me) return reply;
    const t = T(req);
    const q = req.query as Record<string, unknown>;
    const f = cdrFilter(q);
    const cursor = typeof q.cursor === 'string' && /^[A-Za-z0-9_-]{1,500}$/.test(q.cursor) ? q.cursor : undefined;
    const params = new URLSearchParams(f.params);
    params.set('limit', '25');
    if (cursor) params.set('cursor', cursor);
    const r = f.ok
      ? await callApi<{ items: Record<string, unknown>[]; nextCursor: string | null }>(web, req, 'GET', `/v1/self/cdrs?${params}`, { bearer: me.token })
      : undefined;
    const speedDials = await callApi<{ items?: SpeedDialItem[] }>(web, req, 'GET', '/v1/self/speed-dials', { bearer: me.token });
    const filterQs = new URLSearchParams(Object.entries(f.values).filter(([, v]) => v));
    const next = r?.json.nextCursor ? `/my/calls?${new URLSearchParams([...filterQs, ['cursor', r.json.nextCursor]])}` : undefined;
    return show(web, req, reply, me, '/my/calls', {
      title: t.calls.title,
      error: f.ok && (!r || r.status === 200) ? undefined : t.calls.badFilter,
      status: f.ok ? 200 : 400,
      body: html`
      <form method="get" action="/my/calls" class="filters">
        <div><label for="from">${t.calls.from}</label><input id="from" name="from" type="date" value="${f.values.from}"></div>
        <div><label for="to">${t.calls.to}</label><input id="to" name="to" type="date" value="${f.values.to}"></div>
        <div><label for="number">${t.calls.number}</label><input id="number" name="number" inputmode="tel" value="${f.values.number}" maxlength="17"></div>
        <button type="submit">${t.calls.filter}</button>
      </form>
      <p><a class="button" href="/my/calls.csv${filterQs.size ? `?${filterQs}` : ''}" download>${t.calls.csv}</a></p>
      ${r && r.status === 200 ? callsTable(t, me, r.json.items, t.calls.none, speedDials.json.items ?? []) : ''}
      <nav class="pager" aria-label="${t.calls.title}">
        ${cursor ? html`<a href="/my/calls${filterQs.size ? `?${filterQs}` : ''}">${t.common.first}</a>` : ''}
        ${next ? html`<a href="${next}" rel="next">${t.common.next}</a>` : ''}
      </nav>`,
    });
  });

  app.get('/my/calls.csv', pageRoute('Call history as CSV (the filters of the page)'), async (req, reply) => {
    const me = await signedIn(web, req, reply);
    if (!me) return reply;
    const f = cdrFilter(req.query as Record<string, unknown>);
    const r = await callApi(web, req, 'GET', `/v1/self/cdrs/export?${f.params}`, { bearer: me.token });
    securityHeaders(reply);
    if (r.status !== 200) return reply.status(r.status).type('text/plain; charset=utf-8').send(T(req).calls.badFilter);
    return reply.type('text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="my-calls.csv"').send(r.text);
  });

  const securityPage = (req: FastifyRequest, reply: FastifyReply, me: Me, extra: { pin?: string; error?: string; status?: number } = {}) => {
    const t = T(req);
    const s = t.security;
    return show(web, req, reply, me, '/my/security', {
      title: s.title,
      status: extra.status ?? 200,
      ...(extra.error ? { error: extra.error } : {}),
      body: html`
      ${extra.pin ? html`<div class="card once" role="status"><p>${s.newPinIs} <strong class="secret" data-testid="new-pin">${extra.pin}</strong></p><p>${s.pinOnce}</p></div>` : ''}
      <section aria-labelledby="pin-h" class="card">
        <h2 id="pin-h">${s.pinTitle}</h2>
        <p>${s.pinIntro}</p>
        <form method="post" action="/my/pin" class="stack">
          ${hidden(me.csrf)}
          <label for="currentPin">${s.currentPin}</label><input id="currentPin" name="currentPin" type="password" inputmode="numeric" autocomplete="off" maxlength="12">
          <label for="pinPassword">${s.orPassword}</label><input id="pinPassword" name="password" type="password" autocomplete="current-password" maxlength="200">
          <button type="submit">${s.pinSubmit}</button>
        </form>
      </section>
      <section aria-labelledby="pw-h" class="card">
        <h2 id="pw-h">${s.pwTitle}</h2>
        <form method="post" action="/my/password" class="stack">
          ${hidden(me.csrf)}
          <label for="currentPassword">${s.currentPassword}</label><input id="currentPassword" name="currentPassword" type="password" autocomplete="current-password" required maxlength="200">
          <label for="newPassword">${s.newPassword}</label><input id="newPassword" name="newPassword" type="password" autocomplete="new-password" required minlength="10" maxlength="200" aria-describedby="pw-rule">
          <p id="pw-rule" class="muted">${s.passwordRule}</p>
          <button type="submit">${s.pwSubmit}</button>
        </form>
      </section>`,
    });
  };

  app.get('/my/security', pageRoute('Change PIN and password'), async (req, reply) => {
    const me = await signedIn(web, req, reply);
    return me ? securityPage(req, reply, me) : reply;
  });

  app.post('/my/pin', formRoute('Get a new random PIN (current PIN or password); it is shown once', ['currentPin', 'password']), async (req, reply) => {
    const me = await signedInForm(web, req, reply);
    if (!me) return reply;
    const t = T(req);
    const body: Record<string, string> = {};
    for (const k of ['currentPin', 'password']) if (field(req.body, k)) body[k] = field(req.body, k);
    const r = await callApi<{ pin: string }>(web, req, 'PUT', '/v1/self/pin', { bearer: me.token, body });
    if (r.status !== 200)
      return securityPage(req, reply, me, { error: r.status === 403 ? t.security.wrong : problemText(t, r), status: r.status === 403 ? 403 : 400 });
    return securityPage(req, reply, me, { pin: r.json.pin });
  });

  app.post('/my/password', formRoute('Change the password; other sessions end', ['currentPassword', 'newPassword']), async (req, reply) => {
    const me = await signedInForm(web, req, reply);
    if (!me) return reply;
    const t = T(req);
    if (field(req.body, 'newPassword').length < 10) return securityPage(req, reply, me, { error: t.security.badPassword, status: 400 });
    const r = await callApi(web, req, 'PUT', '/v1/self/password', {
      bearer: me.token,
      body: { currentPassword: field(req.body, 'currentPassword') || ' ', newPassword: field(req.body, 'newPassword') },
    });
    if (r.status !== 200) return securityPage(req, reply, me, { error: r.status === 403 ? t.security.wrong : problemText(t, r), status: 400 });
    return redirect(reply, withMessage('/my/security', 'security.pwChanged'));
  });

  app.get('/my/caller-ids', pageRoute('Caller IDs: approved, pending, add and remove'), async (req, reply) => {
    const me = await signedIn(web, req, reply);
    if (!me) return reply;
    const t = T(req);
    const c = t.callerIds;
    const r = await callApi<{ authorised: { cli: string; verifiedAt: string | null }[]; pending: { cli: string; origin: string; requestedAt: string }[] }>(
      web,
      req,
      'GET',
      '/v1/self/clis',
      { bearer: me.token },
    );
    const confirmForm = (cli: string) =>
      html`<form method="post" action="/my/caller-ids/confirm" class="inline">${hidden(me.csrf)}<input type="hidden" name="cli" value="${cli}"><button type="submit" aria-label="${c.confirm} ${cli}">${c.confirm}</button></form>`;
    const removeForm = (cli: string, label: string) =>
      html`<form method="post" action="/my/caller-ids/remove" class="inline" data-confirm="${t.common.confirm}">${hidden(me.csrf)}<input type="hidden" name="cli" value="${cli}"><button type="submit" class="secondary" aria-label="${label} ${cli}">${label}</button></form>`;
    return show(web, req, reply, me, '/my/caller-ids', {
      title: c.title,
      body: html`<p>${c.intro}</p>
      <section aria-labelledby="auth-h"><h2 id="auth-h">${c.authorised}</h2>
        ${r.json.authorised?.length ? html`<ul class="rows">${r.json.authorised.map((x) => html`<li><span>${x.cli}</span> <span class="muted">${c.verified}: ${dateTimeText(t, x.verifiedAt)}</span> ${removeForm(x.cli, t.common.remove)}</li>`)}</ul>` : html`<p>${t.common.none}</p>`}
      </section>
      <section aria-labelledby="pend-h"><h2 id="pend-h">${c.pending}</h2>
        ${r.json.pending?.length ? html`<ul class="rows">${r.json.pending.map((x) => html`<li><span>${x.cli}</span> <span class="muted">${x.origin === 'ivr' ? c.fromCall : c.requested}: ${dateTimeText(t, x.requestedAt)}</span> ${x.origin === 'ivr' ? confirmForm(x.cli) : ''} ${removeForm(x.cli, c.withdraw)}</li>`)}</ul>` : html`<p>${t.common.none}</p>`}
      </section>
      <section aria-labelledby="add-h" class="card"><h2 id="add-h">${c.add}</h2>
        <form method="post" action="/my/caller-ids" class="stack">${hidden(me.csrf)}
          <label for="cli">${c.number}</label><input id="cli" name="cli" inputmode="tel" required pattern="\\+[1-9][0-9]{6,14}" maxlength="16" autocomplete="tel">
          <button type="submit">${c.add}</button>
        </form>
      </section>`,
    });
  });

  app.post('/my/caller-ids', formRoute('Ask for a caller ID (an operator approves it)', ['cli']), async (req, reply) => {
    const me = await signedInForm(web, req, reply);
    if (!me) return reply;
    const cli = field(req.body, 'cli').replace(/[\s-]/g, '');
    if (!/^\+[1-9][0-9]{6,14}$/.test(cli)) return redirect(reply, withMessage('/my/caller-ids', 'callerIds.bad', 'e'));
    const r = await callApi(web, req, 'POST', '/v1/self/clis', { bearer: me.token, body: { cli } });
    return redirect(reply, r.status === 202 ? withMessage('/my/caller-ids', 'callerIds.requestedOk') : withMessage('/my/caller-ids', 'callerIds.refused', 'e'));
  });

  app.post('/my/caller-ids/confirm', formRoute('Confirm a caller ID registered from a call to the access number', ['cli']), async (req, reply) => {
    const me = await signedInForm(web, req, reply);
    if (!me) return reply;
    const cli = field(req.body, 'cli');
    if (!/^\+[1-9][0-9]{6,14}$/.test(cli)) return redirect(reply, withMessage('/my/caller-ids', 'callerIds.bad', 'e'));
    const r = await callApi<{ status: string }>(web, req, 'POST', `/v1/self/clis/${encodeURIComponent(cli)}/confirm`, { bearer: me.token });
    if (r.status !== 200) return redirect(reply, withMessage('/my/caller-ids', 'callerIds.refused', 'e'));
    return redirect(reply, withMessage('/my/caller-ids', r.json.status === 'authorised' ? 'callerIds.confirmed' : 'callerIds.requestedOk'));
  });

  app.post('/my/caller-ids/remove', formRoute('Remove a caller ID or withdraw a request', ['cli']), async (req, reply) => {
    const me = await signedInForm(web, req, reply);
    if (!me) return reply;
    const cli = field(req.body, 'cli');
    if (!/^\+[1-9][0-9]{6,14}$/.test(cli)) return redirect(reply, withMessage('/my/caller-ids', 'callerIds.bad', 'e'));
    await callApi(web, req, 'DELETE', `/v1/self/clis/${encodeURIComponent(cli)}`, { bearer: me.token });
    return redirect(reply, withMessage('/my/caller-ids', 'callerIds.removed'));
  });

  app.get('/my/speed-dials', pageRoute('Speed dials: list, add or replace, remove'), async (req, reply) => {
    const me = await signedIn(web, req, reply);
    if (!me) return reply;
    const t = T(req);
    const sd = t.speedDials;
    const r = await callApi<{ items: SpeedDialItem[] }>(web, req, 'GET', '/v1/self/speed-dials', { bearer: me.token });
    const removeForm = (d: SpeedDialItem) =>
      html`<form method="post" action="/my/speed-dials/remove" class="inline" data-confirm="${t.common.confirm}">${hidden(me.csrf)}<input type="hidden" name="position" value="${String(d.position)}"><button type="submit" class="secondary" aria-label="${t.common.remove} ${d.name}">${t.common.remove}</button></form>`;
    const items = r.json.items ?? [];
    return show(web, req, reply, me, '/my/speed-dials', {
      title: sd.title,
      body: html`<p>${sd.intro}</p>
      ${
        items.length
          ? html`<div class="table-wrap" tabindex="0" role="region" aria-label="${sd.caption}"><table>
        <caption>${sd.caption}</caption>
        <thead><tr><th scope="col">${sd.position}</th><th scope="col">${sd.name}</th><th scope="col">${sd.number}</th><th scope="col"></th></tr></thead>
        <tbody>${items.map((d) => html`<tr><td>*${String(d.position)}</td><td>${d.name}</td><td>${d.number}</td><td>${removeForm(d)}</td></tr>`)}</tbody>
      </table></div>`
          : html`<p>${t.common.none}</p>`
      }
      <section aria-labelledby="add-h" class="card"><h2 id="add-h">${sd.add}</h2>
        <form method="post" action="/my/speed-dials" class="stack">${hidden(me.csrf)}
          <label for="position">${sd.position}</label><input id="position" name="position" inputmode="numeric" required pattern="[0-9]{1,2}" maxlength="2">
          <label for="name">${sd.name}</label><input id="name" name="name" required maxlength="40">
          <label for="number">${sd.number}</label><input id="number" name="number" inputmode="tel" required maxlength="24" autocomplete="tel">
          <button type="submit">${sd.save}</button>
        </form>
      </section>`,
    });
  });

  app.post('/my/speed-dials', formRoute('Add or replace a speed dial', ['position', 'name', 'number']), async (req, reply) => {
    const me = await signedInForm(web, req, reply);
    if (!me) return reply;
    const position = field(req.body, 'position').trim();
    const name = field(req.body, 'name').trim();
    const number = field(req.body, 'number').trim();
    if (!/^[0-9]{1,2}$/.test(position) || name.length < 1 || name.length > 40 || !/^\+?[0-9 ().-]{3,24}$/.test(number))
      return redirect(reply, withMessage('/my/speed-dials', 'speedDials.bad', 'e'));
    const r = await callApi(web, req, 'PUT', `/v1/self/speed-dials/${Number(position)}`, { bearer: me.token, body: { name, number } });
    return redirect(reply, r.status === 200 ? withMessage('/my/speed-dials', 'speedDials.saved') : withMessage('/my/speed-dials', 'speedDials.bad', 'e'));
  });

  app.post('/my/speed-dials/remove', formRoute('Remove a speed dial', ['position']), async (req, reply) => {
    const me = await signedInForm(web, req, reply);
    if (!me) return reply;
    const position = field(req.body, 'position');
    if (!/^[0-9]{1,2}$/.test(position)) return redirect(reply, withMessage('/my/speed-dials', 'speedDials.bad', 'e'));
    await callApi(web, req, 'DELETE', `/v1/self/speed-dials/${Number(position)}`, { bearer: me.token });
    return redirect(reply, withMessage('/my/speed-dials', 'speedDials.removed'));
  });

  app.get('/my/callbacks', pageRoute('Callbacks: request one, recent requests with status'), async (req, reply) => {
    const me = await signedIn(web, req, reply);
    if (!me) return reply;
    const t = T(req);
    const cb = t.callbacks;
    const r = await callApi<{ items?: CallbackItem[] }>(web, req, 'GET', '/v1/self/callbacks', { bearer: me.token });
    const items = r.json.items ?? [];
    const dest = await callApi<{ number?: string | null }>(web, req, 'GET', '/v1/self/callback-destination', { bearer: me.token });
    const callbackNumbers = ctx.settings.callbacks?.enabled ? (ctx.settings.callbacks.accessNumbers ?? []) : [];
    return show(web, req, reply, me, '/my/callbacks', {
      title: cb.title,
      body: html`<p>${cb.intro}</p>
      <section aria-labelledby="request-h" class="card"><h2 id="request-h">${cb.requestHeading}</h2>
        <form method="post" action="/my/callbacks" class="stack">${hidden(me.csrf)}
          <label for="callMe">${cb.callMe}</label><input id="callMe" name="callMe" inputmode="tel" required maxlength="24" autocomplete="tel" aria-describedby="number-hint">
          <label for="connectTo">${cb.connectTo}</label><input id="connectTo" name="connectTo" inputmode="tel" required maxlength="24" aria-describedby="number-hint">
          <p id="number-hint" class="hint">${cb.numberHint}</p>
          <button type="submit">${cb.request}</button>
        </form>
      </section>
      <section aria-labelledby="menu-h" class="card"><h2 id="menu-h">${cb.menuHeading}</h2>
        <p>${cb.menuIntro}</p>
        <form method="post" action="/my/callbacks" class="stack">${hidden(me.csrf)}<input type="hidden" name="kind" value="menu">
          <label for="menuCallMe">${cb.callMe}</label><input id="menuCallMe" name="callMe" inputmode="tel" required maxlength="24" autocomplete="tel" aria-describedby="menu-hint">
          <p id="menu-hint" class="hint">${cb.numberHint}</p>
          <button type="submit">${cb.menuRequest}</button>
        </form>
      </section>
      ${
        items.length
          ? html`<div class="table-wrap" tabindex="0" role="region" aria-label="${cb.caption}"><table>
        <caption>${cb.caption}</caption>
        <thead><tr><th scope="col">${cb.when}</th><th scope="col">${cb.callMe}</th><th scope="col">${cb.connectTo}</th><th scope="col">${cb.status}</th><th scope="col">${cb.reason}</th></tr></thead>
        <tbody>${items.map((c) => html`<tr><td>${dateTimeText(t, c.createdAt)}</td><td>${c.callMe}</td><td>${c.connectTo ?? cb.menuShown}</td><td>${cb.statuses[c.status] ?? c.status}</td><td>${c.reason ?? ''}</td></tr>`)}</tbody>
      </table></div>`
          : html`<p>${t.common.none}</p>`
      }
      <section aria-labelledby="destination-h" class="card"><h2 id="destination-h">${cb.destinationHeading}</h2>
        <p>${cb.destinationIntro}</p>
        ${callbackNumbers.length ? html`<p>${cb.callbackNumbers} ${callbackNumbers.join(', ')}</p>` : ''}
        <form method="post" action="/my/callbacks/destination" class="stack">${hidden(me.csrf)}
          <label for="destination">${cb.destination}</label><input id="destination" name="destination" inputmode="tel" maxlength="24" value="${dest.json.number ?? ''}" aria-describedby="destination-hint">
          <p id="destination-hint" class="hint">${cb.numberHint}</p>
          <button type="submit">${cb.saveDestination}</button>
        </form>
      </section>`,
    });
  });

  app.post('/my/callbacks/destination', formRoute('Set or clear the callback destination', ['destination']), async (req, reply) => {
    const me = await signedInForm(web, req, reply);
    if (!me) return reply;
    const d = field(req.body, 'destination').trim();
    if (d !== '' && !/^\+?[0-9 ().-]{3,24}$/.test(d)) return redirect(reply, withMessage('/my/callbacks', 'callbacks.badDestination', 'e'));
    const r = await callApi(web, req, 'PUT', '/v1/self/callback-destination', { bearer: me.token, body: { number: d === '' ? null : d } });
    if (r.status !== 200) return redirect(reply, withMessage('/my/callbacks', 'callbacks.badDestination', 'e'));
    return redirect(reply, withMessage('/my/callbacks', d === '' ? 'callbacks.destinationCleared' : 'callbacks.destinationSaved'));
  });

  app.get('/my/recordings', pageRoute('Call recording: my consent, and my recordings to play or download'), async (req, reply) => {
    const me = await signedIn(web, req, reply);
    if (!me) return reply;
    const t = T(req);
    const rt = t.recordings;
    const c = await callApi<{ recording?: boolean }>(web, req, 'GET', '/v1/self/recording-consent', { bearer: me.token });
    const on = c.json.recording === true;
    const list = await callApi<{ items?: { id: string; callStart: string; dialledNumber: string | null; durationMs: number }[] }>(
      web,
      req,
      'GET',
      '/v1/self/recordings',
      { bearer: me.token },
    );
    const items = list.json.items ?? [];
    return show(web, req, reply, me, '/my/recordings', {
      title: rt.title,
      body: html`<p>${rt.intro}</p>
      <section aria-labelledby="consent-h" class="card"><h2 id="consent-h">${rt.consentHeading}</h2>
        <p>${on ? rt.isOn : rt.isOff}</p>
        <form method="post" action="/my/recordings/consent" class="stack">${hidden(me.csrf)}
          <input type="hidden" name="recording" value="${on ? 'off' : 'on'}">
          <button type="submit">${on ? rt.turnOff : rt.turnOn}</button>
        </form>
        <p class="hint">${rt.kept.replace('{days}', String(web.ctx.settings.retention.recordingDays ?? 90))}</p>
      </section>
      <section aria-labelledby="list-h"><h2 id="list-h">${rt.listHeading}</h2>
      ${
        items.length === 0
          ? html`<p>${rt.none}</p>`
          : html`<div class="table-wrap" tabindex="0" role="region" aria-label="${rt.caption}"><table>
        <caption>${rt.caption}</caption>
        <thead><tr><th scope="col">${rt.when}</th><th scope="col">${rt.number}</th><th scope="col">${rt.duration}</th><th scope="col">${rt.play}</th><th scope="col">${rt.download}</th></tr></thead>
        <tbody>${items.map(
          (r) =>
            html`<tr><td>${dateTimeText(t, r.callStart)}</td><td>${r.dialledNumber ?? ''}</td><td>${durationText(r.durationMs)}</td><td><audio controls preload="none" src="/my/recordings/${r.id}/audio" aria-label="${rt.play} ${dateTimeText(t, r.callStart)}"></audio></td><td><a href="/my/recordings/${r.id}/audio?download=1" download>${rt.download}</a></td></tr>`,
        )}</tbody>
      </table></div>`
      }
      </section>`,
    });
  });

  app.get(
    '/my/recordings/:id/audio',
    pageRoute('One of my recordings, to play (byte ranges) or, with ?download=1, to save', {
      params: { type: 'object', required: ['id'], additionalProperties: false, properties: { id: { type: 'string', pattern: '^[0-9a-fA-F-]{36}$' } } },
      querystring: { type: 'object', additionalProperties: false, properties: { download: { type: 'string', enum: ['1'] } } },
    }),
    async (req, reply) => {
      const me = await signedIn(web, req, reply);
      if (!me) return reply;
      const { id } = req.params as { id: string };
      const download = (req.query as { download?: string }).download === '1';
      return relayAudio(web, req, reply, `/v1/self/recordings/${id}/audio${download ? '?download=true' : ''}`, { authorization: `Bearer ${me.token}` });
    },
  );

  app.post('/my/recordings/consent', formRoute('Turn the recording of my calls on or off', ['recording']), async (req, reply) => {
    const me = await signedInForm(web, req, reply);
    if (!me) return reply;
    const v = field(req.body, 'recording');
    if (v !== 'on' && v !== 'off') return redirect(reply, withMessage('/my/recordings', 'common.error', 'e'));
    const r = await callApi(web, req, 'PUT', '/v1/self/recording-consent', { bearer: me.token, body: { recording: v === 'on' } });
    if (r.status !== 200) return redirect(reply, withMessage('/my/recordings', 'common.error', 'e'));
    return redirect(reply, withMessage('/my/recordings', v === 'on' ? 'recordings.consentOn' : 'recordings.consentOff'));
  });

  app.post('/my/callbacks', formRoute('Request a callback (kind=menu: call me and give me the menu)', ['callMe', 'connectTo', 'kind']), async (req, reply) => {
    const me = await signedInForm(web, req, reply);
    if (!me) return reply;
    const menu = field(req.body, 'kind') === 'menu';
    const callMe = field(req.body, 'callMe').trim();
    const connectTo = field(req.body, 'connectTo').trim();
    const number = /^\+?[0-9 ().-]{3,24}$/;
    if (!number.test(callMe) || (menu ? connectTo !== '' : !number.test(connectTo))) return redirect(reply, withMessage('/my/callbacks', 'callbacks.bad', 'e'));
    const r = await callApi<{ code?: string }>(web, req, 'POST', '/v1/self/callbacks', {
      bearer: me.token,
      body: menu ? { callMe, menu: true } : { callMe, connectTo },
    });
    if (r.status === 202) return redirect(reply, withMessage('/my/callbacks', 'callbacks.requested'));
    const code = r.json.code;
    const why = code === 'CALLBACK_LIMIT' ? 'limit' : code === 'CALLBACK_UNAVAILABLE' ? 'unavailable' : r.status >= 500 || r.status === 429 ? 'failed' : 'bad';
    return redirect(reply, withMessage('/my/callbacks', `callbacks.${why}`, 'e'));
  });

  app.get('/my/devices', pageRoute('SIP devices: usernames, registration status, new SIP password'), async (req, reply) => {
    const me = await signedIn(web, req, reply);
    if (!me) return reply;
    const t = T(req);
    const d = t.devices;
    const creds = await ctx.accounts.listSipCredentials(me.accountId);
    await ctx.audit.write({ actor: `customer:${me.customerId}`, action: 'sip_credentials.list', customerId: me.customerId, accountId: me.accountId });
    const rows = await Promise.all(creds.map(async (c) => ({ ...c, bindings: await ctx.registrations.bindingsOf(`${c.username}@${c.realm}`) })));
    return show(web, req, reply, me, '/my/devices', {
      title: d.title,
      body: html`<p>${d.intro}</p>
      ${
        rows.length === 0
          ? html`<p>${d.none}</p>`
          : rows.map(
              (c, i) => html`
        <section class="card" aria-labelledby="dev-${i}">
          <h2 id="dev-${i}">${c.username}</h2>
          <dl class="facts"><dt>${d.realm}</dt><dd>${c.realm}</dd><dt>${d.registered}</dt><dd>${c.bindings.length ? `${t.common.yes} (${c.bindings.length})` : d.notRegistered}</dd></dl>
          ${c.bindings.length ? html`<ul class="rows">${c.bindings.map((b) => html`<li>${b.userAgent ?? b.uri} <span class="muted">${d.expires}: ${dateTimeText(t, new Date(b.expiresAt).toISOString())}</span></li>`)}</ul>` : ''}
          <form method="post" action="/my/devices/password" class="stack">${hidden(me.csrf)}<input type="hidden" name="username" value="${c.username}">
            <label for="sip-pw-${i}">${d.newPassword}</label><input id="sip-pw-${i}" name="password" type="password" autocomplete="new-password" required minlength="10" maxlength="128">
            <label for="sip-cur-${i}">${d.currentPassword}</label><input id="sip-cur-${i}" name="currentPassword" type="password" autocomplete="current-password" required maxlength="200">
            <button type="submit">${d.setPassword}</button>
          </form>
        </section>`,
            )
      }`,
    });
  });

  app.post(
    '/my/devices/password',
    formRoute('Set a new SIP password for one of my SIP usernames (with my account password)', ['username', 'password', 'currentPassword']),
    async (req, reply) => {
      const me = await signedInForm(web, req, reply);
      if (!me) return reply;
      const username = field(req.body, 'username');
      const password = field(req.body, 'password');
      if (!/^[A-Za-z0-9_.-]{3,64}$/.test(username)) return redirect(reply, withMessage('/my/devices', 'common.error', 'e'));
      if (password.length < 10 || password.length > 128) return redirect(reply, withMessage('/my/devices', 'devices.badPassword', 'e'));
      const r = await callApi(web, req, 'PUT', `/v1/self/sip-credentials/${username}`, {
        bearer: me.token,
        body: { currentPassword: field(req.body, 'currentPassword') || ' ', password },
      });
      if (r.status === 200) return redirect(reply, withMessage('/my/devices', 'devices.passwordSet'));
      const why = r.status === 403 || r.status === 429 ? 'devices.wrongPassword' : r.status === 400 ? 'devices.badPassword' : 'common.error';
      return redirect(reply, withMessage('/my/devices', why, 'e'));
    },
  );

  app.get('/my/top-ups', pageRoute('Automatic top-up settings and top-up history'), async (req, reply) => {
    const me = await signedIn(web, req, reply);
    if (!me) return reply;
    const t = T(req);
    const p = t.topups;
    const auto = await callApi<{
      enabled: boolean;
      threshold: number;
      amount: number;
      hasPaymentToken: boolean;
      lastChargeAt: string | null;
      lastResult: string | null;
      recentCharges?: { at: string; amount: number; result: string }[];
    }>(web, req, 'GET', '/v1/self/auto-topup', { bearer: me.token });
    const ledger = (await ctx.records.ledger(me.accountId, { limit: 100 })).filter((r) => r.kind !== 'call').slice(0, 50);
    await ctx.audit.write({ actor: `customer:${me.customerId}`, action: 'ledger.list', customerId: me.customerId, accountId: me.accountId });
    const a = auto.json;
    const major = (m: number | undefined) => (m === undefined ? '' : microsToDecimal(m, minorDigits(me.currency)));
    return show(web, req, reply, me, '/my/top-ups', {
      title: p.title,
      body: html`
      <section class="card" aria-labelledby="auto-h"><h2 id="auto-h">${p.autoTitle}</h2><p>${p.autoIntro}</p>
        <form method="post" action="/my/auto-topup" class="stack">${hidden(me.csrf)}
          <div class="check"><input id="enabled" name="enabled" type="checkbox" value="on"${a.enabled ? html` checked` : ''}><label for="enabled">${p.enabled}</label></div>
          <label for="threshold">${p.threshold} (${me.currency})</label><input id="threshold" name="threshold" inputmode="decimal" required value="${major(a.threshold)}" maxlength="16">
          <label for="amount">${p.amountLabel} (${me.currency})</label><input id="amount" name="amount" inputmode="decimal" required value="${major(a.amount || undefined)}" maxlength="16">
          <label for="paymentToken">${p.token}</label><input id="paymentToken" name="paymentToken" autocomplete="off" maxlength="128">
          <p class="muted">${p.hasToken}: ${a.hasPaymentToken ? t.common.yes : t.common.no}${a.lastChargeAt ? html` · ${p.lastCharge}: ${dateTimeText(t, a.lastChargeAt)}` : ''}${a.lastResult ? html` · ${p.lastResult}: ${a.lastResult}` : ''}</p>
          ${a.recentCharges?.length ? html`<ul class="rows" aria-label="${p.attempts}">${a.recentCharges.map((x) => html`<li><span>${dateTimeText(t, x.at)}</span> <span class="num">${money(t, me, x.amount)}</span> <span class="muted">${x.result}</span></li>`)}</ul>` : ''}
          <button type="submit">${t.common.save}</button>
        </form>
      </section>
      <section class="card" aria-labelledby="voucher-h"><h2 id="voucher-h">${p.voucherTitle}</h2><p>${p.voucherIntro}</p>
        <form method="post" action="/my/voucher" class="stack">${hidden(me.csrf)}
          <label for="code">${p.voucherCode}</label><input id="code" name="code" inputmode="numeric" autocomplete="off" required maxlength="39">
          <button type="submit">${p.voucherRedeem}</button>
        </form>
      </section>
      <section aria-labelledby="hist-h"><h2 id="hist-h">${p.history}</h2>
        ${
          ledger.length === 0
            ? html`<p>${p.none}</p>`
            : html`<div class="table-wrap" tabindex="0" role="region" aria-label="${p.history}"><table>
          <thead><tr><th scope="col">${t.common.when}</th><th scope="col">${p.kind}</th><th scope="col" class="num">${t.common.amount}</th><th scope="col" class="num">${t.common.balanceAfter}</th></tr></thead>
          <tbody>${ledger.map((r) => html`<tr><td>${dateTimeText(t, r.occurredAt)}</td><td>${r.kind}</td><td class="num">${money(t, me, r.amount)}</td><td class="num">${money(t, me, r.balanceAfter)}</td></tr>`)}</tbody></table></div>`
        }
      </section>`,
    });
  });

  app.post('/my/auto-topup', formRoute('Save automatic top-up settings', ['enabled', 'threshold', 'amount', 'paymentToken']), async (req, reply) => {
    const me = await signedInForm(web, req, reply);
    if (!me) return reply;
    const threshold = parseAmount(field(req.body, 'threshold'));
    const amount = parseAmount(field(req.body, 'amount'));
    const token = field(req.body, 'paymentToken').trim();
    if (threshold === undefined || amount === undefined || amount <= 0) return redirect(reply, withMessage('/my/top-ups', 'topups.bad', 'e'));
    const r = await callApi(web, req, 'PUT', '/v1/self/auto-topup', {
      bearer: me.token,
      body: { enabled: field(req.body, 'enabled') === 'on', threshold, amount, ...(token ? { paymentToken: token } : {}) },
    });
    return redirect(reply, r.status === 200 ? withMessage('/my/top-ups', 'topups.saved') : withMessage('/my/top-ups', 'topups.bad', 'e'));
  });

  app.post('/my/voucher', formRoute('Redeem a voucher code', ['code']), async (req, reply) => {
    const me = await signedInForm(web, req, reply);
    if (!me) return reply;
    const code = field(req.body, 'code').trim().slice(0, 39);
    const r = /^9[0-9 -]{19,38}$/.test(code)
      ? await callApi<{ code?: string }>(web, req, 'POST', '/v1/self/vouchers', { bearer: me.token, body: { code } })
      : { status: 400, json: { code: 'INVALID_VOUCHER_CODE' } };
    const outcome =
      r.status === 200
        ? 'topups.voucherOk'
        : r.status === 429
          ? 'topups.voucherThrottled'
          : r.json.code === 'VOUCHER_NOT_REDEEMABLE'
            ? 'topups.voucherRefused'
            : 'topups.voucherTypo';
    return redirect(reply, withMessage('/my/top-ups', outcome, r.status === 200 ? 'm' : 'e'));
  });

  app.get('/my/privacy', pageRoute('Marketing preferences and data rights'), async (req, reply) => {
    const me = await signedIn(web, req, reply);
    if (!me) return reply;
    const t = T(req);
    const p = t.privacy;
    const [consents, restriction, self] = await Promise.all([
      callApi<{ items: { list: string; optedIn: boolean }[] }>(web, req, 'GET', '/v1/self/consents', { bearer: me.token }),
      callApi<{ restrictedAt: string | null }>(web, req, 'GET', '/v1/self/restriction', { bearer: me.token }),
      callApi<{ customer?: { email?: string | null; emailVerifiedAt?: string | null; pendingEmail?: string | null } }>(web, req, 'GET', '/v1/self', {
        bearer: me.token,
      }),
    ]);
    const restricted = Boolean(restriction.json.restrictedAt);
    const who = self.json.customer ?? {};
    const unverified = Boolean(who.pendingEmail) || (Boolean(who.email) && !who.emailVerifiedAt);
    return show(web, req, reply, me, '/my/privacy', {
      title: p.title,
      body: html`
      <section class="card" aria-labelledby="prefs-h"><h2 id="prefs-h">${p.prefs}</h2><p>${p.prefsIntro}</p>
        <form method="post" action="/my/consents" class="stack">${hidden(me.csrf)}
          <fieldset><legend>${p.prefs}</legend>
          ${(consents.json.items ?? []).map((c) => html`<div class="check"><input type="checkbox" id="list-${c.list}" name="${c.list}" value="on"${c.optedIn ? html` checked` : ''}><label for="list-${c.list}">${p.lists[c.list] ?? c.list}</label></div>`)}
          </fieldset>
          <button type="submit">${t.common.save}</button>
        </form>
      </section>
      <section class="card" aria-labelledby="email-h"><h2 id="email-h">${p.emailTitle}</h2>
        <p>${who.email ?? t.common.none} (${who.emailVerifiedAt ? p.emailVerified : p.emailUnverified})</p>
        ${who.pendingEmail ? html`<p>${p.emailPending}: <strong>${who.pendingEmail}</strong></p>` : ''}
        ${
          unverified
            ? html`<p>${p.emailCodeIntro}</p><form method="post" action="/my/email/verify" class="stack">${hidden(me.csrf)}
          <label for="email-code">${p.emailCode}</label><input id="email-code" name="token" required maxlength="100" autocomplete="one-time-code">
          <button type="submit">${p.emailVerifyButton}</button></form>`
            : ''
        }
      </section>
      <section class="card" aria-labelledby="export-h"><h2 id="export-h">${p.exportTitle}</h2><p>${p.exportIntro}</p>
        <form method="post" action="/my/export" class="stack">${hidden(me.csrf)}
          <label for="export-pw">${p.exportPassword}</label><input id="export-pw" name="password" type="password" autocomplete="current-password" required maxlength="200">
          <button type="submit">${p.exportButton}</button>
        </form>
      </section>
      <section class="card" aria-labelledby="restrict-h"><h2 id="restrict-h">${p.restrictTitle}</h2><p>${p.restrictIntro}</p>
        ${
          restricted
            ? html`<p><strong>${p.restricted}</strong></p><form method="post" action="/my/restriction/lift">${hidden(me.csrf)}<button type="submit">${p.liftButton}</button></form>`
            : html`<form method="post" action="/my/restriction" class="stack">${hidden(me.csrf)}<div class="check"><input type="checkbox" id="suspendAccount" name="suspendAccount" value="on"><label for="suspendAccount">${p.suspendToo}</label></div><button type="submit">${p.restrictButton}</button></form>`
        }
      </section>
      <section class="card danger" aria-labelledby="erase-h"><h2 id="erase-h">${p.eraseTitle}</h2><p>${p.eraseIntro}</p><p>${p.keep}</p>
        <form method="post" action="/my/erasure" class="stack" data-confirm="${t.common.confirm}">${hidden(me.csrf)}
          <label for="erase-pw">${p.erasePassword}</label><input id="erase-pw" name="password" type="password" autocomplete="current-password" required maxlength="200">
          <button type="submit" class="danger">${p.eraseButton}</button>
        </form>
      </section>`,
    });
  });

  app.post('/my/consents', formRoute('Save marketing preferences', ['customer', 'potential_customer']), async (req, reply) => {
    const me = await signedInForm(web, req, reply);
    if (!me) return reply;
    let ok = true;
    for (const list of ['customer', 'potential_customer']) {
      const r = await callApi(web, req, 'PUT', `/v1/self/consents/${list}`, { bearer: me.token, body: { optedIn: field(req.body, list) === 'on' } });
      ok &&= r.status === 200;
    }
    return redirect(reply, ok ? withMessage('/my/privacy', 'privacy.savedPrefs') : withMessage('/my/privacy', 'common.error', 'e'));
  });

  app.get('/my/export', pageRoute('Download my data (JSON) within five minutes of logging in; later, the password is asked again'), async (req, reply) => {
    const me = await signedIn(web, req, reply);
    if (!me) return reply;
    const r = await callApi(web, req, 'GET', '/v1/self/export', { bearer: me.token });
    if (r.status !== 200) return redirect(reply, withMessage('/my/privacy', 'privacy.exportPasswordNeeded', 'e'));
    securityHeaders(reply);
    return reply.status(r.status).type('application/json; charset=utf-8').header('content-disposition', 'attachment; filename="my-data.json"').send(r.text);
  });

  app.post('/my/export', formRoute('Download my data (JSON); the password is entered again', ['password']), async (req, reply) => {
    const me = await signedInForm(web, req, reply);
    if (!me) return reply;
    const r = await callApi(web, req, 'POST', '/v1/self/export', { bearer: me.token, body: { password: field(req.body, 'password') || ' ' } });
    if (r.status !== 200) return redirect(reply, withMessage('/my/privacy', 'security.wrong', 'e'));
    securityHeaders(reply);
    return reply.status(200).type('application/json; charset=utf-8').header('content-disposition', 'attachment; filename="my-data.json"').send(r.text);
  });

  app.post('/my/email/verify', formRoute('Confirm my e-mail address with the code sent to it', ['token']), async (req, reply) => {
    const me = await signedInForm(web, req, reply);
    if (!me) return reply;
    const r = await callApi(web, req, 'POST', '/v1/self/email/verify', { bearer: me.token, body: { token: field(req.body, 'token').trim() || ' ' } });
    return redirect(
      reply,
      r.status === 200 ? withMessage('/my/privacy', 'privacy.emailVerifiedOk') : withMessage('/my/privacy', 'privacy.emailCodeWrong', 'e'),
    );
  });

  app.post('/my/restriction', formRoute('Restrict processing of my data', ['suspendAccount']), async (req, reply) => {
    const me = await signedInForm(web, req, reply);
    if (!me) return reply;
    const r = await callApi(web, req, 'POST', '/v1/self/restriction', {
      bearer: me.token,
      body: { suspendAccount: field(req.body, 'suspendAccount') === 'on' },
    });
    return redirect(reply, r.status === 200 ? withMessage('/my/privacy', 'privacy.restrictedOk') : withMessage('/my/privacy', 'common.error', 'e'));
  });

  app.post('/my/restriction/lift', formRoute('Lift the restriction', []), async (req, reply) => {
    const me = await signedInForm(web, req, reply);
    if (!me) return reply;
    const r = await callApi(web, req, 'DELETE', '/v1/self/restriction', { bearer: me.token });
    return redirect(reply, r.status === 200 ? withMessage('/my/privacy', 'privacy.liftedOk') : withMessage('/my/privacy', 'common.error', 'e'));
  });

  app.post('/my/erasure', formRoute('Erase my data and close my account (password required)', ['password']), async (req, reply) => {
    const me = await signedInForm(web, req, reply);
    if (!me) return reply;
    const r: ApiResult = await callApi(web, req, 'POST', '/v1/self/erasure', { bearer: me.token, body: { password: field(req.body, 'password') || ' ' } });
    if (r.status !== 200) return redirect(reply, withMessage('/my/privacy', 'security.wrong', 'e'));
    clearCookie(req, reply, CUSTOMER_COOKIE);
    return redirect(reply, withMessage('/my/login', 'privacy.erased'));
  });
}
