/**
 * Restriction of processing, exactly as the self-care page and docs/privacy.md state it (the
 * reproduction: calls, CDR reads by operators and top-ups carried on while the page said "only
 * where the law requires"). Stops: marketing; operator reads of the customer's personal data
 * without a stated purpose (single-customer reads refused, bulk reads leave the customer out);
 * with suspension, calls and auto top-up. Continues: storage, the customer's own access, calls and
 * top-ups of an account the customer kept active, reads for a stated purpose (audited).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { body, expectProblem, harness } from './api-harness.ts';
import type { Harness } from './api-harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await harness('restriction');
});
afterAll(async () => {
  await h?.close();
});

async function customerWithCalls(tag: string) {
  const c = await h.customerWithAccount({ username: `${tag}_user`, credit: 5_000_000 });
  await h.verifyEmail(c.customerId);
  const login = await h.app.inject({ method: 'POST', url: '/v1/self/login', payload: { username: `${tag}_user`, password: 'correct horse battery' } });
  const token = body(login).token as string;
  await h.s.pool.query('select ensure_cdr_partition(now())');
  await h.s.pool.query(
    `insert into cdrs (call_id, account_id, event_id, kind, cli, start_time, end_time, duration_ms, billed_seconds, cost, disposition)
     values ($1, $2, $3, 'device', '+447700900111', now() - interval '1 hour', now() - interval '59 minutes', 60000, 60, 100000, 'answered')`,
    [`${tag}-call`, c.account.id, `call:${c.account.id}:${tag}-call`],
  );
  await h.s.pool.query(
    `insert into ivr_sessions (call_id, event_id, account_id, access_number, start_time, end_time, duration_ms, outcome, pin_attempts, calls)
     values ($1, $2, $3, '+441632000100', now() - interval '2 hours', now() - interval '119 minutes', 60000, 'calls_placed', 1, 1)`,
    [`${tag}-ivr`, `ivr:${tag}`, c.account.id],
  );
  await h.call('PUT', '/v1/self/consents/customer', { key: token, body: { optedIn: true } });
  return { ...c, token };
}
const callIds = async (url: string, headers: Record<string, string> = {}) =>
  ((body(await h.call('GET', url, { headers })).items as { callId: string }[]) ?? []).map((x) => x.callId);

describe('restriction of processing', () => {
  it('operators read a restricted customer only for a stated purpose, which the audit trail keeps; bulk reads leave them out', async () => {
    const r = await customerWithCalls('restrictx');
    const other = await customerWithCalls('freey');
    // before: everything readable with no purpose
    expect((await h.call('GET', `/v1/customers/${r.customerId}`)).statusCode).toBe(200);
    expect((await h.call('POST', `/v1/customers/${r.customerId}/restriction`, { body: {} })).statusCode).toBe(200);
    const a = r.account.id;
    const single = [
      `/v1/customers/${r.customerId}`,
      `/v1/customers/${r.customerId}/export`,
      `/v1/accounts/${a}/clis`,
      `/v1/accounts/${a}/sip-credentials`,
      `/v1/accounts/${a}/ledger`,
      `/v1/cdrs?accountId=${a}`,
      `/v1/cdrs/export?accountId=${a}`,
      `/v1/ivr-sessions?accountId=${a}`,
    ];
    for (const url of single) {
      expectProblem(expect, await h.call('GET', url), 403, 'PURPOSE_REQUIRED');
      if (!url.endsWith('/export')) expectProblem(expect, await h.call('GET', url, { key: h.keys.read }), 403, 'PURPOSE_REQUIRED');
      expect((await h.call('GET', url, { headers: { 'x-purpose': 'legal_claim' } })).statusCode, url).toBe(200);
    }
    expectProblem(expect, await h.call('GET', `/v1/customers/${r.customerId}`, { headers: { 'x-purpose': 'marketing' } }), 400, 'VALIDATION_FAILED');
    // the other customer is read as before
    expect((await h.call('GET', `/v1/customers/${other.customerId}`)).statusCode).toBe(200);
    // bulk reads: the restricted customer's records are left out unless a purpose is stated
    expect(await callIds('/v1/cdrs?limit=500')).toContain('freey-call');
    expect(await callIds('/v1/cdrs?limit=500')).not.toContain('restrictx-call');
    expect(await callIds('/v1/cdrs?limit=500', { 'x-purpose': 'lawful_request' })).toContain('restrictx-call');
    const csv = (await h.call('GET', '/v1/cdrs/export')).body;
    expect(csv).toContain('freey-call');
    expect(csv).not.toContain('restrictx-call');
    expect(await callIds('/v1/ivr-sessions?limit=500')).not.toContain('restrictx-ivr');
    expect(await callIds('/v1/ivr-sessions?limit=500')).toContain('freey-ivr');
    const customers = async (headers: Record<string, string> = {}) =>
      ((body(await h.call('GET', '/v1/customers?limit=500', { headers })).items as { id: number }[]) ?? []).map((x) => x.id);
    expect(await customers()).not.toContain(r.customerId);
    expect(await customers({ 'x-purpose': 'customer_request' })).toContain(r.customerId);
    // each read with a purpose is in the trail with it
    const { rows } = await h.s.pool.query(
      "select action, detail->>'purpose' as purpose from audit_log where (subject_customer_id = $1 or subject_account_id = $2) and detail ? 'purpose' order by id",
      [r.customerId, a],
    );
    expect(rows.map((x) => x.action)).toEqual(
      expect.arrayContaining(['customer.read', 'cli.list', 'ledger.list', 'cdr.list', 'cdr.export', 'ivr_session.list']),
    );
    expect(new Set(rows.map((x) => x.purpose))).toEqual(new Set(['legal_claim', 'lawful_request', 'customer_request']));
    // lifted: no purpose needed again
    expect((await h.call('DELETE', `/v1/customers/${r.customerId}/restriction`)).statusCode).toBe(200);
    expect((await h.call('GET', `/v1/customers/${r.customerId}`)).statusCode).toBe(200);
    expect(await callIds('/v1/cdrs?limit=500')).toContain('restrictx-call');
  });

  it('the customer keeps their own access; marketing stops; an active account still calls and tops up; suspended, it does neither', async () => {
    const r = await customerWithCalls('restrictz');
    expect(await h.ctx.consents.recipients('customer').then((x) => x.map((y) => y.customerId))).toContain(r.customerId);
    expect((await h.call('POST', '/v1/self/restriction', { key: r.token, body: {} })).statusCode).toBe(200);
    // stops: marketing, and joining a list
    expect(await h.ctx.consents.recipients('customer').then((x) => x.map((y) => y.customerId))).not.toContain(r.customerId);
    expectProblem(expect, await h.call('PUT', '/v1/self/consents/potential_customer', { key: r.token, body: { optedIn: true } }), 400, 'VALIDATION_FAILED');
    // continues: the customer's own reads, the account (they kept it active), top-ups
    expect(((body(await h.call('GET', '/v1/self/cdrs', { key: r.token })).items as { callId: string }[]) ?? []).map((x) => x.callId)).toContain(
      'restrictz-call',
    );
    expect((await h.call('GET', '/v1/self/export', { key: r.token })).statusCode).toBe(200);
    expect((await h.s.store.get(r.account.id))?.status).toBe('active');
    const top = await h.call('POST', `/v1/accounts/${r.account.id}/topups`, {
      key: h.keys.billing,
      body: { amount: 1_000_000, provider: 'test' },
      headers: { 'idempotency-key': 'restricted-topup-1' },
    });
    expect(top.statusCode).toBe(201);
    // suspended as well: no calls (the live store refuses), and the session may still lift it
    expect(body(await h.call('POST', '/v1/self/restriction', { key: r.token, body: { suspendAccount: true } }))).toMatchObject({
      suspendedAccountIds: [r.account.id],
    });
    expect((await h.s.store.get(r.account.id))?.status).toBe('suspended');
    expect((await h.call('GET', '/v1/self/export', { key: r.token })).statusCode).toBe(200);
    expect(body(await h.call('DELETE', '/v1/self/restriction', { key: r.token }))).toMatchObject({ restrictedAt: null });
    expect((await h.s.store.get(r.account.id))?.status).toBe('active');
  });

  it("the operator console shows a restricted customer's data only once a purpose is chosen", async () => {
    const r = await customerWithCalls('restrictc');
    await h.call('PATCH', `/v1/customers/${r.customerId}`, { body: { name: 'Restricted Console Person' } });
    await h.call('POST', `/v1/customers/${r.customerId}/restriction`, { body: {} });
    const page = await h.app.inject({ method: 'GET', url: '/console/login' });
    const cookie = String(page.headers['set-cookie']).split(';')[0]!;
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!;
    const login = await h.app.inject({
      method: 'POST',
      url: '/console/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
      payload: `_csrf=${csrf}&key=${h.keys.admin}`,
    });
    const op = ([] as string[])
      .concat(login.headers['set-cookie'] as string[])
      .find((x) => x.startsWith('ss_op'))!
      .split(';')[0]!;
    const plain = await h.app.inject({ method: 'GET', url: `/console/accounts/${r.account.id}`, headers: { cookie: op } });
    expect(plain.statusCode).toBe(200);
    expect(plain.body).toContain('data-testid="restricted"');
    expect(plain.body).not.toContain('Restricted Console Person');
    expect(plain.body).not.toContain('+447700900111'); // the caller ID of its call record
    const shown = await h.app.inject({ method: 'GET', url: `/console/accounts/${r.account.id}?purpose=legal_claim`, headers: { cookie: op } });
    expect(shown.body).toContain('Restricted Console Person');
    expect(shown.body).not.toContain('data-testid="restricted"');
    expect(shown.body).toContain('+447700900111');
    const { rows } = await h.s.pool.query("select count(*)::int as n from audit_log where subject_customer_id = $1 and detail->>'purpose' = 'legal_claim'", [
      r.customerId,
    ]);
    expect(rows[0].n).toBeGreaterThan(0);
  });

  it('the self-care page says exactly this', async () => {
    const { T } = { T: (await import('../../src/api/web/texts.ts')).catalogues.en! };
    const text = T.privacy.restrictIntro;
    for (const phrase of [
      'no marketing',
      'only at your own request, for a legal claim',
      'when the law obliges us',
      'each look is recorded',
      'legal periods',
      'still call and top up',
      'makes no calls',
      'not charged for automatic top-ups',
    ])
      expect(text).toContain(phrase);
  });
});
