/**
 * Online orders paid through Stripe Checkout: the official `stripe` library talks to a fake of
 * Stripe's API on loopback (test/support/fake-stripe.ts), webhooks are signed with
 * `stripe.webhooks.generateTestHeaderString`, mail goes to a real SMTP server on loopback.
 */
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LedgerWriter } from '../../src/ledger/ledger-writer.ts';
import { PostgresLedgerSink } from '../../src/ledger/postgres-ledger-sink.ts';
import { StripeCheckout } from '../../src/accounts/payments/stripe-checkout.ts';
import { dropExpiredPaymentReferences } from '../../src/privacy/retention.ts';
import { FakeStripe } from '../support/fake-stripe.ts';
import { SmtpSink } from '../support/smtp-sink.ts';
import { body, expectProblem, harness } from './api-harness.ts';
import type { Harness } from './api-harness.ts';

const WEBHOOK_SECRET = 'whsec_test_0123456789abcdefghijklmnop';
const stripe = new Stripe('sk_test_signing_only_0123456789');

let h: Harness;
let sink: SmtpSink;
let fake: FakeStripe;
beforeAll(async () => {
  fake = await new FakeStripe().start();
  sink = await new SmtpSink().start();
  const checkout = new StripeCheckout({
    secretKey: 'sk_test_0123456789abcdefghij',
    webhookSecret: WEBHOOK_SECRET,
    api: { host: '127.0.0.1', port: fake.port, protocol: 'http' },
  });
  h = await harness(
    'apiorders',
    {
      mail: { linkBaseUrl: 'https://shop.example.test', retry: { baseSeconds: 1, maxSeconds: 2, maxAttempts: 5 } },
      orders: { currency: 'GBP', minAmount: 5_000_000, maxAmount: 50_000_000, expiryMinutes: 60, maxPerSource: 1000, windowSeconds: 3600 },
    },
    { checkout },
  );
});
afterAll(async () => {
  await h?.close();
  await sink?.stop();
  await fake?.stop();
});

const mailsTo = (to: string) => sink.received.filter((m) => m.envelopeTo[0] === to);

async function deliver(): Promise<void> {
  const before = sink.received.length;
  await sink.deliver(h.ctx.outbox, 'hello@softswitch.test');
  if (sink.received.length === before) await sink.waitFor(before + 1);
}

async function placeOrder(email: string, amount = 20_000_000): Promise<{ id: string; token: string }> {
  const r = await h.call('POST', '/v1/orders', { key: null, body: { name: 'Olive Orderer', email, country: 'GB', amount, paymentMethod: 'card' } });
  expect(r.statusCode).toBe(201);
  const o = body(r);
  expect(o.status).toBe('awaiting_email');
  return { id: o.id as string, token: o.statusToken as string };
}

/** The code from the verification mail (the mail the e-mail verification sends), entered. */
async function verify(o: { id: string; token: string }, email: string): Promise<void> {
  await deliver();
  const m = mailsTo(email).at(-1)!;
  expect(m.parsed.text).toContain(`https://shop.example.test/order/${o.id}`);
  const code = /(ev_[A-Za-z0-9_-]{43})/.exec(m.parsed.text!)![1]!;
  const r = await h.call('POST', `/v1/orders/${o.id}/verify-email`, { key: null, body: { token: o.token, code } });
  expect(r.statusCode).toBe(200);
  expect(body(r).status).toBe('awaiting_payment');
}

async function checkout(o: { id: string; token: string }): Promise<string> {
  const r = await h.call('POST', `/v1/orders/${o.id}/checkout`, { key: null, body: { token: o.token } });
  expect(r.statusCode).toBe(200);
  const url = body(r).checkoutUrl as string;
  return /\/(cs_test_[A-Za-z0-9_]+)$/.exec(url)![1]!;
}

function sessionEvent(eventId: string, type: string, s: { id: string; orderId: string; amount?: number; currency?: string; paid?: boolean }): string {
  return JSON.stringify({
    id: eventId,
    object: 'event',
    api_version: '2025-01-01',
    created: Math.floor(Date.now() / 1000),
    type,
    data: {
      object: {
        id: s.id,
        object: 'checkout.session',
        mode: 'payment',
        amount_total: s.amount ?? 2000,
        currency: s.currency ?? 'gbp',
        payment_status: s.paid === false ? 'unpaid' : 'paid',
        payment_intent: `pi_${eventId}`,
        metadata: { orderId: s.orderId },
        client_reference_id: s.orderId,
      },
    },
  });
}

