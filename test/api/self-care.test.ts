import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { body, expectProblem, harness, JSON_TYPE, snapshot } from './api-harness.ts';
import type { Harness } from './api-harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await harness('apiself');
});
afterAll(async () => {
  await h?.close();
});

const PASSWORD = 'correct horse battery';
async function login(username: string | null, password = PASSWORD, ip = '203.0.113.9') {
  return h.app.inject({ method: 'POST', url: '/v1/self/login', payload: { username, password }, remoteAddress: ip });
}
async function session(opts: { credit?: number } = {}) {
  const c = await h.customerWithAccount(opts);
  const r = await login(c.account.username);
  expect(r.statusCode).toBe(200);
  return { ...c, token: body(r).token as string };
}

describe('login', () => {
  it('logs in with username and password, logs out, and the token then stops working', async () => {
    const c = await h.customerWithAccount();
    const r = await login(c.account.username);
    expect(r.headers['content-type']).toBe(JSON_TYPE);
    expect(body(r)).toEqual({ token: expect.stringMatching(/^st_/), expiresAt: expect.any(String), accountId: c.account.id });
    const token = body(r).token as string;
    expect((await h.call('GET', '/v1/self', { key: token })).statusCode).toBe(200);
    expect(body(await h.call('POST', '/v1/self/logout', { key: token }))).toEqual({ ok: true });
    expectProblem(expect, await h.call('GET', '/v1/self', { key: token }), 401, 'UNAUTHENTICATED');
    expectProblem(expect, await login(c.account.username, 'wrong password'), 401, 'LOGIN_FAILED', 'wrong username or password');
    expectProblem(expect, await login('nobody-at-all'), 401, 'LOGIN_FAILED', 'wrong username or password');
  });

  it('throttles failed logins per username and per source address', async () => {
    const c = await h.customerWithAccount();
    for (let i = 0; i < 5; i++) expect((await login(c.account.username, 'wrong', `198.51.100.${i}`)).statusCode).toBe(401);
    expectProblem(expect, await login(c.account.username, PASSWORD, '198.51.100.99'), 429, 'LOGIN_THROTTLED');
    // per source: 20 failures from one address over many usernames
    for (let i = 0; i < 20; i++) await login(`someone${i}`, 'wrong', '192.0.2.77');
    const d = await h.customerWithAccount();
    expectProblem(expect, await login(d.account.username, PASSWORD, '192.0.2.77'), 429, 'LOGIN_THROTTLED');
    expect((await login(d.account.username, PASSWORD, '192.0.2.78')).statusCode).toBe(200);
  }, 120_000); // 27 password checks, each a deliberately slow hash: seconds on a loaded machine
});

