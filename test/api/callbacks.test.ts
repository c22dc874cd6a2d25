/**
 * Callback requests through the API: customers request their own, operators an account's
 * (audited); both numbers are read with the account's dialling plan and screened like a device's
 * call; limits per account and per number an hour (429); an accepted request is stored and queued
 * on the stream the SIP app processes read.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callbackStreamKey } from '../../src/accounts/callback-queue.ts';
import { body, expectProblem, harness, JSON_TYPE, selfCareSession } from './api-harness.ts';
import type { Harness } from './api-harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await harness('apicallback', { callbacks: { enabled: true, maxPerHour: 4, maxPerNumberPerHour: 2, accessNumbers: ['+441632960200', '+441632960201'] } });
});
afterAll(async () => {
  await h?.close();
});

async function session() {
  const c = await h.customerWithAccount({ password: 'correct horse battery' });
  const r = await h.app.inject({ method: 'POST', url: '/v1/self/login', payload: { username: c.account.username, password: 'correct horse battery' } });
  expect(r.statusCode).toBe(200);
  return { ...c, token: body(r).token as string };
}

const queued = async () => (await h.s.redis.xrange(callbackStreamKey(h.s.namespace), '-', '+')).map(([, f]) => f[1]);

describe('callbacks: self-care', () => {
  it('accepts a request with 202, keeps both numbers as the dialling plan reads them, queues it once and shows its status', async () => {
    const me = await session();
    const r = await h.call('POST', '/v1/self/callbacks', { key: me.token, body: { callMe: '07700 900101', connectTo: '+1 (212) 555-0101' } });
    expect(r.statusCode).toBe(202);
    expect(r.headers['content-type']).toBe(JSON_TYPE);
    const c = body(r);
    expect(c).toMatchObject({ status: 'queued', callMe: '+447700900101', connectTo: '+12125550101', origin: 'self-care', legACallId: null, legBCallId: null });
    expect((await queued()).filter((id) => id === c.id)).toHaveLength(1);
    expect(body(await h.call('GET', `/v1/self/callbacks/${c.id as string}`, { key: me.token }))).toEqual(c);
    const other = await session();
    expectProblem(expect, await h.call('GET', `/v1/self/callbacks/${c.id as string}`, { key: other.token }), 404, 'UNKNOWN_CALLBACK');
    expectProblem(expect, await h.call('GET', '/v1/self/callbacks/00000000-0000-0000-0000-000000000000', { key: me.token }), 404, 'UNKNOWN_CALLBACK');
    expectProblem(
      expect,
      await h.call('POST', '/v1/self/callbacks', { key: null, body: { callMe: '07700900101', connectTo: '+12125550101' } }),
      401,
      'UNAUTHENTICATED',
    );
  });

  it('refuses emergency, short, incomplete, blocked and identical numbers with problem+json; nothing is stored or queued', async () => {
    const me = await session();
    await h.s.pool.query("insert into destination_blocklist (prefix, reason) values ('4490', 'premium rate') on conflict do nothing");
    const before = (await queued()).length;
    for (const [b, status, code] of [
      [{ callMe: '999', connectTo: '+12125550102' }, 404, 'EMERGENCY_NOT_SUPPORTED'],
      [{ callMe: '07700900102', connectTo: '112' }, 404, 'EMERGENCY_NOT_SUPPORTED'],
      [{ callMe: '07700900102', connectTo: '118118' }, 404, 'SHORT_CODE_NOT_SUPPORTED'],
      [{ callMe: '07700900102', connectTo: '0207946' }, 400, 'ADDRESS_INCOMPLETE'],
      [{ callMe: '07700900102', connectTo: '+44 (0) 90 7946 0018' }, 403, 'DESTINATION_BLOCKED'],
      [{ callMe: '0907 946 0018', connectTo: '+12125550102' }, 403, 'DESTINATION_BLOCKED'],
      [{ callMe: '07700900102', connectTo: '+447700900102' }, 400, 'INVALID_CALLBACK'],
      [{ callMe: 'call me', connectTo: '+12125550102' }, 400, 'VALIDATION_FAILED'],
      [{ callMe: '07700900102' }, 400, 'VALIDATION_FAILED'],
      [{ callMe: '07700900102', connectTo: '+12125550102', extra: 1 }, 400, 'VALIDATION_FAILED'],
    ] as const)
      expectProblem(expect, await h.call('POST', '/v1/self/callbacks', { key: me.token, body: b }), status, code);
    expect((await queued()).length).toBe(before);
    const { rows } = await h.s.pool.query('select count(*)::int as n from callback_requests where account_id = $1', [me.account.id]);
    expect(rows[0].n).toBe(0);
  });

  it('limits requests per account an hour and per number an hour whatever the account (429); a refused request counts nothing', async () => {
    const a = await session();
    const req = (key: string, callMe: string, connectTo: string) => h.call('POST', '/v1/self/callbacks', { key, body: { callMe, connectTo } });
    // per number (2 an hour): a third request ringing +447700900201 is refused, from another account too
    expect((await req(a.token, '07700900201', '+12125550201')).statusCode).toBe(202);
    expect((await req(a.token, '07700900201', '+12125550202')).statusCode).toBe(202);
    const b = await session();
    expectProblem(expect, await req(b.token, '07700900201', '+12125550203'), 429, 'CALLBACK_LIMIT');
    expectProblem(expect, await req(b.token, '07700900209', '+447700900201'), 429, 'CALLBACK_LIMIT');
    // per account (4 an hour): the refusals above did not count against b
    for (let i = 0; i < 4; i++) expect((await req(b.token, `0770090030${i}`, `+1212555030${i}`)).statusCode).toBe(202);
    expectProblem(expect, await req(b.token, '07700900305', '+12125550305'), 429, 'CALLBACK_LIMIT');
    const { rows } = await h.s.pool.query('select count(*)::int as n from callback_requests where account_id = $1', [b.account.id]);
    expect(rows[0].n).toBe(4);
    // the counters name no phone number (a keyed hash of it)
    const keys = await h.s.redis.keys(`${h.s.namespace}:{callback}:*`);
    expect(keys.length).toBeGreaterThan(2);
    for (const k of keys) expect(k).not.toMatch(/7700900|212555/);
  });

  it('a closed account cannot request a callback', async () => {
    const me = await session();
    await h.s.pool.query("update accounts set status = 'closed' where id = $1", [me.account.id]);
    const r = await h.call('POST', `/v1/accounts/${me.account.id}/callbacks`, {
      key: h.keys.admin,
      body: { callMe: '07700900401', connectTo: '+12125550401' },
    });
    expectProblem(expect, r, 409, 'ACCOUNT_CLOSED');
  });
});

describe('callbacks: the menu kind', () => {
  it('menu: true asks to be called and put in the access-number menu: 202, no connectTo, only callMe screened and counted', async () => {
    const me = await session();
    const r = await h.call('POST', '/v1/self/callbacks', { key: me.token, body: { callMe: '07700 900151', menu: true } });
    expect(r.statusCode).toBe(202);
    const c = body(r);
    expect(c).toMatchObject({ status: 'queued', callMe: '+447700900151', connectTo: null, menu: true, origin: 'self-care' });
    expect((await queued()).filter((id) => id === c.id)).toHaveLength(1);
    expect(body(await h.call('GET', `/v1/self/callbacks/${c.id as string}`, { key: me.token }))).toEqual(c);
    const listed = body(await h.call('GET', '/v1/self/callbacks', { key: me.token })).items as Record<string, unknown>[];
    expect(listed[0]).toMatchObject({ id: c.id, menu: true, connectTo: null });
    // a request with a destination says so too
    const two = body(await h.call('POST', '/v1/self/callbacks', { key: me.token, body: { callMe: '07700900152', connectTo: '+12125550152', menu: false } }));
    expect(two).toMatchObject({ menu: false, connectTo: '+12125550152' });
  });

  it('refuses a request that is both or neither kind, and a bad callMe, with problem+json; nothing stored or queued', async () => {
    const me = await session();
    const before = (await queued()).length;
    for (const [b, status, code] of [
      [{ callMe: '07700900161', connectTo: '+12125550161', menu: true }, 400, 'VALIDATION_FAILED'],
      [{ callMe: '07700900161', menu: false }, 400, 'VALIDATION_FAILED'],
      [{ callMe: '07700900161', menu: 'yes' }, 400, 'VALIDATION_FAILED'],
      [{ menu: true }, 400, 'VALIDATION_FAILED'],
      [{ callMe: '999', menu: true }, 404, 'EMERGENCY_NOT_SUPPORTED'],
      [{ callMe: '0907 946 0018', menu: true }, 403, 'DESTINATION_BLOCKED'],
    ] as const)
      expectProblem(expect, await h.call('POST', '/v1/self/callbacks', { key: me.token, body: b }), status, code);
    expect((await queued()).length).toBe(before);
    const { rows } = await h.s.pool.query('select count(*)::int as n from callback_requests where account_id = $1', [me.account.id]);
    expect(rows[0].n).toBe(0);
  });

  it('an operator requests a menu callback for an account; the audit log says it is the menu kind', async () => {
    const c = await h.customerWithAccount();
    const r = await h.call('POST', `/v1/accounts/${c.account.id}/callbacks`, { key: h.keys.admin, body: { callMe: '+447700900171', menu: true } });
    expect(r.statusCode).toBe(202);
    expect(body(r)).toMatchObject({ origin: 'operator', menu: true, connectTo: null });
    const { rows } = await h.s.pool.query('select action, detail from audit_log where subject_account_id = $1 order by id', [c.account.id]);
    expect(rows).toEqual([{ action: 'callback.request', detail: { callback: body(r).id, menu: true } }]);
    // the customer's data export shows it as a menu request
    const exported = body(await h.call('GET', `/v1/customers/${c.customerId}/export`));
    expect(exported.callbacks).toEqual([expect.objectContaining({ callMe: '+447700900171', connectTo: null, menu: true })]);
  });
});

describe('callbacks: switched off', () => {
  it('with CALLBACK_ENABLED off a request is refused with 403 and nothing is stored or queued', async () => {
    const off = await harness('apicboff');
    try {
      const c = await off.customerWithAccount();
      const r = await off.call('POST', `/v1/accounts/${c.account.id}/callbacks`, {
        key: off.keys.admin,
        body: { callMe: '+447700900601', connectTo: '+12125550601' },
      });
      expectProblem(expect, r, 403, 'CALLBACK_UNAVAILABLE');
      expect(await off.s.redis.exists(callbackStreamKey(off.s.namespace))).toBe(0);
      const { rows } = await off.s.pool.query('select count(*)::int as n from callback_requests');
      expect(rows[0].n).toBe(0);
    } finally {
      await off.close();
    }
  });
});

describe('callbacks: operators', () => {
  it('an admin key requests a callback for an account (audited), a read key shows it and cannot request one', async () => {
    const c = await h.customerWithAccount();
    const url = `/v1/accounts/${c.account.id}/callbacks`;
    const r = await h.call('POST', url, { key: h.keys.admin, body: { callMe: '+447700900501', connectTo: '+12125550501' } });
    expect(r.statusCode).toBe(202);
    const id = body(r).id as string;
    expect(body(r)).toMatchObject({ origin: 'operator', status: 'queued' });
    expect(body(await h.call('GET', `${url}/${id}`, { key: h.keys.read }))).toMatchObject({ id, callMe: '+447700900501' });
    expectProblem(expect, await h.call('POST', url, { key: h.keys.read, body: { callMe: '+447700900502', connectTo: '+12125550502' } }), 403, 'FORBIDDEN');
    const other = await h.customerWithAccount();
    expectProblem(expect, await h.call('GET', `/v1/accounts/${other.account.id}/callbacks/${id}`, { key: h.keys.read }), 404, 'UNKNOWN_CALLBACK');
    const { rows } = await h.s.pool.query('select action, detail from audit_log where subject_account_id = $1 order by id', [c.account.id]);
    expect(rows).toEqual([{ action: 'callback.request', detail: { callback: id } }]);
    expectProblem(
      expect,
      await h.call('POST', '/v1/accounts/999999999/callbacks', { key: h.keys.admin, body: { callMe: '+447700900503', connectTo: '+12125550503' } }),
      404,
      'UNKNOWN_ACCOUNT',
    );
  });
});

describe('callbacks: the list and the self-care page', () => {
  it("GET /v1/self/callbacks lists the account's own requests, newest first, at most `limit`", async () => {
    const me = await session();
    const other = await session();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await h.call('POST', '/v1/self/callbacks', { key: me.token, body: { callMe: `0770090070${i}`, connectTo: `+1212555070${i}` } });
      expect(r.statusCode).toBe(202);
      ids.push(body(r).id as string);
    }
    await h.call('POST', '/v1/self/callbacks', { key: other.token, body: { callMe: '07700900709', connectTo: '+12125550709' } });
    const r = await h.call('GET', '/v1/self/callbacks', { key: me.token });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe(JSON_TYPE);
    const items = body(r).items as Record<string, unknown>[];
    expect(items.map((c) => c.id)).toEqual([...ids].reverse());
    expect(items[0]).toMatchObject({ status: 'queued', callMe: '+447700900702', connectTo: '+12125550702', origin: 'self-care', reason: null });
    expect((body(await h.call('GET', '/v1/self/callbacks?limit=2', { key: me.token })).items as unknown[]).length).toBe(2);
    expectProblem(expect, await h.call('GET', '/v1/self/callbacks?limit=500', { key: me.token }), 400, 'VALIDATION_FAILED');
    expectProblem(expect, await h.call('GET', '/v1/self/callbacks', { key: null }), 401, 'UNAUTHENTICATED');
  });

  it('the page requests a callback with the CSRF-protected form and lists requests with status and reason', async () => {
    const form = 'application/x-www-form-urlencoded';
    const c = await h.customerWithAccount({ username: 'webcallback' });
    const cookie = await selfCareSession(h, 'webcallback');
    const page = await h.app.inject({ method: 'GET', url: '/my/callbacks', headers: { cookie } });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('href="/my/callbacks"');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!;
    const post = (payload: string, token = csrf) =>
      h.app.inject({ method: 'POST', url: '/my/callbacks', headers: { 'content-type': form, cookie }, payload: `_csrf=${token}&${payload}` });
    expect((await post('callMe=07700900801&connectTo=%2B12125550801', 'forged')).statusCode).toBe(403);
    expect((await post('callMe=07700900801&connectTo=%2B12125550801')).headers.location).toBe('/my/callbacks?m=callbacks.requested');
    expect((await post('callMe=07700900802&connectTo=999')).headers.location).toBe('/my/callbacks?e=callbacks.bad');
    expect((await post('callMe=call+me&connectTo=%2B12125550802')).headers.location).toBe('/my/callbacks?e=callbacks.bad');
    const { rows } = await h.s.pool.query<{ id: string }>('select id from callback_requests where account_id = $1', [c.account.id]);
    expect(rows).toHaveLength(1);
    await h.s.pool.query("update callback_requests set status = 'failed', reason = '<b>no answer</b>' where id = $1", [rows[0]!.id]);
    const listed = await h.app.inject({ method: 'GET', url: '/my/callbacks', headers: { cookie } });
    expect(listed.body).toContain('<td>+447700900801</td><td>+12125550801</td>');
    expect(listed.body).toContain('&lt;b&gt;no answer&lt;/b&gt;');
    expect(listed.headers['content-security-policy']).toBeDefined();
    expect(listed.body).not.toMatch(/<script>(?!<\/script>)/);
    // the menu kind: the second form, callMe alone; listed with "Menu" in place of the number
    expect(page.body).toContain('name="kind" value="menu"');
    expect((await post('kind=menu&callMe=07700900803')).headers.location).toBe('/my/callbacks?m=callbacks.requested');
    expect((await post('kind=menu&callMe=07700900804&connectTo=%2B12125550804')).headers.location).toBe('/my/callbacks?e=callbacks.bad');
    const menuListed = await h.app.inject({ method: 'GET', url: '/my/callbacks', headers: { cookie } });
    expect(menuListed.body).toContain('<td>+447700900803</td><td>Menu</td>');
    // over the hourly limit (4 per account here): the page says so
    for (let i = 3; i < 5; i++) await post(`callMe=0770090081${i}&connectTo=%2B1212555081${i}`);
    expect((await post('callMe=07700900819&connectTo=%2B12125550819')).headers.location).toBe('/my/callbacks?e=callbacks.limit');
  });
});

describe('callbacks: the destination a call to a callback number connects to', () => {
  it('PUT /v1/self/callback-destination sets it as the dialling plan reads it, screened like a callback; null clears it', async () => {
    const me = await session();
    expect(body(await h.call('GET', '/v1/self/callback-destination', { key: me.token }))).toEqual({ number: null });
    const put = await h.call('PUT', '/v1/self/callback-destination', { key: me.token, body: { number: '020 7946 0031' } });
    expect(put.statusCode).toBe(200);
    expect(body(put)).toEqual({ number: '+442079460031' });
    expect(body(await h.call('GET', '/v1/self/callback-destination', { key: me.token }))).toEqual({ number: '+442079460031' });
    const { rows } = await h.s.pool.query('select callback_destination from accounts where id = $1', [me.account.id]);
    expect(rows[0].callback_destination).toBe('442079460031');
    expectProblem(expect, await h.call('PUT', '/v1/self/callback-destination', { key: me.token, body: { number: '999' } }), 404, 'EMERGENCY_NOT_SUPPORTED');
    expectProblem(expect, await h.call('PUT', '/v1/self/callback-destination', { key: me.token, body: { number: 'x' } }), 400, 'VALIDATION_FAILED');
    expectProblem(expect, await h.call('PUT', '/v1/self/callback-destination', { key: me.token, body: {} }), 400, 'VALIDATION_FAILED');
    expect(body(await h.call('GET', '/v1/self/callback-destination', { key: me.token }))).toEqual({ number: '+442079460031' });
    expect(body(await h.call('PUT', '/v1/self/callback-destination', { key: me.token, body: { number: null } }))).toEqual({ number: null });
    expect(body(await h.call('GET', '/v1/self/callback-destination', { key: me.token }))).toEqual({ number: null });
    expectProblem(expect, await h.call('GET', '/v1/self/callback-destination', { key: null }), 401, 'UNAUTHENTICATED');
  });

  it('the callbacks page sets and clears the destination with the CSRF-protected form', async () => {
    const form = 'application/x-www-form-urlencoded';
    await h.customerWithAccount({ username: 'webcbdest' });
    const cookie = await selfCareSession(h, 'webcbdest');
    const page = await h.app.inject({ method: 'GET', url: '/my/callbacks', headers: { cookie } });
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!;
    const post = (payload: string, token = csrf) =>
      h.app.inject({ method: 'POST', url: '/my/callbacks/destination', headers: { 'content-type': form, cookie }, payload: `_csrf=${token}&${payload}` });
    // the callback numbers to call are shown beside the destination
    expect(page.body).toContain('+441632960200');
    expect(page.body).toContain('+441632960201');
    expect((await post('destination=020+7946+0032', 'forged')).statusCode).toBe(403);
    expect((await post('destination=999')).headers.location).toBe('/my/callbacks?e=callbacks.badDestination');
    expect((await post('destination=020+7946+0032')).headers.location).toBe('/my/callbacks?m=callbacks.destinationSaved');
    expect((await h.app.inject({ method: 'GET', url: '/my/callbacks', headers: { cookie } })).body).toContain('value="+442079460032"');
    expect((await post('destination=')).headers.location).toBe('/my/callbacks?m=callbacks.destinationCleared');
    expect((await h.app.inject({ method: 'GET', url: '/my/callbacks', headers: { cookie } })).body).not.toContain('+442079460032');
  });
});