function webhook(payload: string, signature = stripe.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET })) {
  return h.app.inject({
    method: 'POST',
    url: '/v1/payments/stripe/webhook',
    headers: { 'content-type': 'application/json', 'stripe-signature': signature },
    payload,
  });
}

async function orderStatus(o: { id: string; token: string }) {
  const r = await h.call('GET', `/v1/orders/${o.id}?token=${o.token}`, { key: null });
  expect(r.statusCode).toBe(200);
  return body(r);
}

/** The ledger writer moves the Redis stream (credits) into Postgres (topups, ledger). */
async function drain(): Promise<void> {
  const w = new LedgerWriter(h.s.newRedis(), new PostgresLedgerSink(h.s.pool), {
    streams: h.s.store.keys.allStreams(),
    deadLetterStream: `${h.s.namespace}:deadletter`,
    consumer: 'test',
    logger: h.s.logger,
  });
  await w.drain();
}

const count = async (sql: string, args: unknown[] = []): Promise<number> => (await h.s.pool.query<{ n: number }>(sql, args)).rows[0]!.n;

describe('online order paid through Stripe Checkout', () => {
  it('order → e-mail code → checkout → signed webhook: account opened, credited once, welcome mail with the password link', async () => {
    await h.ctx.routing.putAccessNumber('+441130002222', {});
    const email = 'olive@example.test';
    const o = await placeOrder(email);
    expectProblem(expect, await h.call('POST', `/v1/orders/${o.id}/checkout`, { key: null, body: { token: o.token } }), 409, 'ORDER_STATE');
    await verify(o, email);

    const sessionId = await checkout(o);
    const sent = fake.requests.at(-1)!;
    expect(sent.path).toBe('/v1/checkout/sessions');
    expect(sent.params.get('mode')).toBe('payment');
    expect(sent.params.get('line_items[0][price_data][unit_amount]')).toBe('2000'); // 20 000 000 micro-units = £20.00 = 2000 pence
    expect(sent.params.get('line_items[0][price_data][currency]')).toBe('gbp');
    expect(sent.params.get('metadata[orderId]')).toBe(o.id);
    expect(sent.params.get('customer_email')).toBe(email);
    expect(sent.headers['idempotency-key']).toBe(`order-${o.id}-checkout`);
    expect(sent.headers.authorization).toBe('Bearer sk_test_0123456789abcdefghij');
    // a second press of "pay" reopens the same session (same idempotency key)
    expect(await checkout(o)).toBe(sessionId);

    const payload = sessionEvent('evt_paid_1', 'checkout.session.completed', { id: sessionId, orderId: o.id });
    const r = await webhook(payload);
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ received: true, outcome: 'completed' });

    const st = await orderStatus(o);
    expect(st.status).toBe('completed');
    const number = st.accountNumber as string;
    expect(number).toMatch(/^[0-9]+$/);
    const { rows } = await h.s.pool.query<{ id: string; customerId: string }>('select id, customer_id as "customerId" from accounts where number = $1', [
      number,
    ]);
    const accountId = Number(rows[0]!.id);
    expect((await h.s.store.get(accountId))!.balance).toBe(20_000_000);
    await drain();
    expect(await count('select count(*)::int as n from topups where account_id = $1', [accountId])).toBe(1);
    expect(
      await count(`select count(*)::int as n from audit_log where action = 'topup' and subject_account_id = $1 and actor = $2`, [accountId, `order:${o.id}`]),
    ).toBe(1);
    const customer = await h.s.pool.query('select name, email, email_verified_at is not null as verified from customers where id = $1', [rows[0]!.customerId]);
    expect(customer.rows[0]).toEqual({ name: 'Olive Orderer', email, verified: true });

    await deliver();
    const welcome = mailsTo(email).find((m) => m.parsed.subject?.startsWith('Welcome'))!;
    expect(welcome.parsed.subject).toBe(`Welcome, Olive Orderer: your calling account ${number}`);
    expect(welcome.parsed.text).toContain('  - +441130002222');
    expect(welcome.parsed.text).not.toMatch(/PIN:|Password:/);
    const link = /https:\/\/shop\.example\.test\/my\/set-password\?token=(pl_[A-Za-z0-9_-]{43})/.exec(welcome.parsed.text!)!;
    const set = await h.call('POST', '/v1/self/password-link', { key: null, body: { token: link[1], newPassword: 'violet staircase 1987' } });
    expect(body(set)).toEqual({ username: number });

    // replayed (Stripe retries; an attacker repeats it): nothing happens twice
    const again = await webhook(payload);
    expect(again.json()).toEqual({ received: true, outcome: 'duplicate' });
    // another signed "paid" event for the same order (a second payment): not credited, reported
    const second = await webhook(sessionEvent('evt_paid_2', 'checkout.session.completed', { id: sessionId, orderId: o.id }));
    expect(second.json()).toEqual({ received: true, outcome: 'already_paid' });
    expect((await h.s.store.get(accountId))!.balance).toBe(20_000_000);
    await drain();
    expect(await count('select count(*)::int as n from topups where account_id = $1', [accountId])).toBe(1);
    expect(await count('select count(*)::int as n from accounts where customer_id = $1', [rows[0]!.customerId])).toBe(1);
    await deliver().catch(() => undefined);
    expect(mailsTo(email).filter((m) => m.parsed.subject?.startsWith('Welcome'))).toHaveLength(1);
    expect(h.logs.join('')).not.toContain(link[1]);
  });

  it('a forged or altered webhook is refused with 400 and changes nothing', async () => {
    const email = 'forger@example.test';
    const o = await placeOrder(email);
    await verify(o, email);
    const sessionId = await checkout(o);
    const events = await count('select count(*)::int as n from payment_events');
    const payload = sessionEvent('evt_forged_1', 'checkout.session.completed', { id: sessionId, orderId: o.id });

    const wrongSecret = stripe.webhooks.generateTestHeaderString({ payload, secret: 'whsec_someone_elses_secret_000' });
    const forged = await webhook(payload, wrongSecret);
    expectProblem(expect, forged, 400, 'WEBHOOK_SIGNATURE_INVALID');

    // a genuine signature over another body, with the amount raised
    const altered = payload.replace('"amount_total":2000', '"amount_total":5000');
    expectProblem(
      expect,
      await webhook(altered, stripe.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET })),
      400,
      'WEBHOOK_SIGNATURE_INVALID',
    );
    expectProblem(expect, await webhook(payload, ''), 400, 'WEBHOOK_SIGNATURE_INVALID');
    // signed correctly but long ago (a captured webhook replayed after the tolerance)
    const old = stripe.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET, timestamp: Math.floor(Date.now() / 1000) - 3600 });
    expectProblem(expect, await webhook(payload, old), 400, 'WEBHOOK_SIGNATURE_INVALID');

    expect(await count('select count(*)::int as n from payment_events')).toBe(events);
    expect((await orderStatus(o)).status).toBe('awaiting_payment');
  });

  it.each([
    ['amount', { amount: 1000 }],
    ['currency', { currency: 'eur' }],
  ])('a payment whose %s is not the order’s flags the order and credits nothing', async (what, change) => {
    const email = `mismatch-${what}@example.test`;
    const o = await placeOrder(email);
    await verify(o, email);
    const sessionId = await checkout(o);
    const topups = await count('select count(*)::int as n from topups');
    const r = await webhook(sessionEvent(`evt_mismatch_${what}`, 'checkout.session.completed', { id: sessionId, orderId: o.id, ...change }));
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ received: true, outcome: 'flagged' });
    const st = await orderStatus(o);
    expect(st).toMatchObject({ status: 'flagged', accountNumber: null });
    expect(await count('select count(*)::int as n from topups')).toBe(topups);
    expect(h.logs.some((l) => l.includes('"level":50') && l.includes('payment does not match the order'))).toBe(true);
  });

  it('checkout.session.expired fails the order; an unpaid order expires, its checkout and code stop working and its personal data is blanked', async () => {
    const email = 'late@example.test';
    const o = await placeOrder(email);
    await verify(o, email);
    const sessionId = await checkout(o);
    expect((await webhook(sessionEvent('evt_expired_1', 'checkout.session.expired', { id: sessionId, orderId: o.id, paid: false }))).json()).toEqual({
      received: true,
      outcome: 'failed',
    });
    expect((await orderStatus(o)).status).toBe('failed');

    const p = await placeOrder('slow@example.test');
    await h.s.pool.query(`update orders set expires_at = now() - interval '1 second' where id = $1`, [p.id]);
    expect(await h.ctx.orders.expire()).toEqual({ expired: 1 });
    expect((await orderStatus(p)).status).toBe('expired');
    expectProblem(
      expect,
      await h.call('POST', `/v1/orders/${p.id}/verify-email`, { key: null, body: { token: p.token, code: `ev_${'a'.repeat(43)}` } }),
      409,
      'ORDER_STATE',
    );
    expectProblem(expect, await h.call('POST', `/v1/orders/${p.id}/checkout`, { key: null, body: { token: p.token } }), 409, 'ORDER_STATE');
    const { rows } = await h.s.pool.query('select name, email from orders where id = $1', [p.id]);
    expect(rows[0]).toEqual({ name: null, email: null });
  });

  it('refuses amounts outside the operator’s range, bad codes, and anyone without the status token', async () => {
    const base = { name: 'Ray Range', email: 'ray@example.test', country: 'GB', paymentMethod: 'card' };
    expectProblem(expect, await h.call('POST', '/v1/orders', { key: null, body: { ...base, amount: 4_990_000 } }), 400, 'INVALID_AMOUNT');
    expectProblem(expect, await h.call('POST', '/v1/orders', { key: null, body: { ...base, amount: 50_010_000 } }), 400, 'INVALID_AMOUNT');
    expectProblem(expect, await h.call('POST', '/v1/orders', { key: null, body: { ...base, amount: 10_000_001 } }), 400, 'INVALID_AMOUNT'); // not whole pence
    expectProblem(
      expect,
      await h.call('POST', '/v1/orders', { key: null, body: { ...base, amount: 10_000_000, paymentMethod: 'cash' } }),
      400,
      'VALIDATION_FAILED',
    );
    const o = await placeOrder('ray@example.test');
    const other = `ot_${'b'.repeat(43)}`;
    expectProblem(expect, await h.call('GET', `/v1/orders/${o.id}?token=${other}`, { key: null }), 404, 'NOT_FOUND');
    for (let i = 0; i < 5; i++)
      expectProblem(
        expect,
        await h.call('POST', `/v1/orders/${o.id}/verify-email`, { key: null, body: { token: o.token, code: `ev_${String(i).repeat(43)}` } }),
        400,
        'VERIFICATION_FAILED',
      );
    // the right code after five wrong ones: still refused
    await deliver();
    const code = /(ev_[A-Za-z0-9_-]{43})/.exec(mailsTo('ray@example.test').at(-1)!.parsed.text!)![1]!;
    expectProblem(expect, await h.call('POST', `/v1/orders/${o.id}/verify-email`, { key: null, body: { token: o.token, code } }), 400, 'VERIFICATION_FAILED');
  });

  it('provider references of orders and their events are dropped after the retention period', async () => {
    const email = 'kept@example.test';
    const o = await placeOrder(email);
    await verify(o, email);
    const sessionId = await checkout(o);
    await webhook(sessionEvent('evt_retention_1', 'checkout.session.completed', { id: sessionId, orderId: o.id }));
    await h.s.pool.query(`update orders set created_at = now() - interval '25 months' where id = $1`, [o.id]);
    await h.s.pool.query(`update payment_events set received_at = now() - interval '25 months' where event_id = 'evt_retention_1'`);
    await dropExpiredPaymentReferences(h.s.pool, new Date(), 24);
    const { rows } = await h.s.pool.query('select checkout_id, provider_reference, email from orders where id = $1', [o.id]);
    expect(rows[0]).toEqual({ checkout_id: null, provider_reference: null, email: null });
    expect(await count(`select count(*)::int as n from payment_events where event_id = 'evt_retention_1'`)).toBe(0);
    expect((await orderStatus(o)).status).toBe('completed'); // the order itself stays (its account and credit are in the ledger)
  });
  it("erasing the customer blanks the order's name, address and provider references", async () => {
    const email = 'erase.me@example.test';
    const o = await placeOrder(email);
    await verify(o, email);
    const sessionId = await checkout(o);
    await webhook(sessionEvent('evt_erasure_1', 'checkout.session.completed', { id: sessionId, orderId: o.id }));
    const { rows } = await h.s.pool.query<{ customerId: string }>('select customer_id as "customerId" from orders where id = $1', [o.id]);
    // first the right of access: the export holds the order
    const exported = await h.call('GET', `/v1/customers/${rows[0]!.customerId}/export`);
    expect(exported.statusCode).toBe(200);
    expect((body(exported).orders as Record<string, unknown>[]).map((x) => [x.id, x.email, x.amount, x.status])).toEqual([
      [o.id, email, 20_000_000, 'completed'],
    ]);
    const erased = await h.call('POST', `/v1/customers/${rows[0]!.customerId}/erasure`);
    expect(erased.statusCode).toBe(200);
    const after = await h.s.pool.query('select name, email, country, checkout_id, provider_reference from orders where id = $1', [o.id]);
    expect(after.rows[0]).toEqual({ name: null, email: null, country: null, checkout_id: null, provider_reference: null });
  });
  it('the same event delivered five times at once credits once; the pay page lets its form lead to Stripe only', async () => {
    const email = 'racer@example.test';
    const o = await placeOrder(email, 30_000_000);
    await verify(o, email);
    const page = await h.app.inject({ method: 'GET', url: `/order/${o.id}`, headers: { cookie: `ss_order=${o.id}.${o.token}` } });
    expect(page.headers['content-security-policy']).toContain("form-action 'self' https://checkout.stripe.com;");
    const sessionId = await checkout(o);
    const payload = sessionEvent('evt_race_1', 'checkout.session.completed', { id: sessionId, orderId: o.id, amount: 3000 });
    const outcomes = (await Promise.all(Array.from({ length: 5 }, () => webhook(payload)))).map((r) => (r.json() as { outcome: string }).outcome);
    expect(outcomes.sort()).toEqual(['completed', 'duplicate', 'duplicate', 'duplicate', 'duplicate']);
    const st = await orderStatus(o);
    expect(st.status).toBe('completed');
    const { rows } = await h.s.pool.query<{ id: string; customerId: string }>('select id, customer_id as "customerId" from accounts where number = $1', [
      st.accountNumber,
    ]);
    expect((await h.s.store.get(Number(rows[0]!.id)))!.balance).toBe(30_000_000);
    expect(await count('select count(*)::int as n from accounts where customer_id = $1', [rows[0]!.customerId])).toBe(1);
    expect(await count(`select count(*)::int as n from audit_log where action = 'topup' and actor = $1`, [`order:${o.id}`])).toBe(1);
    // a completed order's page has no form leading elsewhere
    const done = await h.app.inject({ method: 'GET', url: `/order/${o.id}`, headers: { cookie: `ss_order=${o.id}.${o.token}` } });
    expect(done.headers['content-security-policy']).toContain("form-action 'self';");
  });
  it('a checkout opened late in the order’s life still stays open 30 minutes (Stripe’s minimum), and the order waits as long', async () => {
    const email = 'late.payer@example.test';
    const o = await placeOrder(email);
    await verify(o, email);
    await h.s.pool.query(`update orders set expires_at = now() + interval '10 minutes' where id = $1`, [o.id]);
    const before = fake.requests.length;
    await checkout(o);
    const sent = Number(fake.requests.at(-1)!.params.get('expires_at'));
    expect(sent * 1000 - Date.now()).toBeGreaterThanOrEqual(30 * 60_000);
    const { rows } = await h.s.pool.query<{ expiresAt: Date }>('select expires_at as "expiresAt" from orders where id = $1', [o.id]);
    expect(Math.floor(rows[0]!.expiresAt.getTime() / 1000)).toBe(sent);
    await checkout(o); // pressed again: the stored checkout, no second request to Stripe
    expect(fake.requests.length).toBe(before + 1);
  });
});
