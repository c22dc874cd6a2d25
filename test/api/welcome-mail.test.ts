/**
 * The welcome mail: an account opened for a customer with an address mails its number, user name
 * and the access numbers, and no password: a one-time link to choose one, which works once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SmtpSink } from '../support/smtp-sink.ts';
import { body, expectProblem, harness } from './api-harness.ts';
import type { Harness } from './api-harness.ts';

let h: Harness;
let sink: SmtpSink;
beforeAll(async () => {
  h = await harness('apiwelcome', { mail: { linkBaseUrl: 'https://selfcare.example.test', retry: { baseSeconds: 1, maxSeconds: 2, maxAttempts: 5 } } });
  sink = await new SmtpSink().start();
});
afterAll(async () => {
  await sink?.stop();
  await h?.close();
});

describe('welcome mail', () => {
  it('carries the account number, user name and access numbers, never a password, and a link that sets the password once', async () => {
    await h.ctx.routing.putAccessNumber('+441130001111', {});
    const c = await h.call('POST', '/v1/customers', { body: { name: 'Wendy Welcome', email: 'wendy@example.test' } });
    expect(c.statusCode).toBe(201);
    const customerId = body(c).id as number;
    const a = await h.call('POST', '/v1/accounts', { body: { customerId, currency: 'GBP' } });
    expect(a.statusCode).toBe(201);
    const number = body(a).number as string;

    const before = sink.received.length;
    await sink.deliver(h.ctx.outbox, 'hello@softswitch.test');
    await sink.waitFor(before + 1);
    const m = sink.received.slice(before).find((x) => x.envelopeTo[0] === 'wendy@example.test')!;
    expect(m.parsed.subject).toBe(`Welcome, Wendy Welcome: your calling account ${number}`);
    expect(m.parsed.text).toContain(`Account number: ${number}`);
    expect(m.parsed.text).toContain(`Self-care user name: ${number}`);
    expect(m.parsed.text).toContain('  - +441130001111');
    expect(m.parsed.text).not.toMatch(/PIN:|Password:/);
    const link = /https:\/\/selfcare\.example\.test\/my\/set-password\?token=(pl_[A-Za-z0-9_-]{43})/.exec(m.parsed.text!)!;
    const token = link[1]!;
    // the outbox keeps no copy of the link once it is sent
    const { rows } = await h.s.pool.query("select body_text from mail_outbox where template = 'welcome' and customer_id = $1", [customerId]);
    expect(rows).toEqual([{ body_text: null }]);

    const verified = async () =>
      (await h.s.pool.query<{ v: boolean }>('select email_verified_at is not null as v from customers where id = $1', [customerId])).rows[0]!.v;
    expect(await verified()).toBe(false);
    const page = await h.app.inject({ method: 'GET', url: `/my/set-password?token=${token}` });
    expect(page.body).toContain(`name="token" value="${token}"`);
    expectProblem(expect, await h.call('POST', '/v1/self/password-link', { key: null, body: { token, newPassword: 'password' } }), 400, 'WEAK_PASSWORD');
    const set = await h.call('POST', '/v1/self/password-link', { key: null, body: { token, newPassword: 'violet staircase 1987' } });
    expect(body(set)).toEqual({ username: number });
    expect(await verified()).toBe(true); // the link reached the mailbox it was sent to
    expectProblem(
      expect,
      await h.call('POST', '/v1/self/password-link', { key: null, body: { token, newPassword: 'another good one 2025' } }),
      404,
      'NOT_FOUND',
    );
    const login = await h.app.inject({ method: 'POST', url: '/v1/self/login', payload: { username: number, password: 'violet staircase 1987' } });
    expect(login.statusCode).toBe(200);
    const changed = await h.s.pool.query("select count(*)::int as n from mail_outbox where template = 'credential_changed' and customer_id = $1", [customerId]);
    expect(changed.rows[0].n).toBe(1);
  });

  it('the link does not verify an address changed after it was sent', async () => {
    const c = await h.call('POST', '/v1/customers', { body: { name: 'Walter Welcome', email: 'walter@example.test' } });
    const customerId = body(c).id as number;
    const a = await h.call('POST', '/v1/accounts', { body: { customerId, currency: 'GBP' } });
    expect(a.statusCode).toBe(201);
    const { token } = await h.ctx.passwordLinks.issue(body(a).id as number, 'walter@example.test');
    await h.s.pool.query("update customers set email = 'someone.else@example.test' where id = $1", [customerId]);
    expect((await h.call('POST', '/v1/self/password-link', { key: null, body: { token, newPassword: 'violet staircase 1987' } })).statusCode).toBe(200);
    const { rows } = await h.s.pool.query('select email_verified_at from customers where id = $1', [customerId]);
    expect(rows).toEqual([{ email_verified_at: null }]);
  });

  it('a link token that is not well-formed text (a lone surrogate in a JSON form post) is refused with 400, never a 500', async () => {
    const r = await h.app.inject({
      method: 'POST',
      url: '/my/set-password',
      headers: { 'content-type': 'application/json' },
      payload: '{"_csrf":"x","token":"\\ud800","newPassword":"violet staircase 1987"}',
    });
    expect(r.statusCode).toBe(400);
  });
});