describe('own data only', () => {
  it('reads own profile, balance and calls; corrects own contact data (audited)', async () => {
    const me = await session({ credit: 3_000_000 });
    const self = body(await h.call('GET', '/v1/self', { key: me.token }));
    expect(self).toMatchObject({ customer: { id: me.customerId }, account: { id: me.account.id } });
    expect(body(await h.call('GET', '/v1/self/balance', { key: me.token }))).toMatchObject({ accountId: me.account.id, balance: 3_000_000, currency: 'GBP' });
    expect(body(await h.call('PATCH', '/v1/self', { key: me.token, body: { city: 'Bath' } }))).toMatchObject({ id: me.customerId, city: 'Bath' });
    const { rows } = await h.s.pool.query("select actor, detail from audit_log where action = 'customer.rectify' and subject_customer_id = $1", [
      me.customerId,
    ]);
    expect(rows).toEqual([{ actor: `customer:${me.customerId}`, detail: { fields: ['city'] } }]);
    expect(body(await h.call('GET', '/v1/self/cdrs', { key: me.token }))).toEqual({ items: [], nextCursor: null });
    const csv = await h.call('GET', '/v1/self/cdrs/export', { key: me.token });
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
  });

  it('lists own calls in progress only: ringing without a number, then answered with the number dialled', async () => {
    const me = await session({ credit: 3_000_000 });
    const other = await session({ credit: 3_000_000 });
    expect(body(await h.call('GET', '/v1/self/calls/live', { key: me.token }))).toEqual({ items: [] });
    const t0 = Date.now();
    expect((await h.s.store.reserve(me.account.id, 'live-self-1', 1, 10_000, t0 + 60_000)).ok).toBe(true);
    expect((await h.s.store.reserve(other.account.id, 'live-other-1', 1, 10_000, t0 + 60_000)).ok).toBe(true);
    expect(body(await h.call('GET', '/v1/self/calls/live', { key: me.token }))).toEqual({
      items: [{ state: 'ringing', dialledNumber: null, startedAt: expect.any(String), answeredAt: null }],
    });
    await h.s.store.markAnswered(me.account.id, 'live-self-1', t0 + 1_000, '{}', JSON.stringify({ dialledNumber: '00441632960001' }), t0 + 60_000);
    expect(body(await h.call('GET', '/v1/self/calls/live', { key: me.token }))).toEqual({
      items: [{ state: 'answered', dialledNumber: '00441632960001', startedAt: expect.any(String), answeredAt: new Date(t0 + 1_000).toISOString() }],
    });
    await h.s.store.release(me.account.id, 'live-self-1');
    await h.s.store.release(other.account.id, 'live-other-1');
    expect(body(await h.call('GET', '/v1/self/calls/live', { key: me.token }))).toEqual({ items: [] });
  });

  it("a customer cannot reach another customer's data through any route", async () => {
    const a = await session();
    const b = await session();
    await h.accounts.addCli(b.account.id, '+447700933333', true);
    // self-care routes take no ids: only a caller ID can name something, and B's is not A's
    expectProblem(expect, await h.call('DELETE', '/v1/self/clis/%2B447700933333', { key: a.token }), 404, 'UNKNOWN_CLI');
    expect(await h.accounts.findAccountByCli('+447700933333')).toBe(b.account.id);
    // every operator route refuses a customer token, with B's ids or any other
    for (const r of h.routes.filter((x) => x.access !== 'public' && x.access !== 'customer')) {
      const url = r.url
        .replace(':accountId', String(b.account.id))
        .replace(':customerId', String(b.customerId))
        .replace(/:[A-Za-z]+/g, '1');
      const res = await h.call(r.method, url, { key: a.token, body: {} });
      expect(`${r.method} ${url} ${res.statusCode}`).toBe(`${r.method} ${url} 403`);
    }
    // and what A sees is A's
    const seen = JSON.stringify([
      body(await h.call('GET', '/v1/self', { key: a.token })),
      body(await h.call('GET', '/v1/self/export', { key: a.token })),
      body(await h.call('GET', '/v1/self/clis', { key: a.token })),
      body(await h.call('GET', '/v1/self/balance', { key: a.token })),
    ]);
    expect(seen).not.toContain(String(b.account.username));
    expect(seen).not.toContain('+447700933333');
  });
});

describe('credentials', () => {
  it('changes the PIN with the old PIN or the password; the new PIN appears once and never in logs', async () => {
    const me = await session();
    const old = await h.accounts.issuePin(me.account.id, '52738194');
    expectProblem(expect, await h.call('PUT', '/v1/self/pin', { key: me.token, body: { currentPin: '11111111' } }), 403, 'WRONG_CREDENTIAL');
    expectProblem(expect, await h.call('PUT', '/v1/self/pin', { key: me.token, body: {} }), 403, 'WRONG_CREDENTIAL');
    const r = await h.call('PUT', '/v1/self/pin', { key: me.token, body: { currentPin: old } });
    const second = body(r).pin as string;
    expect(second).toMatch(/^[1-9][0-9]{11}$/);
    const r2 = await h.call('PUT', '/v1/self/pin', { key: me.token, body: { password: PASSWORD } });
    const fresh = body(r2).pin as string;
    expect(fresh).toMatch(/^[1-9][0-9]{11}$/);
    expect(await h.accounts.findAccountByPin(fresh)).toBe(me.account.id);
    expect(await h.accounts.findAccountByPin(second)).toBeUndefined();
    expect(await h.accounts.findAccountByPin(old)).toBeUndefined();
    const logs = h.logs.join('');
    for (const p of [old, second, fresh]) expect(logs).not.toContain(p);
    for (const u of ['/v1/self', '/v1/self/export']) {
      const x = (await h.call('GET', u, { key: me.token })).body;
      for (const p of [old, second, fresh]) expect(x).not.toContain(p);
    }
  });

  it('changes the password only with the current one, and ends the other sessions', async () => {
    const me = await session();
    const second = body(await login(me.account.username)).token as string;
    expectProblem(
      expect,
      await h.call('PUT', '/v1/self/password', { key: me.token, body: { currentPassword: 'not it', newPassword: 'a brand new password' } }),
      403,
      'WRONG_CREDENTIAL',
    );
    expectProblem(
      expect,
      await h.call('PUT', '/v1/self/password', { key: me.token, body: { currentPassword: PASSWORD, newPassword: 'short' } }),
      400,
      'WEAK_PASSWORD',
    );
    expect(body(await h.call('PUT', '/v1/self/password', { key: me.token, body: { currentPassword: PASSWORD, newPassword: 'a brand new password' } }))).toEqual(
      { ok: true },
    );
    expect((await h.call('GET', '/v1/self', { key: me.token })).statusCode).toBe(200);
    expect((await h.call('GET', '/v1/self', { key: second })).statusCode).toBe(401);
    expect((await login(me.account.username, 'a brand new password')).statusCode).toBe(200);
    expect(h.logs.join('')).not.toContain('a brand new password');
  });
});

