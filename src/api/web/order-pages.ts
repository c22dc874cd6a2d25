/**
 * The public order pages under /order, on the order API (src/api/routes/orders.ts) through
 * `callApi`, from the visitor's own address (so the per-address order throttle counts them):
 *
 *   GET  /order              the form (pre-session CSRF cookie, as the login page)
 *   POST /order              places the order; the order's status token goes into an HttpOnly cookie
 *   GET  /order/:id          status; the code form, or the pay button (its CSP lets the form lead to the provider's checkout)
 *   POST /order/:id/verify   the code from the mail
 *   POST /order/:id/pay      opens the provider's checkout and redirects there
 *   GET|POST /order/:id/test-pay  the local test provider's checkout (PAYMENT_PROVIDER=test only)
 *
 * Every POST checks the origin and a CSRF token: the pre-session's before the order exists, the
 * one derived from the order's status token after.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { TestPaymentProvider } from '../../accounts/payments/test-payment-provider.ts';
import { html } from '../../common/html.ts';
import { formatMoney, parseAmount } from './money-format.ts';
import { T, callApi, field, formRoute, hidden, message, pageRoute, problemText, redirect, sendPage, withMessage } from './web-kit.ts';
import type { ApiResult, Web } from './web-kit.ts';
import { csrfFor, csrfValid, preSession, readCookies, sameOrigin, setCookie } from './web-security.ts';

export const ORDER_COOKIE = 'ss_order';
const ID = /^ord_[A-Za-z0-9_-]{22}$/;

interface OrderJson {
  id: string;
  status: string;
  amount: number;
  currency: string;
  accountNumber: string | null;
}

/** The status token of order `id` from the cookie this browser got when it placed it. */
function orderToken(req: FastifyRequest, id: string): string | undefined {
  const v = readCookies(req).get(ORDER_COOKIE);
  const [cid, token] = (v ?? '').split('.');
  return cid === id && token && /^ot_[A-Za-z0-9_-]{43}$/.test(token) ? token : undefined;
}

