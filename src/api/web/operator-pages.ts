/**
 * The operator console under /console. An operator logs in with an API key; every page and
 * action goes through the account API with that key, so the key's scopes (read, billing, admin,
 * recordings) decide what works, and the API writes the audit rows (viewing a customer, finding
 * and playing a recording are audited there).
 */
import { AppError } from '../../errors.ts';
import { scopeAllows } from '../../accounts/api-keys.ts';
import type { Scope } from '../../accounts/api-keys.ts';
import { PURPOSES } from '../../privacy/restriction.ts';
import type { Purpose } from '../../privacy/restriction.ts';
import { problemHandler } from '../problem.ts';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import { balanceView, streamBalanceView } from './balance-stream.ts';
import { html } from '../../common/html.ts';
import type { Html } from '../../common/html.ts';
import { formatMoney, parseAmount } from './money-format.ts';
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

export const OPERATOR_COOKIE = 'ss_op';

interface Op {
  token: string;
  csrf: string;
  apiKey: string;
  keyId: string;
  scopes: string[];
}
type Row = Record<string, unknown>;

/** The key may hear recordings (the `recordings` scope, or admin); the API checks it again on every request. */
const hearsRecordings = (op: Pick<Op, 'scopes'>): boolean => scopeAllows(op.scopes as Scope[], 'recordings');

function nav(t: Texts, op: Op, current: string): PageOpts['nav'] {
  const n = t.consoleNav;
  return {
    label: n.label,
    current,
    items: [
      { href: '/console', label: n.dashboard },
      { href: '/console/accounts', label: n.accounts },
      { href: '/console/cli-requests', label: n.cliRequests },
      { href: '/console/calls', label: n.calls },
      { href: '/console/access-sessions', label: n.accessSessions },
      { href: '/console/tariffs', label: n.tariffs },
      { href: '/console/routing', label: n.routing },
      ...(hearsRecordings(op) ? [{ href: '/console/recordings', label: n.recordings }] : []),
    ],
    logout: { action: '/console/logout', label: n.logout, csrf: op.csrf },
  };
}

async function signedIn(web: Web, req: FastifyRequest, reply: FastifyReply): Promise<Op | undefined> {
  const token = readCookies(req).get(OPERATOR_COOKIE);
  const s = await web.operators.get(token);
  if (!token || !s || !(await web.ctx.keys.verify(s.apiKey))) {
    if (token) {
      clearCookie(req, reply, OPERATOR_COOKIE);
      await web.operators.end(token);
    }
    redirect(reply, '/console/login');
    return undefined;
  }
  return { token, csrf: csrfFor(token), ...s };
}

async function signedInForm(web: Web, req: FastifyRequest, reply: FastifyReply): Promise<Op | undefined> {
  const token = readCookies(req).get(OPERATOR_COOKIE);
  if (!sameOrigin(req) || !csrfValid(token, field(req.body, '_csrf'))) {
    sendPage(web, req, reply, { title: T(req).common.error, status: 403, body: html`<p>${T(req).common.csrf}</p>` });
    return undefined;
  }
  return signedIn(web, req, reply);
}

function show(web: Web, req: FastifyRequest, reply: FastifyReply, op: Op, current: string, o: Omit<PageOpts, 'nav'>): FastifyReply {
  const t = T(req);
  const q = req.query as Record<string, unknown>;
  return sendPage(web, req, reply, { notice: message(t, q.m), error: message(t, q.e), ...o, nav: nav(t, op, current) });
}

const EMPTY_TABLE = 'None yet.';

/** A table; with no rows, one row that says so (never an empty grid). */
function table(caption: string, head: string[], rows: Html[], numeric: number[] = []): Html {
  const body = rows.length === 0 ? [html`<tr><td colspan="${String(head.length)}">${EMPTY_TABLE}</td></tr>`] : rows;
  return html`<div class="table-wrap" tabindex="0" role="region" aria-label="${caption}"><table><caption>${caption}</caption>
    <thead><tr>${head.map((h, i) => html`<th scope="col"${numeric.includes(i) ? html` class="num"` : ''}>${h}</th>`)}</tr></thead>
    <tbody>${body}</tbody></table></div>`;
}

const str = (v: unknown): string => (v === null || v === undefined ? '' : String(v));
const accountIdOf = (req: FastifyRequest): number | undefined => {
  const v = Number((req.params as { accountId?: string }).accountId);
  return Number.isSafeInteger(v) && v > 0 ? v : undefined;
};

/** A purpose stated in the query string (`?purpose=`), if it is one an operator may read for. */
const purposeOf = (req: FastifyRequest): Purpose | undefined => {
  const v = String((req.query as Record<string, unknown> | undefined)?.purpose ?? '');
  return (PURPOSES as readonly string[]).includes(v) ? (v as Purpose) : undefined;
};

/**
 * A restricted customer's data is shown only for a stated purpose (docs/privacy.md › Restriction):
 * the notice with the form that asks for it (a GET of `action` with `keep` and the purpose), or,
 * once stated, the line that says which.
 */
function purposeNotice(t: Texts, restricted: boolean, purpose: Purpose | undefined, action: string, keep: Record<string, string> = {}): Html | '' {
  const c = t.console;
  if (restricted)
    return html`<div class="card" role="alert" data-testid="restricted"><p><strong>${c.restrictedNotice}</strong></p>
          <form method="get" action="${action}" class="stack">${Object.entries(keep).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}<label for="purpose">${c.purposeLabel}</label>
          <select id="purpose" name="purpose" required>${PURPOSES.map((p) => html`<option value="${p}">${c.purposes[p]}</option>`)}</select>
          <button type="submit">${c.purposeButton}</button></form></div>`;
  return purpose ? html`<p class="hint" role="status">${c.purposeStated}: ${c.purposes[purpose]}</p>` : '';
}

/** Outcome of an API call for a form: a message id to show on the page redirected to. */
function outcome(r: ApiResult, okId: string): { id: string; kind: 'm' | 'e' } {
  if (r.status >= 200 && r.status < 300) return { id: okId, kind: 'm' };
  if (r.status === 403) return { id: 'console.forbidden', kind: 'e' };
  const code = str((r.json as { code?: unknown }).code);
  return { id: code && /^[A-Z_]+$/.test(code) ? `problems.${code}` : 'common.error', kind: 'e' };
}