describe('caller IDs, auto top-up and marketing', () => {
  it('a caller ID the customer adds waits for operator approval, then authorises PIN-less calls', async () => {
    const me = await session();
    const r = await h.call('POST', '/v1/self/clis', { key: me.token, body: { cli: '+447700944444' } });
    expect(r.statusCode).toBe(202);
    expect(body(r)).toMatchObject({ cli: '+447700944444', status: 'pending_approval' });
    expect(await h.accounts.findAccountByCli('+447700944444')).toBeUndefined();
    const pending = body(await h.call('GET', `/v1/cli-requests?accountId=${me.account.id}`, { key: h.keys.read }));
    const id = (pending.items as { id: number }[])[0]!.id;
    expect(body(await h.call('POST', `/v1/cli-requests/${id}/approve`))).toMatchObject({ id, decision: 'approved' });
    expect(await h.accounts.findAccountByCli('+447700944444')).toBe(me.account.id);
    expectProblem(expect, await h.call('POST', `/v1/cli-requests/${id}/approve`), 404, 'UNKNOWN_CLI_REQUEST');
    const mine = body(await h.call('GET', '/v1/self/clis', { key: me.token }));
    expect(mine).toMatchObject({ authorised: [{ cli: '+447700944444' }], pending: [] });
    expect(body(await h.call('DELETE', '/v1/self/clis/%2B447700944444', { key: me.token }))).toEqual({ removed: true });
    expect(await h.accounts.findAccountByCli('+447700944444')).toBeUndefined();
  });

  it('auto top-up takes a provider token (never a card number) and charges below the threshold once', async () => {
    const me = await session({ credit: 500_000 });
    const before = await snapshot(h.s);
    expectProblem(
      expect,
      await h.call('PUT', '/v1/self/auto-topup', {
        key: me.token,
        body: { enabled: true, threshold: 1_000_000, amount: 5_000_000, paymentToken: '4111 1111 1111 1111' },
      }),
      400,
      'CARD_NUMBER_REFUSED',
    );
    expectProblem(
      expect,
      await h.call('PUT', '/v1/self/auto-topup', { key: me.token, body: { enabled: true, threshold: 1_000_000, amount: 5_000_000 } }),
      400,
      'VALIDATION_FAILED',
    );
    expect(await snapshot(h.s)).toBe(before);
    const r = await h.call('PUT', '/v1/self/auto-topup', {
      key: me.token,
      body: { enabled: true, threshold: 1_000_000, amount: 5_000_000, paymentToken: 'tok_test_ok' },
    });
    expect(body(r)).toMatchObject({ enabled: true, threshold: 1_000_000, amount: 5_000_000, provider: 'test', hasPaymentToken: true });
    expect(r.body).not.toContain('tok_test_ok');
    expect(await h.ctx.autoTopUp.run()).toMatchObject({ charged: 1 });
    expect(await h.ctx.autoTopUp.run()).toMatchObject({ charged: 0 });
    expect((await h.s.store.get(me.account.id))?.balance).toBe(5_500_000);
    expect(body(await h.call('GET', '/v1/self/auto-topup', { key: me.token }))).toMatchObject({ lastResult: 'charged', lastChargeAt: expect.any(String) });
  });

  it('opts in and out per list with timestamps kept as evidence', async () => {
    const me = await session();
    await h.verifyEmail(me.customerId);
    const r = body(await h.call('PUT', '/v1/self/consents/customer', { key: me.token, body: { optedIn: true } }));
    expect(r.items).toEqual([
      { list: 'customer', optedIn: true, consentedAt: expect.any(String), optedOutAt: null },
      { list: 'potential_customer', optedIn: false, consentedAt: null, optedOutAt: null },
    ]);
    expect((await h.ctx.consents.recipients('customer')).map((x) => x.customerId)).toContain(me.customerId);
    await h.call('PUT', '/v1/self/consents/customer', { key: me.token, body: { optedIn: false } });
    expect((await h.ctx.consents.recipients('customer')).map((x) => x.customerId)).not.toContain(me.customerId);
    expectProblem(expect, await h.call('PUT', '/v1/self/consents/newsletter', { key: me.token, body: { optedIn: true } }), 400, 'VALIDATION_FAILED');
    const { rows } = await h.s.pool.query('select list, action, actor from consent_events where customer_id = $1 order by id', [me.customerId]);
    expect(rows).toEqual([
      { list: 'customer', action: 'opt_in', actor: `customer:${me.customerId}` },
      { list: 'customer', action: 'opt_out', actor: `customer:${me.customerId}` },
    ]);
  });
});