export function orderPages(web: Web, app: FastifyInstance): void {
  const { ctx } = web;
  const orders = ctx.orders;

  const lost = (req: FastifyRequest, reply: FastifyReply) =>
    sendPage(web, req, reply, {
      title: T(req).order.statusTitle,
      status: 404,
      body: html`<p>${T(req).order.lost}</p><p><a href="/order">${T(req).order.again}</a></p>`,
    });

  /** The order for a form POST: same origin, the order's cookie and its CSRF token. */
  const orderForm = (req: FastifyRequest, reply: FastifyReply): { id: string; token: string } | undefined => {
    const id = (req.params as { id: string }).id;
    const token = ID.test(id) ? orderToken(req, id) : undefined;
    if (!token) {
      lost(req, reply);
      return undefined;
    }
    if (!sameOrigin(req) || !csrfValid(token, field(req.body, '_csrf'))) {
      sendPage(web, req, reply, { title: T(req).common.error, status: 403, body: html`<p>${T(req).common.csrf}</p>` });
      return undefined;
    }
    return { id, token };
  };

  const form = (req: FastifyRequest, reply: FastifyReply, o: { status?: number; error?: string; values?: Record<string, string> } = {}) => {
    const t = T(req);
    if (!orders.available) return sendPage(web, req, reply, { title: t.order.title, status: 404, body: html`<p>${t.order.unavailable}</p>` });
    const pre = preSession(req, reply);
    const s = orders.settings;
    const v = o.values ?? {};
    const hint = t.order.amountHint
      .replace('{min}', formatMoney(s.minAmount, s.currency, t.locale))
      .replace('{max}', formatMoney(s.maxAmount, s.currency, t.locale));
    return sendPage(web, req, reply, {
      title: t.order.title,
      status: o.status ?? 200,
      error: o.error,
      body: html`<p>${t.order.intro}</p>
      <form method="post" action="/order" class="stack">
        ${hidden(csrfFor(pre))}
        <label for="name">${t.order.name}</label><input id="name" name="name" autocomplete="name" required maxlength="200" value="${v.name ?? ''}">
        <label for="email">${t.order.email}</label><input id="email" name="email" type="email" autocomplete="email" required maxlength="254" value="${v.email ?? ''}">
        <label for="country">${t.order.country}</label><input id="country" name="country" autocomplete="country" required pattern="[A-Za-z]{2}" maxlength="2" value="${v.country ?? ''}">
        <label for="amount">${t.order.amount} (${s.currency})</label><input id="amount" name="amount" inputmode="decimal" required maxlength="20" aria-describedby="amount-hint" value="${v.amount ?? ''}">
        <p id="amount-hint" class="hint">${hint}</p>
        <fieldset><legend>${t.order.method}</legend>
          ${orders.methods.map(
            (m, i) => html`<label><input type="radio" name="paymentMethod" value="${m}"${i === 0 ? html` checked` : ''}> ${t.order.methods[m] ?? m}</label>`,
          )}
        </fieldset>
        <button type="submit">${t.order.submit}</button>
      </form>`,
    });
  };

  app.get('/order', pageRoute('Order a calling account (public)'), async (req, reply) => form(req, reply));

  app.post('/order', formRoute('Place an order (throttled per address)', ['name', 'email', 'country', 'amount', 'paymentMethod']), async (req, reply) => {
    const t = T(req);
    const pre = readCookies(req).get('ss_pre');
    if (!sameOrigin(req) || !csrfValid(pre, field(req.body, '_csrf'))) return redirect(reply, withMessage('/order', 'common.csrf', 'e'));
    const values = { name: field(req.body, 'name'), email: field(req.body, 'email'), country: field(req.body, 'country'), amount: field(req.body, 'amount') };
    const amount = parseAmount(values.amount);
    if (req.validationError || amount === undefined) return form(req, reply, { status: 400, error: t.problems.VALIDATION_FAILED, values });
    const r = await callApi<OrderJson & { statusToken: string }>(web, req, 'POST', '/v1/orders', {
      body: {
        name: values.name.trim(),
        email: values.email.trim(),
        country: values.country.trim().toUpperCase(),
        amount,
        paymentMethod: field(req.body, 'paymentMethod') || (orders.methods[0] ?? ''),
      },
    });
    if (r.status !== 201) {
      const error = r.status === 429 ? t.order.throttled : problemText(t, r as unknown as ApiResult);
      return form(req, reply, { status: r.status, error, values });
    }
    setCookie(req, reply, ORDER_COOKIE, `${r.json.id}.${r.json.statusToken}`, (orders.settings.expiryMinutes + 24 * 60) * 60);
    return redirect(reply, `/order/${r.json.id}`);
  });

  app.get('/order/:id', pageRoute('The status of my order'), async (req, reply) => {
    const t = T(req);
    const id = (req.params as { id: string }).id;
    const token = ID.test(id) ? orderToken(req, id) : undefined;
    const r = token ? await callApi<OrderJson>(web, req, 'GET', `/v1/orders/${id}?token=${token}`) : undefined;
    if (!token || !r || r.status !== 200) return lost(req, reply);
    const o = r.json;
    const q = req.query as Record<string, unknown>;
    const csrf = csrfFor(token);
    const amount = html`<p>${t.order.amountLabel}: <strong>${formatMoney(o.amount, o.currency, t.locale)}</strong></p>`;
    const again = html`<p><a href="/order">${t.order.again}</a></p>`;
    const bodies: Record<string, ReturnType<typeof html>> = {
      awaiting_email: html`${amount}<p>${t.order.codeIntro}</p>
        <form method="post" action="/order/${id}/verify" class="stack">${hidden(csrf)}
          <label for="code">${t.order.code}</label><input id="code" name="code" required maxlength="100" autocomplete="one-time-code">
          <button type="submit">${t.order.verify}</button>
        </form>`,
      awaiting_payment: html`${amount}<p>${t.order.payIntro}</p>
        <form method="post" action="/order/${id}/pay">${hidden(csrf)}<button type="submit">${t.order.pay}</button></form>`,
      paid: html`${amount}<p role="status">${t.order.paid}</p>`,
      completed: html`${amount}<p role="status">${t.order.completed.replace('{number}', o.accountNumber ?? '')}</p><p><a href="/my/login">${t.login.title}</a></p>`,
      failed: html`<p>${t.order.failed}</p>${again}`,
      expired: html`<p>${t.order.expired}</p>${again}`,
      flagged: html`<p>${t.order.flagged}</p>`,
    };
    const origin = ctx.checkout?.checkoutOrigin;
    return sendPage(web, req, reply, {
      title: t.order.statusTitle,
      notice: message(t, q.m),
      error: message(t, q.e),
      body: bodies[o.status] ?? html``,
      ...(origin && o.status === 'awaiting_payment' ? { formAction: [origin] } : {}),
    });
  });

  app.post('/order/:id/verify', formRoute('Confirm the e-mail address of my order', ['code']), async (req, reply) => {
    const o = orderForm(req, reply);
    if (!o) return reply;
    const r = await callApi(web, req, 'POST', `/v1/orders/${o.id}/verify-email`, {
      body: { token: o.token, code: field(req.body, 'code').trim().slice(0, 100) },
    });
    if (r.status === 200) return redirect(reply, `/order/${o.id}`);
    return redirect(
      reply,
      withMessage(`/order/${o.id}`, r.status === 429 ? 'order.throttled' : r.status === 409 ? 'problems.ORDER_STATE' : 'order.codeWrong', 'e'),
    );
  });

  app.post('/order/:id/pay', formRoute("Pay my order on the payment provider's page", []), async (req, reply) => {
    const o = orderForm(req, reply);
    if (!o) return reply;
    const r = await callApi<{ checkoutUrl: string }>(web, req, 'POST', `/v1/orders/${o.id}/checkout`, { body: { token: o.token } });
    if (r.status !== 200) return redirect(reply, withMessage(`/order/${o.id}`, `problems.${String((r.json as { code?: string }).code ?? 'x')}`, 'e'));
    return redirect(reply, r.json.checkoutUrl);
  });

  // the local test provider's "checkout": development only (the configuration refuses the provider in production)
  const testProvider = () => (ctx.checkout instanceof TestPaymentProvider ? ctx.checkout : undefined);

  app.get('/order/:id/test-pay', pageRoute("The local test provider's payment page (PAYMENT_PROVIDER=test)"), async (req, reply) => {
    const t = T(req);
    const id = (req.params as { id: string }).id;
    const token = ID.test(id) ? orderToken(req, id) : undefined;
    if (!testProvider() || !token) return lost(req, reply);
    const r = await callApi<OrderJson>(web, req, 'GET', `/v1/orders/${id}?token=${token}`);
    if (r.status !== 200) return lost(req, reply);
    const csrf = csrfFor(token);
    return sendPage(web, req, reply, {
      title: t.order.testPayTitle,
      body: html`<p>${t.order.amountLabel}: <strong>${formatMoney(r.json.amount, r.json.currency, t.locale)}</strong></p>
      <p>${t.order.testPayIntro}</p>
      <form method="post" action="/order/${id}/test-pay" class="inline">${hidden(csrf)}<input type="hidden" name="outcome" value="paid"><button type="submit">${t.order.testPaid}</button></form>
      <form method="post" action="/order/${id}/test-pay" class="inline">${hidden(csrf)}<input type="hidden" name="outcome" value="failed"><button type="submit">${t.order.testFailed}</button></form>`,
    });
  });

  app.post('/order/:id/test-pay', formRoute("The local test provider's payment (PAYMENT_PROVIDER=test)", ['outcome']), async (req, reply) => {
    const provider = testProvider();
    if (!provider) return lost(req, reply);
    const o = orderForm(req, reply);
    if (!o) return reply;
    const outcome = field(req.body, 'outcome') === 'failed' ? 'failed' : 'paid';
    await orders.testProviderEvent(o.id, o.token, outcome, (order) => provider.event(order, outcome));
    return redirect(reply, withMessage(`/order/${o.id}`, 'order.returned'));
  });
}
