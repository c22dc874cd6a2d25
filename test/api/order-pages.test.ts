/**
 * The public order pages with the local test provider (what `npm start` runs): form → code from
 * the mail (real SMTP on loopback) → "pay" on the test provider's page → account open, credited,
 * welcome mail. CSRF, CSP and the per-address throttle as on the other public pages.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestPaymentProvider } from '../../src/accounts/payments/test-payment-provider.ts';
import { CSP } from '../../src/api/web/web-security.ts';
import { SmtpSink } from '../support/smtp-sink.ts';
import { harness } from './api-harness.ts';
import type { Harness } from './api-harness.ts';

let h: Harness;
let sink: SmtpSink;
beforeAll(async () => {
  sink = await new SmtpSink().start();
  h = await harness(
    'weborders',
    {
      mail: { linkBaseUrl: 'http://localhost:80', retry: { baseSeconds: 1, maxSeconds: 2, maxAttempts: 5 } },
      orders: { currency: 'GBP', minAmount: 5_000_000, maxAmount: 50_000_000, expiryMinutes: 60, maxPerSource: 4, windowSeconds: 3600 },
    },
    { checkout: new TestPaymentProvider() },
  );
});
afterAll(async () => {
  await h?.close();
  await sink?.stop();
});

const csrfOf = (body: string) => /name="_csrf" value="([^"]+)"/.exec(body)![1]!;
const cookieOf = (headers: Record<string, unknown>, name: string) =>
  ([headers['set-cookie']].flat() as string[]).map((c) => c.split(';')[0]!).find((c) => c.startsWith(`${name}=`))!;
const form = (o: Record<string, string>) => ({ 'content-type': 'application/x-www-form-urlencoded', payload: new URLSearchParams(o).toString() });

async function post(url: string, cookie: string, fields: Record<string, string>) {
  const f = form(fields);
  return h.app.inject({ method: 'POST', url, headers: { cookie, 'content-type': f['content-type'] }, payload: f.payload });
}

describe('order pages with the test provider', () => {
  it('are refused while no provider with a checkout is configured (PAYMENT_PROVIDER=none)', async () => {
    const none = await harness('webordersnone');
    try {
      const r = await none.app.inject({ method: 'GET', url: '/order' });
      expect(r.statusCode).toBe(404);
      expect(r.body).toContain('Online orders are not available');
      const api = await none.call('POST', '/v1/orders', {
        key: null,
        body: { name: 'N', email: 'n@example.test', country: 'GB', amount: 10_000_000, paymentMethod: 'card' },
      });
      expect(api.statusCode).toBe(404);
      expect(api.json().code).toBe('ORDERS_UNAVAILABLE');
    } finally {
      await none.close();
    }
  });

  it('a visitor orders, confirms the code from the mail, pays on the test page, and gets the account and the welcome mail', async () => {
    const page = await h.app.inject({ method: 'GET', url: '/order' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-security-policy']).toBe(CSP);
    const pre = cookieOf(page.headers, 'ss_pre');
    const fields = { name: 'Petra Page', email: 'petra@example.test', country: 'gb', amount: '15.50', paymentMethod: 'card' };

    // no CSRF token, or another site's origin: refused, nothing stored
    const orders = async () => (await h.s.pool.query<{ n: number }>('select count(*)::int as n from orders')).rows[0]!.n;
    expect((await post('/order', pre, fields)).headers.location).toBe('/order?e=common.csrf');
    const f = form({ ...fields, _csrf: csrfOf(page.body) });
    const foreign = await h.app.inject({
      method: 'POST',
      url: '/order',
      headers: { cookie: pre, origin: 'https://evil.example', 'content-type': f['content-type'] },
      payload: f.payload,
    });
    expect(foreign.headers.location).toBe('/order?e=common.csrf');
    expect(await orders()).toBe(0);

    const placed = await post('/order', pre, { ...fields, _csrf: csrfOf(page.body) });
    expect(placed.statusCode).toBe(303);
    const id = /^\/order\/(ord_[A-Za-z0-9_-]{22})$/.exec(String(placed.headers.location))![1]!;
    const cookie = cookieOf(placed.headers, 'ss_order');
    expect(String(placed.headers['set-cookie'])).toMatch(/ss_order=[^;]+; Path=\/; HttpOnly; SameSite=Strict/);

    // another browser (no cookie) sees nothing of it
    expect((await h.app.inject({ method: 'GET', url: `/order/${id}` })).statusCode).toBe(404);

    const status = await h.app.inject({ method: 'GET', url: `/order/${id}`, headers: { cookie } });
    expect(status.body).toContain('£15.50');
    expect(status.body).toContain('name="code"');
    await sink.deliver(h.ctx.outbox, 'hello@softswitch.test');
    const mail = sink.received.find((m) => m.envelopeTo[0] === 'petra@example.test')!;
    expect(mail.parsed.text).toContain(`http://localhost/order/${id}`);
    const code = /(ev_[A-Za-z0-9_-]{43})/.exec(mail.parsed.text!)![1]!;
    const csrf = csrfOf(status.body);
    expect((await post(`/order/${id}/verify`, cookie, { _csrf: csrf, code: 'ev_wrong' })).headers.location).toBe(`/order/${id}?e=order.codeWrong`);
    expect((await post(`/order/${id}/verify`, cookie, { _csrf: csrf, code })).headers.location).toBe(`/order/${id}`);

    const payPage = await h.app.inject({ method: 'GET', url: `/order/${id}`, headers: { cookie } });
    expect(payPage.body).toContain(`action="/order/${id}/pay"`);
    const pay = await post(`/order/${id}/pay`, cookie, { _csrf: csrf });
    expect(pay.headers.location).toBe(`http://localhost/order/${id}/test-pay`);
    const testPage = await h.app.inject({ method: 'GET', url: `/order/${id}/test-pay`, headers: { cookie } });
    expect(testPage.body).toContain('Payment succeeds');
    expect((await post(`/order/${id}/test-pay`, cookie, { _csrf: csrfOf(testPage.body), outcome: 'paid' })).headers.location).toBe(
      `/order/${id}?m=order.returned`,
    );

    const done = await h.app.inject({ method: 'GET', url: `/order/${id}?m=order.returned`, headers: { cookie } });
    const number = /Your account ([0-9]+) is open/.exec(done.body)![1]!;
    const { rows } = await h.s.pool.query<{ id: string }>('select id from accounts where number = $1', [number]);
    expect((await h.s.store.get(Number(rows[0]!.id)))!.balance).toBe(15_500_000);
    await sink.deliver(h.ctx.outbox, 'hello@softswitch.test');
    const welcome = sink.received.find((m) => m.envelopeTo[0] === 'petra@example.test' && m.parsed.subject?.startsWith('Welcome'))!;
    expect(welcome.parsed.text).toMatch(/http:\/\/localhost\/my\/set-password\?token=pl_[A-Za-z0-9_-]{43}/);
    // paying again on the test page: the order is not awaiting payment any more
    expect((await post(`/order/${id}/test-pay`, cookie, { _csrf: csrfOf(testPage.body), outcome: 'paid' })).statusCode).toBe(409);
  });

  it('throttles orders per address (a bot filling the form gets a page, not a mail each)', async () => {
    // two attempts of this address were counted above (the order and the well-formed code; a malformed code is refused by the schema first);
    // the window allows four
    const base = { name: 'Bo Bot', email: 'bot@example.test', country: 'GB', amount: 10_000_000, paymentMethod: 'card' };
    expect((await h.call('POST', '/v1/orders', { key: null, body: base })).statusCode).toBe(201);
    expect((await h.call('POST', '/v1/orders', { key: null, body: base })).statusCode).toBe(201);
    const fourth = await h.call('POST', '/v1/orders', { key: null, body: base });
    expect(fourth.statusCode).toBe(429);
    expect(fourth.json().code).toBe('ORDER_THROTTLED');
    const page = await h.app.inject({ method: 'GET', url: '/order' });
    const r = await post('/order', cookieOf(page.headers, 'ss_pre'), { _csrf: csrfOf(page.body), ...base, amount: '10' });
    expect(r.statusCode).toBe(429);
    expect(r.body).toContain('Too many orders from your address');
  });
});