export function operatorPages(web: Web, app: FastifyInstance): void {
  const { ctx } = web;
  const back = (reply: FastifyReply, path: string, o: { id: string; kind: 'm' | 'e' }) => redirect(reply, withMessage(path, o.id, o.kind));

  app.get('/console/login', pageRoute('Operator console login (API key)'), async (req, reply) => {
    const t = T(req);
    const pre = preSession(req, reply);
    const q = req.query as Record<string, unknown>;
    return sendPage(web, req, reply, {
      title: t.console.loginTitle,
      notice: message(t, q.m),
      error: message(t, q.e),
      body: html`<p>${t.console.loginIntro}</p>
      <form method="post" action="/console/login" class="stack">${hidden(csrfFor(pre))}
        <label for="key">${t.console.key}</label><input id="key" name="key" type="password" autocomplete="off" required maxlength="200">
        <button type="submit">${t.login.submit}</button>
      </form>`,
    });
  });

  app.post('/console/login', formRoute('Operator login with an API key (throttled like customer logins)', ['key']), async (req, reply) => {
    const pre = readCookies(req).get('ss_pre');
    if (!sameOrigin(req) || !csrfValid(pre, field(req.body, '_csrf'))) return redirect(reply, withMessage('/console/login', 'common.csrf', 'e'));
    const key = field(req.body, 'key').trim();
    if (!(await ctx.sessions.loginAttempt(`console@${req.ip}`, req.ip))) return redirect(reply, withMessage('/console/login', 'console.loginFailed', 'e'));
    const v = /^sk_[\x21-\x7e]{1,197}$/.test(key) ? await ctx.keys.verify(key) : undefined;
    if (!v) return redirect(reply, withMessage('/console/login', 'console.loginFailed', 'e'));
    await ctx.sessions.loginSucceeded(`console@${req.ip}`, req.ip);
    const token = await web.operators.create({ apiKey: key, keyId: v.id, scopes: v.scopes });
    await ctx.audit.write({ actor: `apikey:${v.id}`, action: 'console.login' });
    setCookie(req, reply, OPERATOR_COOKIE, token, web.operators.ttl());
    clearCookie(req, reply, 'ss_pre');
    return redirect(reply, '/console');
  });

  app.post('/console/logout', formRoute('Operator logout', []), async (req, reply) => {
    const op = await signedInForm(web, req, reply);
    if (!op) return reply;
    await web.operators.end(op.token);
    clearCookie(req, reply, OPERATOR_COOKIE);
    return redirect(reply, withMessage('/console/login', 'login.loggedOut'));
  });

  /** Figures for the dashboard, all amounts formatted. */
  const dashboard = async (req: FastifyRequest, op: Op, withLow: boolean) => {
    const t = T(req);
    const calls = await callApi<{ items: Row[] }>(web, req, 'GET', '/v1/calls', { bearer: op.apiKey });
    const items = calls.json.items ?? [];
    const backlog = await ctx.ledgerBacklog.figures();
    const accountIds = [...new Set(items.map((c) => Number(c.accountId)).filter((n) => n > 0))].slice(0, 20);
    const active = await Promise.all(
      accountIds.map(async (id) => ({ id, ...(await balanceView(ctx, id, t.locale).catch(() => ({ available: '?', callsInProgress: '?' }))) })),
    );
    // a table scan: on page load only, never from the once-a-second stream
    const low = withLow ? await ctx.lowBalances.list(10) : [];
    const cps = await ctx.callRate.perSecond(10);
    return {
      callsInProgress: String(items.length),
      callsPerSecond: cps.toFixed(1),
      ledgerPending: String(backlog.pendingEvents),
      ledgerLag: String(Math.round(backlog.lagSeconds)),
      active: active.map((a) => ({ id: a.id, available: a.available, calls: a.callsInProgress })),
      low: low.map((a) => ({ id: a.id, number: a.number, balance: formatMoney(BigInt(a.balance), a.currency, t.locale) })),
    };
  };

  // also sent, rendered, by the dashboard's live refresh: an empty list is a row that says so
  const activeRows = (d: Pick<Awaited<ReturnType<typeof dashboard>>, 'active'>) =>
    d.active.length === 0
      ? [html`<tr><td colspan="3">${EMPTY_TABLE}</td></tr>`]
      : d.active.map(
          (a) => html`<tr><td><a href="/console/accounts/${a.id}">${a.id}</a></td><td class="num">${a.available}</td><td class="num">${a.calls}</td></tr>`,
        );

  app.get('/console', pageRoute('Operator dashboard: calls in progress, calls per second, balances, ledger-writer lag'), async (req, reply) => {
    const op = await signedIn(web, req, reply);
    if (!op) return reply;
    const t = T(req);
    const c = t.console;
    const d = await dashboard(req, op, true);
    const ret = await callApi<{
      intervalHours?: number;
      last?: { at: string; durationMs: number; ok: boolean; result?: Record<string, unknown>; error?: string } | null;
    }>(web, req, 'GET', '/v1/retention', { bearer: op.apiKey });
    const last = ret.json.last;
    const recFailures = await ctx.recordingFailures.read();
    const removed = (r: Record<string, unknown> = {}) =>
      Object.entries(r)
        .map(
          ([k, v]) =>
            [k, Array.isArray(v) ? v.length : typeof v === 'object' && v ? Object.values(v).reduce((s: number, x) => s + Number(x), 0) : Number(v)] as const,
        )
        .filter(([, n]) => n > 0)
        .map(([k, n]) => `${k}: ${n}`)
        .join(', ') || t.common.none;
    const retention =
      ret.status !== 200
        ? html`<p>${c.forbidden}</p>`
        : !last
          ? html`<p data-testid="retention-last">${c.retentionNever} (${c.retentionEvery} ${ret.json.intervalHours ?? 0} h)</p>`
          : html`<dl class="facts" data-testid="retention-last"><dt>${c.retentionAt}</dt><dd>${dateTimeText(t, last.at)}</dd>
            <dt>${t.common.status}</dt><dd>${last.ok ? c.retentionOk : html`<strong>${c.retentionFailed}</strong>: ${last.error ?? ''}`}</dd>
            <dt>${c.retentionRemoved}</dt><dd>${removed(last.result)}</dd><dt>${c.retentionEvery}</dt><dd>${ret.json.intervalHours ?? 0} h</dd></dl>`;
    return show(web, req, reply, op, '/console', {
      title: c.dashboard,
      body: html`<div data-dashboard-stream="/console/events">
      <dl class="facts card">
        <dt>${c.callsInProgress}</dt><dd class="big" data-field="callsInProgress">${d.callsInProgress}</dd>
        <dt>${c.callsPerSecond}</dt><dd data-field="callsPerSecond">${d.callsPerSecond}</dd>
        <dt>${c.ledgerPending}</dt><dd data-field="ledgerPending">${d.ledgerPending}</dd>
        <dt>${c.ledgerLag}</dt><dd data-field="ledgerLag">${d.ledgerLag}</dd>
      </dl>
      <p class="hint">${t.common.liveHint}</p>
      <section aria-labelledby="act-h"><h2 id="act-h">${c.activeAccounts}</h2>
        ${table(c.activeAccounts, [c.account, c.available, c.callsInProgress], [html`${activeRows(d)}`], [1, 2])}
      </section>
      <section aria-labelledby="low-h"><h2 id="low-h">${c.lowAccounts}</h2>
        ${
          d.low.length
            ? table(
                c.lowAccounts,
                [c.number, c.balance],
                d.low.map((a) => html`<tr><td><a href="/console/accounts/${a.id}">${a.number}</a></td><td class="num">${a.balance}</td></tr>`),
                [1],
              )
            : html`<p>${t.common.none}</p>`
        }
      </section>
      <section aria-labelledby="ret-h"><h2 id="ret-h">${c.retentionTitle}</h2>${retention}</section>
      <section aria-labelledby="rec-h"><h2 id="rec-h">${c.recordingsTitle}</h2>
        <dl class="facts" data-testid="recording-failures"><dt>${c.recordingFailures}</dt><dd>${String(recFailures.count)}</dd>
        ${recFailures.lastAt === null ? '' : html`<dt>${c.recordingLastFailure}</dt><dd>${dateTimeText(t, recFailures.lastAt.toISOString())}: ${recFailures.lastCause ?? ''}</dd>`}</dl>
      </section></div>`,
    });
  });

  app.get('/console/events', pageRoute('Server-sent events: dashboard figures every second'), async (req, reply) => {
    const token = readCookies(req).get(OPERATOR_COOKIE);
    const s = await web.operators.get(token);
    if (!token || !s) {
      securityHeaders(reply);
      problemHandler(new AppError('UNAUTHENTICATED', 'log in first'), req, reply);
      return reply;
    }
    const op: Op = { token, csrf: '', ...s };
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    res.on('close', () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    });
    let last = '';
    const tick = async () => {
      if (stopped) return;
      try {
        if (!(await web.operators.get(token))) {
          res.end();
          return;
        }
        const { low: _low, ...d } = await dashboard(req, op, false);
        const json = JSON.stringify({ ...d, activeHtml: activeRows(d).map(String).join('') });
        if (json !== last) {
          last = json;
          res.write(`event: dashboard\ndata: ${json}\n\n`);
        }
      } catch {
        res.end();
        return;
      }
      if (!stopped) timer = setTimeout(() => void tick(), ctx.settings.balanceStreamIntervalMs ?? 1000);
    };
    void tick();
  });

  app.get('/console/accounts', pageRoute('Account search by number, e-mail, caller ID or SIP username'), async (req, reply) => {
    const op = await signedIn(web, req, reply);
    if (!op) return reply;
    const t = T(req);
    const c = t.console;
    const q = req.query as Record<string, unknown>;
    const by = ['number', 'email', 'cli', 'sipUsername'].includes(str(q.by)) ? str(q.by) : 'number';
    const text = str(q.q).trim().slice(0, 254);
    const r = text
      ? await callApi<{ items: Row[] }>(web, req, 'GET', `/v1/accounts?${new URLSearchParams({ [by]: text, limit: '50' })}`, { bearer: op.apiKey })
      : undefined;
    const options: [string, string][] = [
      ['number', c.byNumber],
      ['email', c.byEmail],
      ['cli', c.byCli],
      ['sipUsername', c.bySip],
    ];
    return show(web, req, reply, op, '/console/accounts', {
      title: c.searchTitle,
      ...(r && r.status !== 200 ? { error: problemText(t, r) } : {}),
      body: html`<form method="get" action="/console/accounts" class="filters">
        <div><label for="by">${c.searchBy}</label><select id="by" name="by">${options.map(([v, l]) => html`<option value="${v}"${v === by ? html` selected` : ''}>${l}</option>`)}</select></div>
        <div><label for="q">${c.query}</label><input id="q" name="q" value="${text}" required maxlength="254"></div>
        <button type="submit">${t.common.search}</button>
      </form>
      ${
        r?.status === 200
          ? r.json.items.length
            ? table(
                c.results,
                [c.number, c.customer, t.common.status, c.currency],
                r.json.items.map(
                  (a) =>
                    html`<tr><td><a href="/console/accounts/${str(a.id)}">${str(a.number)}</a></td><td>${str(a.customerId)}</td><td>${str(a.status)}</td><td>${str(a.currency)}</td></tr>`,
                ),
              )
            : html`<p>${c.noResults}</p>`
          : ''
      }`,
    });
  });

  const accountPage = async (
    req: FastifyRequest,
    reply: FastifyReply,
    op: Op,
    accountId: number,
    extra: { pin?: string; emailCode?: { email: string; token: string } } = {},
  ) => {
    const t = T(req);
    const c = t.console;
    // a restricted customer's data is shown only for a stated purpose (docs/privacy.md › Restriction)
    const purpose = purposeOf(req);
    const get = <X = Row>(url: string) => callApi<X>(web, req, 'GET', url, { bearer: op.apiKey, ...(purpose ? { headers: { 'x-purpose': purpose } } : {}) });
    const a = await get(`/v1/accounts/${accountId}`);
    if (a.status !== 200)
      return show(web, req, reply, op, '/console/accounts', {
        title: c.accountTitle,
        status: a.status === 404 ? 404 : a.status,
        error: a.status === 403 ? c.forbidden : c.notFound,
        body: html``,
      });
    const acct = a.json;
    const cur = str(acct.currency);
    const m = (v: unknown) => formatMoney(Number(v ?? 0), cur, t.locale);
    const [cust, bal, pins, clis, sip, cdrs, ledger, recs] = await Promise.all([
      get(`/v1/customers/${str(acct.customerId)}`),
      balanceView(ctx, accountId, t.locale),
      get<{ items: Row[] }>(`/v1/accounts/${accountId}/pins`),
      get<{ items: Row[] }>(`/v1/accounts/${accountId}/clis`),
      get<{ items: Row[] }>(`/v1/accounts/${accountId}/sip-credentials`),
      get<{ items: Row[] }>(`/v1/cdrs?accountId=${accountId}&limit=10`),
      get<{ items: Row[] }>(`/v1/accounts/${accountId}/ledger?limit=10`),
      // which of these calls were recorded: asked (and audited) only with a key that may hear them
      hearsRecordings(op) ? get<{ items: Row[] }>(`/v1/recordings?accountId=${accountId}&limit=50`) : undefined,
    ]);
    const cu = cust.json;
    const base = `/console/accounts/${accountId}`;
    const restricted = cust.status === 403 && cu.code === 'PURPOSE_REQUIRED';
    const post = (action: string, body: Html, label: string, cls = '') =>
      html`<form method="post" action="${base}/${action}" class="stack ${cls}">${hidden(op.csrf)}${body}<button type="submit">${label}</button></form>`;
    const list = (x: ApiResult<{ items: Row[] }>) => (x.status === 200 ? (x.json.items ?? []) : []);
    const recorded = recs === undefined ? undefined : new Set(list(recs).map((x) => str(x.callId)));
    const recordingCell = (x: Row) =>
      recorded === undefined
        ? ''
        : html`<td>${
            recorded.has(str(x.callId))
              ? html`<a href="/console/recordings?${new URLSearchParams({ callId: str(x.callId), ...(purpose ? { purpose } : {}) }).toString()}">${c.recording}<span class="sr-only"> ${dateTimeText(t, x.startTime)}</span></a>`
              : ''
          }</td>`;
    return show(web, req, reply, op, '/console/accounts', {
      title: `${c.accountTitle} ${str(acct.number)}`,
      body: html`
      ${purposeNotice(t, restricted, purpose, base)}
      ${extra.pin ? html`<div class="card once" role="status"><p>${c.pinIs} <strong class="secret" data-testid="new-pin">${extra.pin}</strong></p><p>${c.pinOnce}</p></div>` : ''}
      ${extra.emailCode ? html`<div class="card once" role="status"><p>${c.emailCodeIs} <strong>${extra.emailCode.email}</strong>: <strong class="secret" data-testid="email-code">${extra.emailCode.token}</strong></p><p>${c.emailCodeOnce}</p></div>` : ''}
      <div class="grid">
      <section class="card" aria-labelledby="cust-h"><h2 id="cust-h">${c.customerData}</h2>
        ${
          cust.status === 200
            ? html`<dl class="facts"><dt>${c.name}</dt><dd>${str(cu.name)}</dd><dt>${c.email}</dt><dd>${str(cu.email)} (${cu.emailVerifiedAt ? c.emailVerified : c.emailUnverified})${cu.pendingEmail ? html`<br>${c.emailPending}: ${str(cu.pendingEmail)}` : ''}</dd>
          <dt>${c.address}</dt><dd>${[cu.addressLine1, cu.addressLine2, cu.postalCode, cu.city, cu.country].filter(Boolean).map(str).join(', ')}</dd>
          <dt>${c.phones}</dt><dd>${((cu.phoneNumbers as string[] | undefined) ?? []).join(', ')}</dd></dl><p class="hint">${c.auditNote}</p>
          ${cu.pendingEmail || (cu.email && !cu.emailVerifiedAt) ? post('email-code', html`<p class="muted">${c.emailCodeIntro}</p>`, c.emailCodeButton) : ''}`
            : html`<p>${c.forbidden}</p>`
        }
      </section>
      <section class="card" aria-labelledby="bal-h" data-balance-stream="${base}/balance/events"><h2 id="bal-h">${c.balance}</h2>
        <dl class="facts"><dt>${c.available}</dt><dd class="big" data-field="available" aria-live="polite">${bal.available}</dd><dt>${c.balance}</dt><dd data-field="balance">${bal.balance}</dd>
          <dt>${c.reserved}</dt><dd data-field="reserved">${bal.reserved}</dd><dt>${c.callsInProgress}</dt><dd data-field="callsInProgress">${bal.callsInProgress}</dd>
          <dt>${t.common.status}</dt><dd data-field="status">${str(acct.status)}</dd></dl>
      </section>
      </div>
      <div class="grid">
      <section class="card" aria-labelledby="top-h"><h2 id="top-h">${c.topupTitle}</h2>
        ${post('topup', html`<input type="hidden" name="requestId" value="${randomUUID()}"><label for="topup-amount">${c.topupAmount} (${cur})</label><input id="topup-amount" name="amount" inputmode="decimal" required maxlength="16">`, c.topupTitle)}
      </section>
      <section class="card" aria-labelledby="adj-h"><h2 id="adj-h">${c.adjustTitle}</h2>
        ${post(
          'adjust',
          html`<input type="hidden" name="requestId" value="${randomUUID()}"><label for="adj-amount">${c.adjustAmount} (${cur})</label><input id="adj-amount" name="amount" inputmode="decimal" required maxlength="17">
          <label for="adj-reason">${c.adjustReason}</label><input id="adj-reason" name="reason" required maxlength="500">`,
          c.adjustTitle,
        )}
      </section>
      </div>
      <div class="grid">
      <section class="card" aria-labelledby="pin-h"><h2 id="pin-h">${c.pinTitle}</h2>
        ${post('pin', html``, c.pinIssue)}
        <p class="muted">${c.compromisedIntro}</p>
        ${post('compromised', html``, c.compromised)}
        <h3>${c.pinHistory}</h3>
        ${list(pins).length ? html`<ul class="rows">${list(pins).map((p) => html`<li>${t.common.created}: ${dateTimeText(t, p.createdAt)}${p.revokedAt ? html` · ${c.revoked}: ${dateTimeText(t, p.revokedAt)}` : ''}</li>`)}</ul>` : html`<p>${t.common.none}</p>`}
      </section>
      <section class="card" aria-labelledby="st-h"><h2 id="st-h">${c.statusTitle}</h2>
        <div class="row">
        ${acct.status === 'active' ? post('status', html`<input type="hidden" name="op" value="suspend">`, c.suspend) : ''}
        ${acct.status === 'suspended' ? post('status', html`<input type="hidden" name="op" value="resume">`, c.resume) : ''}
        ${acct.status !== 'closed' ? html`<form method="post" action="${base}/status" class="stack" data-confirm="${t.common.confirm}">${hidden(op.csrf)}<input type="hidden" name="op" value="close"><button type="submit" class="danger">${c.close}</button></form>` : ''}
        </div>
      </section>
      </div>
      <section class="card" aria-labelledby="cli-h"><h2 id="cli-h">${c.clisTitle}</h2>
        ${list(clis).length ? html`<ul class="rows">${list(clis).map((x) => html`<li>${str(x.cli)} <form method="post" action="${base}/clis/remove" class="inline">${hidden(op.csrf)}<input type="hidden" name="cli" value="${str(x.cli)}"><button type="submit" class="secondary" aria-label="${t.common.remove} ${str(x.cli)}">${t.common.remove}</button></form></li>`)}</ul>` : html`<p>${t.common.none}</p>`}
        ${post('clis', html`<label for="new-cli">${c.addCli}</label><input id="new-cli" name="cli" inputmode="tel" required pattern="\\+[1-9][0-9]{6,14}" maxlength="16">`, c.addCli)}
      </section>
      <section class="card" aria-labelledby="sip-h"><h2 id="sip-h">${c.devicesTitle}</h2>
        ${list(sip).length ? html`<ul class="rows">${list(sip).map((x) => html`<li>${str(x.username)}@${str(x.realm)}</li>`)}</ul>` : html`<p>${t.common.none}</p>`}
        ${post(
          'sip',
          html`<label for="sip-user">${c.sipUser}</label><input id="sip-user" name="username" required pattern="[A-Za-z0-9_.\\-]{1,64}" maxlength="64" autocomplete="off">
          <label for="sip-pass">${c.sipPassword}</label><input id="sip-pass" name="password" type="password" required minlength="10" maxlength="128" autocomplete="new-password">`,
          c.setSip,
        )}
      </section>
      <section aria-labelledby="calls-h"><h2 id="calls-h">${c.callsTitle}</h2>
        ${
          list(cdrs).length
            ? table(
                c.callsTitle,
                [t.calls.start, t.calls.dialled, t.calls.cli, t.calls.duration, t.calls.cost, t.calls.result, ...(recorded ? [c.recording] : [])],
                list(cdrs).map(
                  (x) =>
                    html`<tr><td>${dateTimeText(t, x.startTime)}</td><td>${str(x.dialledNumber)}</td><td>${str(x.cli)}</td><td>${durationText(x.durationMs)}</td><td class="num">${m(x.cost)}</td><td>${str(x.disposition)}</td>${recordingCell(x)}</tr>`,
                ),
                [4],
              )
            : html`<p>${t.calls.none}</p>`
        }
      </section>
      <section aria-labelledby="led-h"><h2 id="led-h">${c.ledgerTitle}</h2>
        ${
          list(ledger).length
            ? table(
                c.ledgerTitle,
                [t.common.when, t.topups.kind, t.common.amount, t.common.balanceAfter, t.common.reason],
                list(ledger).map(
                  (x) =>
                    html`<tr><td>${dateTimeText(t, x.occurredAt)}</td><td>${str(x.kind)}</td><td class="num">${m(x.amount)}</td><td class="num">${m(x.balanceAfter)}</td><td>${str(x.reason)}</td></tr>`,
                ),
                [2, 3],
              )
            : html`<p>${t.common.none}</p>`
        }
      </section>`,
    });
  };

  app.get('/console/accounts/:accountId', pageRoute('Account page: customer data (audited), live balance, actions'), async (req, reply) => {
    const op = await signedIn(web, req, reply);
    if (!op) return reply;
    const id = accountIdOf(req);
    if (!id) return show(web, req, reply, op, '/console/accounts', { title: T(req).console.notFound, status: 404, body: html`` });
    return accountPage(req, reply, op, id);
  });

  app.get('/console/accounts/:accountId/balance/events', pageRoute("Server-sent events: an account's live balance, formatted"), async (req, reply) => {
    const token = readCookies(req).get(OPERATOR_COOKIE);
    const s = await web.operators.get(token);
    const id = accountIdOf(req);
    const probe = s && id ? await callApi(web, req, 'GET', `/v1/accounts/${id}/balance`, { bearer: s.apiKey }) : undefined;
    if (!token || !s || !id || probe?.status !== 200) {
      securityHeaders(reply);
      problemHandler(new AppError(probe?.status === 404 ? 'UNKNOWN_ACCOUNT' : 'UNAUTHENTICATED', 'not available'), req, reply);
      return reply;
    }
    streamBalanceView(ctx, reply, id, T(req).locale, async () => (await web.operators.get(token)) !== undefined);
  });

  const action = (
    path: string,
    summary: string,
    fields: string[],
    run: (req: FastifyRequest, reply: FastifyReply, op: Op, id: number) => Promise<FastifyReply>,
  ) => {
    app.post(`/console/accounts/:accountId/${path}`, formRoute(summary, fields), async (req, reply) => {
      const op = await signedInForm(web, req, reply);
      if (!op) return reply;
      const id = accountIdOf(req);
      if (!id) return redirect(reply, '/console/accounts');
      return run(req, reply, op, id);
    });
  };
  const apiAs = (req: FastifyRequest, op: Op, method: 'POST' | 'PUT' | 'DELETE', url: string, body?: unknown, headers?: Record<string, string>) =>
    callApi(web, req, method, url, { bearer: op.apiKey, ...(body !== undefined ? { body } : {}), ...(headers ? { headers } : {}) });

  action('topup', 'Top up an account (exactly once per form)', ['amount', 'requestId'], async (req, reply, op, id) => {
    const amount = parseAmount(field(req.body, 'amount'));
    const key = field(req.body, 'requestId');
    const base = `/console/accounts/${id}`;
    if (!amount || !/^[A-Za-z0-9-]{1,64}$/.test(key)) return back(reply, base, { id: 'console.badAmount', kind: 'e' });
    const r = await apiAs(req, op, 'POST', `/v1/accounts/${id}/topups`, { amount, provider: 'console' }, { 'idempotency-key': `console-${key}` });
    return back(reply, base, outcome(r, 'console.topupDone'));
  });

  action('adjust', 'Adjust a balance with a reason (exactly once per form)', ['amount', 'reason', 'requestId'], async (req, reply, op, id) => {
    const amount = parseAmount(field(req.body, 'amount'), { allowNegative: true });
    const reason = field(req.body, 'reason').trim();
    const key = field(req.body, 'requestId');
    const base = `/console/accounts/${id}`;
    if (!amount || !reason || !/^[A-Za-z0-9-]{1,64}$/.test(key)) return back(reply, base, { id: 'console.badAmount', kind: 'e' });
    const r = await apiAs(req, op, 'POST', `/v1/accounts/${id}/adjustments`, { adjustmentId: `console-${key}`, amount, reason });
    return back(reply, base, outcome(r, 'console.adjustDone'));
  });

  action('pin', 'Issue or rotate the PIN (shown once)', [], async (req, reply, op, id) => {
    const r = await apiAs(req, op, 'POST', `/v1/accounts/${id}/pin`, {});
    const pin = (r.json as { pin?: unknown }).pin;
    if (r.status >= 300 || typeof pin !== 'string') return back(reply, `/console/accounts/${id}`, outcome(r, 'common.error'));
    return accountPage(req, reply, op, id, { pin });
  });

  action('email-code', "Issue a verification code for the customer's pending or unverified e-mail address (shown once)", [], async (req, reply, op, id) => {
    const a = await callApi<{ customerId?: number }>(web, req, 'GET', `/v1/accounts/${id}`, { bearer: op.apiKey });
    const r = a.status === 200 ? await apiAs(req, op, 'POST', `/v1/customers/${String(a.json.customerId)}/email-verification`, {}) : a;
    const { email, token } = r.json as { email?: unknown; token?: unknown };
    if (r.status >= 300 || typeof email !== 'string' || typeof token !== 'string') return back(reply, `/console/accounts/${id}`, outcome(r, 'common.error'));
    return accountPage(req, reply, op, id, { emailCode: { email, token } });
  });

  action(
    'compromised',
    "Suspected compromise: revoke the PIN, the caller IDs registered at the IVR and the customer's sessions",
    [],
    async (req, reply, op, id) =>
      back(reply, `/console/accounts/${id}`, outcome(await apiAs(req, op, 'POST', `/v1/accounts/${id}/compromised`), 'console.compromisedDone')),
  );

  action('status', 'Suspend, resume or close the account', ['op'], async (req, reply, op, id) => {
    const what = field(req.body, 'op');
    if (!['suspend', 'resume', 'close'].includes(what)) return redirect(reply, `/console/accounts/${id}`);
    return back(reply, `/console/accounts/${id}`, outcome(await apiAs(req, op, 'POST', `/v1/accounts/${id}/${what}`), 'console.statusChanged'));
  });

  action('clis', 'Add an approved caller ID', ['cli'], async (req, reply, op, id) =>
    back(
      reply,
      `/console/accounts/${id}`,
      outcome(await apiAs(req, op, 'POST', `/v1/accounts/${id}/clis`, { cli: field(req.body, 'cli').replace(/[\s-]/g, '') }), 'console.cliAdded'),
    ),
  );

  action('clis/remove', 'Remove a caller ID', ['cli'], async (req, reply, op, id) =>
    back(
      reply,
      `/console/accounts/${id}`,
      outcome(await apiAs(req, op, 'DELETE', `/v1/accounts/${id}/clis/${encodeURIComponent(field(req.body, 'cli'))}`), 'console.cliRemoved'),
    ),
  );

  action('sip', 'Set SIP credentials', ['username', 'password'], async (req, reply, op, id) =>
    back(
      reply,
      `/console/accounts/${id}`,
      outcome(
        await apiAs(req, op, 'PUT', `/v1/accounts/${id}/sip-credentials/${encodeURIComponent(field(req.body, 'username'))}`, {
          password: field(req.body, 'password'),
        }),
        'console.sipSet',
      ),
    ),
  );

  app.get('/console/cli-requests', pageRoute('Caller-ID requests waiting for approval'), async (req, reply) => {
    const op = await signedIn(web, req, reply);
    if (!op) return reply;
    const t = T(req);
    const c = t.console;
    const r = await callApi<{ items: Row[] }>(web, req, 'GET', '/v1/cli-requests?limit=100', { bearer: op.apiKey });
    const items = r.status === 200 ? r.json.items : [];
    const decide = (x: Row, verb: 'approve' | 'reject', label: string) =>
      html`<form method="post" action="/console/cli-requests/${str(x.id)}/${verb}" class="inline">${hidden(op.csrf)}<button type="submit"${verb === 'reject' ? html` class="secondary"` : ''} aria-label="${label} ${str(x.cli)}">${label}</button></form>`;
    return show(web, req, reply, op, '/console/cli-requests', {
      title: c.cliRequests,
      ...(r.status !== 200 ? { error: problemText(t, r) } : {}),
      body: items.length
        ? table(
            c.cliRequests,
            [c.account, t.calls.cli, t.callerIds.requested, t.common.actions],
            items.map(
              (x) =>
                html`<tr><td><a href="/console/accounts/${str(x.accountId)}">${str(x.accountId)}</a></td><td>${str(x.cli)}</td><td>${dateTimeText(t, x.requestedAt)}</td><td>${decide(x, 'approve', c.approve)} ${decide(x, 'reject', c.reject)}</td></tr>`,
            ),
          )
        : html`<p>${c.noRequests}</p>`,
    });
  });

  for (const verb of ['approve', 'reject'] as const) {
    app.post(
      `/console/cli-requests/:requestId/${verb}`,
      formRoute(`${verb === 'approve' ? 'Approve' : 'Reject'} a caller-ID request`, []),
      async (req, reply) => {
        const op = await signedInForm(web, req, reply);
        if (!op) return reply;
        const rid = Number((req.params as { requestId: string }).requestId);
        if (!Number.isSafeInteger(rid) || rid < 1) return redirect(reply, '/console/cli-requests');
        return back(reply, '/console/cli-requests', outcome(await apiAs(req, op, 'POST', `/v1/cli-requests/${rid}/${verb}`), 'console.decided'));
      },
    );
  }

  app.get('/console/calls', pageRoute('Live calls with hang-up'), async (req, reply) => {
    const op = await signedIn(web, req, reply);
    if (!op) return reply;
    const t = T(req);
    const c = t.console;
    const r = await callApi<{ items: Row[] }>(web, req, 'GET', '/v1/calls', { bearer: op.apiKey });
    const items = r.status === 200 ? r.json.items : [];
    return show(web, req, reply, op, '/console/calls', {
      title: c.liveCalls,
      ...(r.status !== 200 ? { error: problemText(t, r) } : {}),
      body: items.length
        ? table(
            c.liveCalls,
            [c.callId, c.account, c.state, c.started, c.reservedCol, t.common.actions],
            items.map(
              (
                x,
              ) => html`<tr><td>${str(x.callId)}</td><td><a href="/console/accounts/${str(x.accountId)}">${str(x.accountId)}</a></td><td>${str(x.state)}</td><td>${dateTimeText(t, x.startedAt)}</td><td class="num">${str(x.reserved)}</td>
          <td><form method="post" action="/console/calls/hangup" class="inline" data-confirm="${t.common.confirm}">${hidden(op.csrf)}<input type="hidden" name="callId" value="${str(x.callId)}"><button type="submit" class="danger" aria-label="${c.hangup} ${str(x.callId)}">${c.hangup}</button></form></td></tr>`,
            ),
          )
        : html`<p>${t.console.noneActive}</p>`,
    });
  });

  app.get(
    '/console/access-sessions',
    pageRoute('Access-number sessions, with or without a call placed, and their access-leg time per carrier'),
    async (req, reply) => {
      const op = await signedIn(web, req, reply);
      if (!op) return reply;
      const t = T(req);
      const c = t.console;
      const since = new Date(Date.now() - 31 * 86_400_000).toISOString();
      const [totals, recent] = await Promise.all([
        callApi<{ items: Row[] }>(web, req, 'GET', `/v1/ivr-sessions/totals?from=${encodeURIComponent(since)}`, { bearer: op.apiKey }),
        callApi<{ items: Row[] }>(web, req, 'GET', '/v1/ivr-sessions?limit=50', { bearer: op.apiKey }),
      ]);
      const failed = [totals, recent].find((r) => r.status !== 200);
      const list = (r: ApiResult<{ items: Row[] }>) => (r.status === 200 ? r.json.items : []);
      return show(web, req, reply, op, '/console/access-sessions', {
        title: c.accessSessions,
        ...(failed ? { error: problemText(t, failed) } : {}),
        body: html`<p>${c.accessNote}</p>
        ${
          list(totals).length
            ? table(
                c.accessTotals,
                [c.accessNumbers, c.carrierId, c.sessions, c.legTime, c.withoutCalls],
                list(totals).map(
                  (x) =>
                    html`<tr><td>${str(x.accessNumber)}</td><td>${str(x.carrier)}</td><td class="num">${str(x.sessions)}</td><td class="num">${durationText(x.durationMs)}</td><td class="num">${str(x.withoutCalls)}</td></tr>`,
                ),
                [2, 3, 4],
              )
            : html`<p>${t.common.none}</p>`
        }
        ${
          list(recent).length
            ? table(
                c.accessRecent,
                [c.started, c.accessNumbers, c.caller, t.calls.duration, c.outcome, c.account, c.callsPlaced, c.pins],
                list(recent).map(
                  (x) =>
                    html`<tr><td>${dateTimeText(t, x.startTime)}</td><td>${str(x.accessNumber)}</td><td>${str(x.cli)}</td><td>${durationText(x.durationMs)}</td><td>${str(x.outcome)}</td><td>${x.accountId === null ? '' : html`<a href="/console/accounts/${str(x.accountId)}">${str(x.accountId)}</a>`}</td><td class="num">${str(x.calls)}</td><td class="num">${str(x.pinAttempts)}</td></tr>`,
                ),
                [6, 7],
              )
            : ''
        }`,
      });
    },
  );

  app.post('/console/calls/hangup', formRoute('Hang up a live call', ['callId']), async (req, reply) => {
    const op = await signedInForm(web, req, reply);
    if (!op) return reply;
    const callId = field(req.body, 'callId');
    if (!/^[\x21-\x7e]{1,256}$/.test(callId)) return redirect(reply, '/console/calls');
    return back(reply, '/console/calls', outcome(await apiAs(req, op, 'DELETE', `/v1/calls/${encodeURIComponent(callId)}`), 'console.hungUp'));
  });

  const tariffsPage = async (req: FastifyRequest, reply: FastifyReply, op: Op, extra: { errors?: Row[]; status?: number } = {}) => {
    const t = T(req);
    const c = t.console;
    const r = await callApi<{ items: Row[] }>(web, req, 'GET', '/v1/tariffs', { bearer: op.apiKey });
    const items = r.status === 200 ? r.json.items : [];
    return show(web, req, reply, op, '/console/tariffs', {
      title: c.tariffs,
      status: extra.status ?? 200,
      ...(extra.errors ? { error: c.uploadErrors } : {}),
      body: html`
      ${
        extra.errors
          ? table(
              c.uploadErrors,
              [c.line, c.problem],
              extra.errors
                .slice(0, 200)
                .map((e) => html`<tr><td>${str(e.line)}</td><td>${[e.column, e.message ?? e.error ?? e.reason].filter(Boolean).map(str).join(': ')}</td></tr>`),
            )
          : ''
      }
      ${
        items.length
          ? table(
              c.tariffs,
              [c.tariffId, c.tariffName, c.currency, c.rates, t.common.actions],
              items.map(
                (x) =>
                  html`<tr><td>${str(x.id)}</td><td>${str(x.name)}</td><td>${str(x.currency)}</td><td class="num">${str(x.rates)}</td><td><a href="/console/tariffs/${encodeURIComponent(str(x.id))}.csv" download>${c.download}<span class="sr-only"> ${str(x.id)}</span></a></td></tr>`,
              ),
              [3],
            )
          : html`<p>${t.common.none}</p>`
      }
      <section class="card" aria-labelledby="up-h"><h2 id="up-h">${c.upload}</h2>
        <form method="post" action="/console/tariffs" enctype="multipart/form-data" class="stack">${hidden(op.csrf)}
          <label for="tid">${c.tariffId}</label><input id="tid" name="tariffId" required pattern="[A-Za-z0-9_.\\-]{1,64}" maxlength="64">
          <label for="tname">${c.tariffName}</label><input id="tname" name="name" required maxlength="200">
          <label for="tcur">${c.currency}</label><input id="tcur" name="currency" required pattern="[A-Z]{3}" maxlength="3" value="GBP">
          <label for="tfile">${c.file}</label><input id="tfile" name="file" type="file" accept=".csv,text/csv" required>
          <button type="submit">${c.upload}</button>
        </form>
      </section>`,
    });
  };

  app.get('/console/tariffs', pageRoute('Tariffs: list, download, upload'), async (req, reply) => {
    const op = await signedIn(web, req, reply);
    return op ? tariffsPage(req, reply, op) : reply;
  });

  app.post(
    '/console/tariffs',
    {
      ...pageRoute('Upload a rate deck (multipart form: tariffId, name, currency, file); errors shown by line', {
        body: {
          type: 'object',
          properties: {
            _csrf: { type: 'string' },
            tariffId: { type: 'string' },
            name: { type: 'string' },
            currency: { type: 'string' },
            file: { type: 'string' },
          },
        },
      }),
      attachValidation: true,
      bodyLimit: 20 * 1024 * 1024,
    },
    async (req, reply) => {
      const op = await signedInForm(web, req, reply);
      if (!op) return reply;
      const b = {
        tariffId: field(req.body, 'tariffId'),
        name: field(req.body, 'name').trim(),
        currency: field(req.body, 'currency').trim(),
        file: field(req.body, 'file'),
      };
      if (!/^[A-Za-z0-9_.-]{1,64}$/.test(b.tariffId) || !b.name || !/^[A-Z]{3}$/.test(b.currency) || !b.file)
        return back(reply, '/console/tariffs', { id: 'problems.VALIDATION_FAILED', kind: 'e' });
      const r = await callApi(web, req, 'PUT', `/v1/tariffs/${encodeURIComponent(b.tariffId)}?${new URLSearchParams({ name: b.name, currency: b.currency })}`, {
        bearer: op.apiKey,
        payload: b.file,
        headers: { 'content-type': 'text/csv' },
      });
      const errors = (r.json as { errors?: Row[] }).errors;
      if (r.status !== 200 && errors) return tariffsPage(req, reply, op, { errors, status: 422 });
      return back(reply, '/console/tariffs', outcome(r, 'console.uploaded'));
    },
  );

  app.get('/console/tariffs/:file', pageRoute('Download a tariff as CSV'), async (req, reply) => {
    const op = await signedIn(web, req, reply);
    if (!op) return reply;
    const m = /^([A-Za-z0-9_.-]{1,64})\.csv$/.exec((req.params as { file: string }).file);
    if (!m) return show(web, req, reply, op, '/console/tariffs', { title: T(req).console.notFound, status: 404, body: html`` });
    const r = await callApi(web, req, 'GET', `/v1/tariffs/${encodeURIComponent(m[1]!)}/csv`, { bearer: op.apiKey });
    securityHeaders(reply);
    if (r.status !== 200) return reply.status(r.status).type('text/plain; charset=utf-8').send(T(req).console.notFound);
    return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${m[1]}.csv"`).send(r.text);
  });

  /** A key without the recordings scope gets no recordings page: 403, before any call to the API. */
  const noRecordings = (req: FastifyRequest, reply: FastifyReply, op: Op) =>
    show(web, req, reply, op, '/console/recordings', {
      title: T(req).console.recordingsTitle,
      status: 403,
      error: T(req).console.recordingsNoScope,
      body: html``,
    });

  app.get(
    '/console/recordings',
    pageRoute("Find a call's recordings by its call id, to play or download (recordings scope; a restricted customer's only for a stated purpose)", {
      querystring: {
        type: 'object',
        properties: { callId: { type: 'string', maxLength: 256 }, purpose: { type: 'string', maxLength: 40 }, m: { type: 'string' }, e: { type: 'string' } },
      },
    }),
    async (req, reply) => {
      const op = await signedIn(web, req, reply);
      if (!op) return reply;
      if (!hearsRecordings(op)) return noRecordings(req, reply, op);
      const t = T(req);
      const c = t.console;
      const rt = t.recordings;
      const callId = str((req.query as Record<string, unknown>).callId).trim();
      const purpose = purposeOf(req);
      const r = callId
        ? await callApi<{ items: Row[] }>(web, req, 'GET', `/v1/recordings?${new URLSearchParams({ callId })}`, {
            bearer: op.apiKey,
            ...(purpose ? { headers: { 'x-purpose': purpose } } : {}),
          })
        : undefined;
      if (r?.status === 403 && (r.json as { code?: unknown }).code === 'FORBIDDEN') return noRecordings(req, reply, op);
      const restricted = r?.status === 403 && (r.json as { code?: unknown }).code === 'PURPOSE_REQUIRED';
      const items = r?.status === 200 ? r.json.items : [];
      const audio = (id: string, download: boolean) => {
        const q = new URLSearchParams({ ...(download ? { download: '1' } : {}), ...(purpose ? { purpose } : {}) }).toString();
        return `/console/recordings/${id}/audio${q ? `?${q}` : ''}`;
      };
      return show(web, req, reply, op, '/console/recordings', {
        title: c.recordingsFind,
        ...(r && r.status !== 200 && !restricted ? { error: problemText(t, r) } : {}),
        body: html`<p>${c.recordingsIntro}</p>
        <form method="get" action="/console/recordings" class="filters">
          <div><label for="callId">${c.recordingsCallId}</label><input id="callId" name="callId" value="${callId}" required maxlength="256" autocomplete="off"></div>
          ${purpose ? html`<input type="hidden" name="purpose" value="${purpose}">` : ''}
          <button type="submit">${t.common.search}</button>
        </form>
        ${callId ? purposeNotice(t, restricted, purpose, '/console/recordings', { callId }) : ''}
        ${
          r?.status !== 200
            ? ''
            : items.length === 0
              ? html`<p data-testid="no-recording">${c.recordingsNone}</p>`
              : table(
                  c.recordingsTitle,
                  [rt.when, c.account, rt.number, rt.duration, rt.play, rt.download],
                  items.map((x) => {
                    const id = str(x.id);
                    return html`<tr><td>${dateTimeText(t, x.callStart)}</td><td><a href="/console/accounts/${str(x.accountId)}${purpose ? `?purpose=${purpose}` : ''}">${str(x.accountId)}</a></td><td>${str(x.dialledNumber)}</td><td>${durationText(x.durationMs)}</td>
          <td><audio controls preload="none" src="${audio(id, false)}" aria-label="${rt.play} ${dateTimeText(t, x.callStart)}"></audio></td><td><a href="${audio(id, true)}" download>${rt.download}<span class="sr-only"> ${dateTimeText(t, x.callStart)}</span></a></td></tr>`;
                  }),
                )
        }`,
      });
    },
  );

  app.get(
    '/console/recordings/:id/audio',
    pageRoute('A recording, to play (byte ranges) or, with ?download=1, to save; relayed from the API with the console key (and the purpose stated)', {
      params: { type: 'object', required: ['id'], additionalProperties: false, properties: { id: { type: 'string', pattern: '^[0-9a-fA-F-]{36}$' } } },
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: { download: { type: 'string', enum: ['1'] }, purpose: { type: 'string', enum: [...PURPOSES] } },
      },
    }),
    async (req, reply) => {
      const op = await signedIn(web, req, reply);
      if (!op) return reply;
      const { id } = req.params as { id: string };
      const download = (req.query as { download?: string }).download === '1';
      const purpose = purposeOf(req);
      return relayAudio(web, req, reply, `/v1/recordings/${id}/audio${download ? '?download=true' : ''}`, {
        authorization: `Bearer ${op.apiKey}`,
        ...(purpose ? { 'x-purpose': purpose } : {}),
      });
    },
  );

  app.get('/console/routing', pageRoute('Carriers and access numbers'), async (req, reply) => {
    const op = await signedIn(web, req, reply);
    if (!op) return reply;
    const t = T(req);
    const c = t.console;
    const [carriers, numbers, health] = await Promise.all([
      callApi<{ items: Row[] }>(web, req, 'GET', '/v1/carriers', { bearer: op.apiKey }),
      callApi<{ items: Row[] }>(web, req, 'GET', '/v1/access-numbers', { bearer: op.apiKey }),
      callApi<{ items: Row[] }>(web, req, 'GET', '/v1/gateways/health', { bearer: op.apiKey }),
    ]);
    const cs = carriers.status === 200 ? (carriers.json.items ?? []) : [];
    const hs = health.status === 200 ? (health.json.items ?? []) : [];
    const ns = numbers.status === 200 ? (numbers.json.items ?? []) : [];
    return show(web, req, reply, op, '/console/routing', {
      title: c.routing,
      body: html`<section aria-labelledby="car-h"><h2 id="car-h">${c.carriers}</h2>
        ${
          cs.length
            ? table(
                c.carriers,
                [c.carrierId, c.tariffName, c.enabled, c.gateways, c.trusted],
                cs.map(
                  (x) => html`<tr><td>${str(x.id)}</td><td>${str(x.name)}</td><td>${x.enabled ? t.common.yes : t.common.no}</td>
          <td>${((x.gateways as Row[] | undefined) ?? []).map((g) => str(g.address ?? g.host ?? g.uri)).join(', ')}</td><td>${((x.addresses as string[] | undefined) ?? []).join(', ')}</td></tr>`,
                ),
              )
            : html`<p>${t.common.none}</p>`
        }
      </section>
      <section aria-labelledby="gwh-h"><h2 id="gwh-h">${c.gatewayHealth}</h2>
        ${
          hs.length
            ? table(
                c.gatewayHealth,
                [c.carrierId, c.gateways, c.gatewayState, c.gatewaySince, c.gatewayLastProbe],
                hs.map(
                  (x) => html`<tr><td>${str(x.carrierId)}</td><td>${str(x.address)}:${str(x.port)}</td><td>${x.up ? c.gatewayUp : c.gatewayDown}</td>
          <td>${new Date(Number(x.since)).toISOString()}</td><td>${x.lastStatus === undefined ? c.noAnswer : str(x.lastStatus)}</td></tr>`,
                ),
              )
            : html`<p>${t.common.none}</p>`
        }
      </section>
      <section aria-labelledby="acc-h"><h2 id="acc-h">${c.accessNumbers}</h2>
        ${
          ns.length
            ? table(
                c.accessNumbers,
                [c.number, c.language, c.label],
                ns.map((x) => html`<tr><td>${str(x.number)}</td><td>${str(x.language)}</td><td>${str(x.description)}</td></tr>`),
              )
            : html`<p>${t.common.none}</p>`
        }
      </section>`,
    });
  });
}
