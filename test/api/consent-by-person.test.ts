/**
 * Marketing consent comes from the person only: an operator may record an opt-out for a customer,
 * never an opt-in (not after the customer's own opt-out, nor before); the customer opts back in
 * themselves in self-care.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { body, expectProblem, harness } from './api-harness.ts';
import type { Harness } from './api-harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await harness('consentperson');
});
afterAll(async () => {
  await h?.close();
});

async function customerSession() {
  const c = await h.customerWithAccount();
  const login = await h.app.inject({ method: 'POST', url: '/v1/self/login', payload: { username: c.account.username, password: 'correct horse battery' } });
  return { ...c, token: body(login).token as string };
}

describe('consent comes from the person', () => {
  it('an operator cannot opt a customer back in after their own opt-out (the reproduction), nor opt anyone in', async () => {
    const me = await customerSession();
    expect((await h.call('PUT', '/v1/self/consents/customer', { key: me.token, body: { optedIn: true } })).statusCode).toBe(200);
    expect((await h.call('PUT', '/v1/self/consents/customer', { key: me.token, body: { optedIn: false } })).statusCode).toBe(200);
    const events = async () =>
      (await h.s.pool.query('select count(*)::int as n from consent_events where customer_id = $1', [me.customerId])).rows[0].n as number;
    const before = await events();
    const r = await h.call('PUT', `/v1/customers/${me.customerId}/consents/customer`, { body: { optedIn: true } });
    expectProblem(expect, r, 403, 'CONSENT_BY_PERSON_ONLY');
    expect(await events()).toBe(before);
    expect((await h.ctx.consents.recipients('customer')).map((x) => x.customerId)).not.toContain(me.customerId);
    // a customer who never said anything cannot be opted in by an operator either
    const other = await h.customerWithAccount();
    expectProblem(
      expect,
      await h.call('PUT', `/v1/customers/${other.customerId}/consents/potential_customer`, { body: { optedIn: true } }),
      403,
      'CONSENT_BY_PERSON_ONLY',
    );
  });

  it('an operator may record an opt-out; the customer opts back in themselves', async () => {
    const me = await customerSession();
    await h.verifyEmail(me.customerId);
    expect((await h.call('PUT', '/v1/self/consents/customer', { key: me.token, body: { optedIn: true } })).statusCode).toBe(200);
    const out = await h.call('PUT', `/v1/customers/${me.customerId}/consents/customer`, { body: { optedIn: false } });
    expect(out.statusCode).toBe(200);
    expect((await h.ctx.consents.recipients('customer')).map((x) => x.customerId)).not.toContain(me.customerId);
    expect((await h.call('PUT', '/v1/self/consents/customer', { key: me.token, body: { optedIn: true } })).statusCode).toBe(200);
    expect((await h.ctx.consents.recipients('customer')).map((x) => x.customerId)).toContain(me.customerId);
    const { rows } = await h.s.pool.query('select action, actor from consent_events where customer_id = $1 order by id', [me.customerId]);
    expect(rows.map((x) => x.action)).toEqual(['opt_in', 'opt_out', 'opt_in']);
    expect(rows[0].actor).toBe(`customer:${me.customerId}`);
    expect(rows[2].actor).toBe(`customer:${me.customerId}`);
  });
});
