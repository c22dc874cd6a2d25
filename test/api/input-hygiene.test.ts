/**
 * Input the API must refuse cleanly (4xx problem+json, nothing changed) and credentials it must
 * not accept: bad UTF-8, repeated JSON keys, malformed forms, undecodable URLs, oversized headers,
 * trivial PINs and passwords, and sessions of accounts that were closed or suspended.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTrivialPin } from '../../src/accounts/secrets.ts';
import { passwordProblem } from '../../src/accounts/password-policy.ts';
import { body, expectProblem, harness, PROBLEM, snapshot } from './api-harness.ts';
import type { Harness } from './api-harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await harness('apihygiene');
});
afterAll(async () => {
  await h?.close();
});

const PASSWORD = 'correct horse battery';
async function session(opts: { credit?: number } = {}) {
  const c = await h.customerWithAccount(opts);
  const r = await h.app.inject({ method: 'POST', url: '/v1/self/login', payload: { username: c.account.username, password: PASSWORD } });
  expect(r.statusCode).toBe(200);
  return { ...c, token: body(r).token as string };
}

describe('JSON bodies', () => {
  it('invalid UTF-8 is refused, not stored with replacement characters', async () => {
    const before = await snapshot(h.s);
    const r = await h.app.inject({
      method: 'POST',
      url: '/v1/customers',
      headers: { authorization: `Bearer ${h.keys.admin}`, 'content-type': 'application/json' },
      payload: Buffer.concat([Buffer.from('{"name":"Ann'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]),
    });
    expectProblem(expect, r, 400, 'INVALID_BODY');
    expect(await snapshot(h.s)).toBe(before);
  });

  it('a repeated key is refused on a money route: the amount credited is never the second one', async () => {
    const c = await h.customerWithAccount({ credit: 1_000_000 });
    const r = await h.app.inject({
      method: 'POST',
      url: `/v1/accounts/${c.account.id}/topups`,
      headers: { authorization: `Bearer ${h.keys.admin}`, 'content-type': 'application/json', 'idempotency-key': 'dup-1' },
      payload: '{"amount":1000000,"reference":"r1","amount":1000000000000}',
    });
    expectProblem(expect, r, 400, 'INVALID_BODY');
    expect((await h.s.store.get(c.account.id))!.balance).toBe(1_000_000);
    const nested = await h.app.inject({
      method: 'POST',
      url: `/v1/accounts/${c.account.id}/adjustments`,
      headers: { authorization: `Bearer ${h.keys.admin}`, 'content-type': 'application/json' },
      payload: '{"adjustmentId":"a1","amount":-1,"reason":"x","reason":"y"}',
    });
    expectProblem(expect, nested, 400, 'INVALID_BODY');
    // the same key in two different objects is not a repetition
    const ok = await h.app.inject({
      method: 'POST',
      url: '/v1/customers',
      headers: { authorization: `Bearer ${h.keys.admin}`, 'content-type': 'application/json' },
      payload: '{"name":"Bo","phoneNumbers":[]}',
    });
    expect(ok.statusCode).toBe(201);
  });
});

describe('lone surrogates', () => {
  it('a JSON string that is not well-formed Unicode (an escaped lone surrogate, key or value) is refused with 400 on API and form routes, never a 500, and changes nothing', async () => {
    const before = await snapshot(h.s);
    const post = (url: string, payload: string) =>
      h.app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${h.keys.admin}`, 'content-type': 'application/json' }, payload });
    expectProblem(expect, await post('/v1/mailing-lists/potential_customer/messages', '{"subject":"\\ud800","text":"rTy"}'), 400, 'INVALID_BODY');
    expectProblem(expect, await post('/v1/customers', '{"name":"Ann","phoneNumbers":[],"x\\udfff":1}'), 400, 'INVALID_BODY');
    const form = await post('/my/set-password', '{"_csrf":"x","token":"\\ud800","newPassword":"violet staircase 1987"}');
    expect(form.statusCode).toBe(400);
    expect(await snapshot(h.s)).toBe(before);
    // a pair, escaped or not, is one character and welcome
    const ok = await post('/v1/customers', '{"name":"Ann \\ud83d\\ude00 😀","phoneNumbers":[]}');
    expect(ok.statusCode).toBe(201);
    expect(body(ok).name).toBe('Ann 😀 😀');
  });
});

describe('NUL characters', () => {
  it('a NUL character (U+0000) anywhere in a JSON body, a query or a path is refused with 400, never a 500, and changes nothing', async () => {
    const before = await snapshot(h.s);
    const login = await h.app.inject({ method: 'POST', url: '/v1/self/login', payload: { username: 'a\u0000b', password: 'some password' } });
    expectProblem(expect, login, 400, 'INVALID_BODY');
    expectProblem(expect, await h.call('POST', '/v1/customers', { body: { name: 'Ann\u0000' } }), 400, 'INVALID_BODY');
    expectProblem(expect, await h.call('POST', '/v1/customers', { body: { name: 'Ann', phoneNumbers: [], ['x\u0000']: 1 } }), 400, 'INVALID_BODY');
    expectProblem(expect, await h.call('GET', '/v1/customers?email=a%00b@example.invalid'), 400, 'VALIDATION_FAILED');
    expectProblem(expect, await h.call('GET', '/v1/carriers/a%00b'), 400, 'VALIDATION_FAILED');
    const form = await h.app.inject({
      method: 'POST',
      url: '/my/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'username=a%00b&password=some+password',
    });
    expect(form.statusCode).toBeLessThan(500);
    expect(await snapshot(h.s)).toBe(before);
  });
});

describe('web forms', () => {
  it('a malformed or oversized body on a form route is a 4xx page, never a 500', async () => {
    const bad = await h.app.inject({ method: 'POST', url: '/my/login', headers: { 'content-type': 'application/json' }, payload: '{"username": ' });
    expect(bad.statusCode).toBe(400);
    const big = await h.app.inject({
      method: 'POST',
      url: '/my/pin',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `currentPin=${'1'.repeat(70 * 1024)}`,
    });
    expect(big.statusCode).toBe(413);
    const type = await h.app.inject({ method: 'POST', url: '/my/caller-ids', headers: { 'content-type': 'application/xml' }, payload: '<x/>' });
    expect(type.statusCode).toBe(415);
  });
});

describe('URLs and headers', () => {
  it('an undecodable URL and an over-long path parameter are answered as problem+json', async () => {
    expectProblem(expect, await h.call('GET', '/v1/accounts/%zz'), 400, 'VALIDATION_FAILED');
    expectProblem(expect, await h.call('GET', `/v1/carriers/${'x'.repeat(200)}`), 414, 'URI_TOO_LONG');
  });

  it('headers too large (431) are answered as problem+json on the socket', async () => {
    const address = await h.app.listen({ host: '127.0.0.1', port: 0 }); // closed with the harness
    const { port } = new URL(address);
    const raw = await new Promise<string>((resolve, reject) => {
      const sock = connect(Number(port), '127.0.0.1');
      let got = '';
      sock.on('data', (d) => {
        got += d.toString();
      });
      sock.on('end', () => resolve(got));
      sock.on('error', reject);
      sock.write(`GET /health HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(40 * 1024)}\r\n\r\n`);
    });
    expect(raw.split('\r\n')[0]).toBe('HTTP/1.1 431 Request Header Fields Too Large');
    expect(raw.toLowerCase()).toContain(`content-type: ${PROBLEM}`);
    expect(JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4))).toMatchObject({ status: 431, code: 'HEADERS_TOO_LARGE' });
  });
});

describe('trivial PINs and passwords', () => {
  it('refuses repeats, runs and repeated blocks as PINs; accepts random-looking ones', async () => {
    for (const p of ['000000', '111111111111', '123456', '987654', '890123', '121212', '123123', '12341234', '456456456456'])
      expect(isTrivialPin(p), p).toBe(true);
    for (const p of ['246810', '583920', '73920184', '928374651029']) expect(isTrivialPin(p), p).toBe(false);
    const c = await h.customerWithAccount();
    await expect(h.accounts.issuePin(c.account.id, '123456')).rejects.toMatchObject({ code: 'INVALID_PIN' });
  });

  it('refuses short, repetitive, sequential and common passwords, in self-care and for operators', async () => {
    for (const p of ['aaaaaaaaaa', 'ababababab', 'abcdefghij', '0987654321', 'password123', 'Password2024!', 'qwertyuiop', 'iloveyou12'])
      expect(passwordProblem(p), p).toBeDefined();
    for (const p of [PASSWORD, 'a brand new password', 'Tr0ub4dor&3x']) expect(passwordProblem(p), p).toBeUndefined();
    const me = await session();
    expectProblem(
      expect,
      await h.call('PUT', '/v1/self/password', { key: me.token, body: { currentPassword: PASSWORD, newPassword: 'aaaaaaaaaa' } }),
      400,
      'WEAK_PASSWORD',
    );
    expectProblem(
      expect,
      await h.call('PUT', '/v1/self/password', { key: me.token, body: { currentPassword: PASSWORD, newPassword: 'password123' } }),
      400,
      'WEAK_PASSWORD',
    );
    const cust = await h.accounts.createCustomer({ name: 'Weak' });
    expectProblem(
      expect,
      await h.call('POST', '/v1/accounts', { body: { customerId: cust, currency: 'GBP', username: 'weakling', password: 'qwertyuiop' } }),
      400,
      'WEAK_PASSWORD',
    );
  });
});

describe('sessions follow the account', () => {
  it('a session stops working when an operator suspends or closes the account', async () => {
    const a = await session();
    const b = await session();
    expect((await h.call('POST', `/v1/accounts/${a.account.id}/suspend`)).statusCode).toBe(200);
    expectProblem(expect, await h.call('GET', '/v1/self', { key: a.token }), 401, 'UNAUTHENTICATED');
    expect((await h.call('POST', `/v1/accounts/${a.account.id}/resume`)).statusCode).toBe(200);
    expectProblem(expect, await h.call('GET', '/v1/self', { key: a.token }), 401, 'UNAUTHENTICATED'); // ended, not paused
    expect((await h.call('POST', `/v1/accounts/${b.account.id}/close`)).statusCode).toBe(200);
    expectProblem(expect, await h.call('GET', '/v1/self', { key: b.token }), 401, 'UNAUTHENTICATED');
    expectProblem(
      expect,
      await h.app.inject({ method: 'POST', url: '/v1/self/login', payload: { username: b.account.username, password: PASSWORD } }),
      401,
      'LOGIN_FAILED',
    );
  });

  it('a customer who suspended their own account (restriction) can still log in and lift it', async () => {
    const me = await session();
    expect((await h.call('POST', '/v1/self/restriction', { key: me.token, body: { suspendAccount: true } })).statusCode).toBe(200);
    expect((await h.call('GET', '/v1/self', { key: me.token })).statusCode).toBe(200);
    expect((await h.call('DELETE', '/v1/self/restriction', { key: me.token })).statusCode).toBe(200);
  });
});
