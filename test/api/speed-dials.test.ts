/**
 * Speed dials through the API: customers manage their own (1–99), operators an account's
 * (audited); numbers are read with the account's dialling plan; bad input is problem+json and
 * changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { body, expectProblem, harness, JSON_TYPE, selfCareSession } from './api-harness.ts';
import type { Harness } from './api-harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await harness('apispeed');
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

describe('speed dials: self-care', () => {
  it('sets, replaces, lists, reads and removes my speed dials; a national number is kept as E.164 with the dialling plan of my country', async () => {
    const me = await session();
    const put = await h.call('PUT', '/v1/self/speed-dials/7', { key: me.token, body: { name: ' Mum ', number: '020 7946 0018' } });
    expect(put.statusCode).toBe(200);
    expect(put.headers['content-type']).toBe(JSON_TYPE);
    expect(body(put)).toEqual({ position: 7, name: 'Mum', number: '+442079460018', updatedAt: expect.any(String) });
    await h.call('PUT', '/v1/self/speed-dials/99', { key: me.token, body: { name: 'Office', number: '+1 (212) 555-0100' } });
    await h.call('PUT', '/v1/self/speed-dials/7', { key: me.token, body: { name: 'Mother', number: '00442079460019' } });
    const list = body(await h.call('GET', '/v1/self/speed-dials', { key: me.token }));
    expect((list.items as { position: number; name: string; number: string }[]).map((d) => [d.position, d.name, d.number])).toEqual([
      [7, 'Mother', '+442079460019'],
      [99, 'Office', '+12125550100'],
    ]);
    expect(body(await h.call('GET', '/v1/self/speed-dials/99', { key: me.token }))).toMatchObject({ name: 'Office' });
    expect(body(await h.call('DELETE', '/v1/self/speed-dials/99', { key: me.token }))).toEqual({ removed: true });
    expectProblem(expect, await h.call('GET', '/v1/self/speed-dials/99', { key: me.token }), 404, 'UNKNOWN_SPEED_DIAL');
    expectProblem(expect, await h.call('DELETE', '/v1/self/speed-dials/99', { key: me.token }), 404, 'UNKNOWN_SPEED_DIAL');
  });

  it('refuses positions outside 1–99, empty or long names, and numbers that cannot be dialled; nothing is stored', async () => {
    const me = await session();
    for (const [url, b] of [
      ['/v1/self/speed-dials/0', { name: 'x', number: '+442079460018' }],
      ['/v1/self/speed-dials/100', { name: 'x', number: '+442079460018' }],
      ['/v1/self/speed-dials/1', { name: '', number: '+442079460018' }],
      ['/v1/self/speed-dials/1', { name: 'x'.repeat(41), number: '+442079460018' }],
      ['/v1/self/speed-dials/1', { name: 'x', number: 'call me' }],
      ['/v1/self/speed-dials/1', { name: 'x', number: '+442079460018', extra: 1 }],
    ] as const)
      expectProblem(expect, await h.call('PUT', url, { key: me.token, body: b }), 400, 'VALIDATION_FAILED');
    for (const number of ['999', '118118', '0207', '+44 (0) 0 20 7946 0018'])
      expectProblem(expect, await h.call('PUT', '/v1/self/speed-dials/1', { key: me.token, body: { name: 'x', number } }), 400, 'INVALID_SPEED_DIAL');
    expectProblem(
      expect,
      await h.call('PUT', '/v1/self/speed-dials/1', { key: me.token, body: { name: 'a\u0007b', number: '+442079460018' } }),
      400,
      'INVALID_SPEED_DIAL',
    );
    expect(body(await h.call('GET', '/v1/self/speed-dials', { key: me.token }))).toEqual({ items: [] });
  });

  it('a customer sees only their own speed dials', async () => {
    const a = await session();
    const b = await session();
    await h.call('PUT', '/v1/self/speed-dials/3', { key: a.token, body: { name: 'A', number: '+442079460018' } });
    expect(body(await h.call('GET', '/v1/self/speed-dials', { key: b.token }))).toEqual({ items: [] });
    expectProblem(expect, await h.call('GET', '/v1/self/speed-dials', { key: null }), 401, 'UNAUTHENTICATED');
  });
});

describe('speed dials: operators', () => {
  it("an admin key sets and removes an account's speed dial, a read key lists them, each audited; a read key cannot change them", async () => {
    const c = await h.customerWithAccount();
    const url = `/v1/accounts/${c.account.id}/speed-dials`;
    expect((await h.call('PUT', `${url}/5`, { key: h.keys.admin, body: { name: 'Doctor', number: '+442079460018' } })).statusCode).toBe(200);
    expect(body(await h.call('GET', url, { key: h.keys.read }))).toMatchObject({ items: [{ position: 5, name: 'Doctor', number: '+442079460018' }] });
    expectProblem(expect, await h.call('PUT', `${url}/6`, { key: h.keys.read, body: { name: 'x', number: '+442079460018' } }), 403, 'FORBIDDEN');
    expect(body(await h.call('DELETE', `${url}/5`, { key: h.keys.admin }))).toEqual({ removed: true });
    const { rows } = await h.s.pool.query('select action from audit_log where subject_account_id = $1 order by id', [c.account.id]);
    expect(rows.map((r: { action: string }) => r.action)).toEqual(['speed-dial.set', 'speed-dial.list', 'speed-dial.remove']);
    expectProblem(expect, await h.call('GET', '/v1/accounts/999999999/speed-dials', { key: h.keys.read }), 404, 'UNKNOWN_ACCOUNT');
  });
});

describe('speed dials: the self-care pages', () => {
  const form = 'application/x-www-form-urlencoded';
  it('adds and removes a speed dial with the CSRF-protected form; the calls page shows a speed-dialled call by its name', async () => {
    const c = await h.customerWithAccount({ username: 'webspeed' });
    const cookie = await selfCareSession(h, 'webspeed');
    const page = await h.app.inject({ method: 'GET', url: '/my/speed-dials', headers: { cookie } });
    expect(page.statusCode).toBe(200);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!;
    const post = (url: string, payload: string, token = csrf) =>
      h.app.inject({ method: 'POST', url, headers: { 'content-type': form, cookie }, payload: `_csrf=${token}&${payload}` });
    expect((await post('/my/speed-dials', 'position=7&name=Mum&number=020+7946+0018', 'forged')).statusCode).toBe(403);
    expect((await post('/my/speed-dials', 'position=7&name=%3Cb%3EMum%3C%2Fb%3E&number=020+7946+0018')).headers.location).toBe(
      '/my/speed-dials?m=speedDials.saved',
    );
    expect((await post('/my/speed-dials', 'position=100&name=x&number=020+7946+0018')).headers.location).toBe('/my/speed-dials?e=speedDials.bad');
    expect((await post('/my/speed-dials', 'position=8&name=x&number=999')).headers.location).toBe('/my/speed-dials?e=speedDials.bad');
    const listed = await h.app.inject({ method: 'GET', url: '/my/speed-dials', headers: { cookie } });
    expect(listed.body).toContain('<td>*7</td><td>&lt;b&gt;Mum&lt;/b&gt;</td><td>+442079460018</td>');
    // a call made with *7 (its CDR as the SIP app writes it), and one dialled in full
    await h.s.pool.query('select ensure_cdr_partition(now())');
    for (const [callId, dialled] of [
      ['sd-1', '*7'],
      ['sd-2', '02079460018'],
    ])
      await h.s.pool.query(
        `insert into cdrs (call_id, account_id, event_id, kind, dialled_number, destination, start_time, end_time, duration_ms, billed_seconds, cost, disposition)
         values ($1, $2, $1, 'device', $3, '442079460018', now(), now(), 1000, 1, 100, 'answered')`,
        [callId, c.account.id, dialled],
      );
    const calls = await h.app.inject({ method: 'GET', url: '/my/calls', headers: { cookie } });
    expect(calls.body).toContain('<td>&lt;b&gt;Mum&lt;/b&gt; (*7)</td>');
    expect(calls.body).toContain('<td>02079460018</td>');
    expect((await post('/my/speed-dials/remove', 'position=7')).headers.location).toBe('/my/speed-dials?m=speedDials.removed');
    expect(body(await h.call('GET', `/v1/accounts/${c.account.id}/speed-dials`))).toEqual({ items: [] });
  });
});
