/**
 * The mails an account's events send, from the API through the outbox to a real SMTP server on
 * loopback: top-up receipt (once per top-up), PIN and password changed (never the PIN),
 * low balance (once per crossing), auto top-up charged and declined, data export ready, and
 * erasure of the mails.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SmtpSink } from '../support/smtp-sink.ts';
import { body, harness } from './api-harness.ts';
import type { Harness } from './api-harness.ts';

let h: Harness;
let sink: SmtpSink;
beforeAll(async () => {
  h = await harness('apimail', { mail: { linkBaseUrl: 'https://selfcare.example.test', retry: { baseSeconds: 1, maxSeconds: 2, maxAttempts: 5 } } });
  sink = await new SmtpSink().start();
});
afterAll(async () => {
  await sink?.stop();
  await h?.close();
});

async function session(opts: { credit?: number } = {}) {
  const c = await h.customerWithAccount(opts);
  await h.s.pool.query('update customers set email_verified_at = now() where id = $1', [c.customerId]); // mails go to verified addresses only
  const r = await h.app.inject({ method: 'POST', url: '/v1/self/login', payload: { username: c.account.username, password: 'correct horse battery' } });
  expect(r.statusCode).toBe(200);
  return { ...c, token: body(r).token as string, email: await h.directoryEmail(c.customerId) };
}

async function mailsTo(email: string) {
  const { rows } = await h.s.pool.query<{ template: string; subject: string; body_text: string; status: string }>(
    'select template, subject, body_text, status from mail_outbox where recipient = $1 order by id',
    [email],
  );
  return rows;
}

async function deliver(): Promise<void> {
  await sink.deliver(h.ctx.outbox);
}

describe('mails of an account’s events', () => {
  it('an address not verified gets no mail about the account (a receipt, an export)', async () => {
    const c = await h.customerWithAccount();
    const email = await h.directoryEmail(c.customerId);
    const r = await h.call('POST', `/v1/accounts/${c.account.id}/topups`, {
      key: h.keys.billing,
      headers: { 'idempotency-key': 'unverified-receipt' },
      body: { amount: 1_000_000, provider: 'test', providerReference: 'unverified-1' },
    });
    expect(r.statusCode).toBe(201);
    await h.ctx.notices.dataExportReady(c.customerId, 'unverified-export');
    expect(await mailsTo(email)).toEqual([]);
  });

  it('an operator top-up queues one receipt, a replay of it none; the receipt arrives on the SMTP server', async () => {
    const me = await session();
    const topUp = () =>
      h.call('POST', `/v1/accounts/${me.account.id}/topups`, {
        key: h.keys.billing,
        headers: { 'idempotency-key': 'receipt-1' },
        body: { amount: 12_500_000, providerReference: 'PAY-778' },
      });
    expect((await topUp()).statusCode).toBe(201);
    expect((await topUp()).statusCode).toBe(200);
    const queued = await mailsTo(me.email);
    expect(queued.map((m) => [m.template, m.subject])).toEqual([['topup_receipt', `Receipt: 12.50 GBP added to account ${me.account.number}`]]);
    const before = sink.received.length;
    await deliver();
    await sink.waitFor(before + 1);
    const got = sink.received.find((m) => m.envelopeTo[0] === me.email)!;
    expect(got.parsed.text).toContain('Reference: PAY-778');
    expect(got.parsed.text).toContain('Balance after: 12.50 GBP');
    expect(got.parsed.from?.text).toBe('noreply@softswitch.test');
    expect((await mailsTo(me.email))[0]!.status).toBe('sent');
    const view = body(await h.call('GET', '/v1/mail/outbox', { key: h.keys.read }));
    expect(view).toMatchObject({ sent: 1, failed: 0, recent: [expect.objectContaining({ template: 'topup_receipt', status: 'sent', attempts: 1 })] });
    expect(JSON.stringify(view)).not.toContain(me.email);
  });

  it('a new PIN and a new password each mail the customer, and the mail never holds the PIN', async () => {
    const me = await session();
    const pin = body(await h.call('PUT', '/v1/self/pin', { key: me.token, body: { password: 'correct horse battery' } })).pin as string;
    expect(pin).toMatch(/^\d+$/);
    const pw = await h.call('PUT', '/v1/self/password', {
      key: me.token,
      body: { currentPassword: 'correct horse battery', newPassword: 'a much longer passphrase 42' },
    });
    expect(pw.statusCode).toBe(200);
    const mails = await mailsTo(me.email);
    expect(mails.map((m) => m.subject)).toEqual(['Your PIN was changed', 'Your password was changed']);
    for (const m of mails) {
      expect(m.body_text).not.toContain(pin);
      expect(m.body_text).not.toContain('a much longer passphrase 42');
    }
  });

  it('a low-balance warning goes once per crossing of the customer’s threshold, and again after the balance rose above it', async () => {
    const me = await session({ credit: 20_000_000 });
    const set = await h.call('PUT', '/v1/self/low-balance-alert', { key: me.token, body: { threshold: 5_000_000 } });
    expect(body(set)).toEqual({ threshold: 5_000_000 });
    expect((await h.call('PUT', '/v1/self/low-balance-alert', { key: me.token, body: { threshold: 1.5 } })).statusCode).toBe(400);
    await h.ctx.lowBalanceAlerts.run();
    expect(await mailsTo(me.email)).toEqual([]);
    await h.s.store.adjust(me.account.id, 'spend-1', -17_000_000, 'test');
    // several processes checking at once warn once
    await Promise.all([h.ctx.lowBalanceAlerts.run(), h.ctx.lowBalanceAlerts.run(), h.ctx.lowBalanceAlerts.run()]);
    await h.ctx.lowBalanceAlerts.run();
    let mails = await mailsTo(me.email);
    expect(mails.map((m) => m.template)).toEqual(['low_balance']);
    expect(mails[0]!.body_text).toContain('is 3.00 GBP, below the 5.00 GBP');
    await h.s.store.topUp(me.account.id, 'refill-1', 10_000_000, 'test', 'r1');
    await h.ctx.lowBalanceAlerts.run();
    await h.s.store.adjust(me.account.id, 'spend-2', -10_000_000, 'test');
    await h.ctx.lowBalanceAlerts.run();
    await h.ctx.lowBalanceAlerts.run();
    mails = await mailsTo(me.email);
    expect(mails.map((m) => m.template)).toEqual(['low_balance', 'low_balance']);
    expect(body(await h.call('PUT', '/v1/self/low-balance-alert', { key: me.token, body: { threshold: null } }))).toEqual({ threshold: null });
  });

  it('auto top-up: a charge mails a confirmation, a decline mails that it was switched off', async () => {
    const me = await session({ credit: 500_000 });
    await h.call('PUT', '/v1/self/auto-topup', {
      key: me.token,
      body: { enabled: true, threshold: 1_000_000, amount: 5_000_000, paymentToken: 'tok_test_ok' },
    });
    await h.ctx.autoTopUp.runOne(me.account.id);
    const other = await session({ credit: 500_000 });
    await h.call('PUT', '/v1/self/auto-topup', {
      key: other.token,
      body: { enabled: true, threshold: 1_000_000, amount: 5_000_000, paymentToken: 'tok_test_decline' },
    });
    await h.ctx.autoTopUp.runOne(other.account.id);
    expect((await mailsTo(me.email)).map((m) => m.subject)).toEqual(['Auto top-up: 5.00 GBP charged']);
    const declined = await mailsTo(other.email);
    expect(declined.map((m) => m.subject)).toEqual(['Auto top-up declined']);
    expect(declined[0]!.body_text).toContain('Auto top-up is now switched off.');
  });

  it('an operator’s export tells the customer it is ready; erasure leaves no address or body in any mail', async () => {
    const me = await session();
    expect((await h.call('GET', `/v1/customers/${me.customerId}/export`)).statusCode).toBe(200);
    const mails = await mailsTo(me.email);
    expect(mails.map((m) => [m.template, m.status])).toEqual([['data_export_ready', 'queued']]);
    expect(mails[0]!.body_text).toContain('https://selfcare.example.test/my/privacy');
    expect((await h.call('POST', `/v1/customers/${me.customerId}/erasure`)).statusCode).toBe(200);
    expect(await mailsTo(me.email)).toEqual([]);
    const { rows } = await h.s.pool.query(
      "select count(*)::int as n from mail_outbox where status = 'erased' and recipient is null and subject is null and body_text is null and body_html is null",
    );
    expect(rows[0].n).toBeGreaterThanOrEqual(1);
  });
});
