import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { body, expectProblem, harness, JSON_TYPE, snapshot } from './api-harness.ts';
import type { Harness } from './api-harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await harness('apiops');
});
afterAll(async () => {
  await h?.close();
});

describe('authentication, scopes and rate limits', () => {
  it('a route without credentials is 401 with a Bearer challenge, whatever the body', async () => {
    const r = await h.call('POST', '/v1/customers', { key: null, body: { nonsense: true } });
    expectProblem(expect, r, 401, 'UNAUTHENTICATED', 'missing, unknown or expired credentials');
    expect(r.headers['www-authenticate']).toBe('Bearer');
  });

  it('an unknown, malformed or revoked key is 401', async () => {
    for (const key of ['sk_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'nonsense', `${h.keys.read}x`]) {
      expectProblem(expect, await h.call('GET', '/v1/customers', { key }), 401, 'UNAUTHENTICATED');
    }
    const created = body(await h.call('POST', '/v1/api-keys', { body: { name: 'temp', scopes: ['read'] } }));
    expect((await h.call('GET', '/v1/customers', { key: created.key as string })).statusCode).toBe(200);
    const revoked = await h.call('DELETE', `/v1/api-keys/${created.id as string}`);
    expect(revoked.statusCode).toBe(200);
    expect(body(revoked).revokedAt).toEqual(expect.any(String));
    expectProblem(expect, await h.call('GET', '/v1/customers', { key: created.key as string }), 401, 'UNAUTHENTICATED');
    expectProblem(expect, await h.call('DELETE', '/v1/api-keys/0123456789ab'), 404, 'UNKNOWN_API_KEY');
  });

  it('API keys are listed without secrets and stored hashed', async () => {
    const r = await h.call('GET', '/v1/api-keys');
    expect(r.statusCode).toBe(200);
    expect(r.body).not.toContain('sk_');
    const { rows } = await h.s.pool.query<{ secret_hash: Buffer }>('select secret_hash from api_keys');
    for (const row of rows) for (const k of Object.values(h.keys)) expect(k).not.toContain(row.secret_hash.toString('base64url'));
  });

  it("a key without the route's scope is 403; a customer session on an operator route is 403", async () => {
    expectProblem(expect, await h.call('POST', '/v1/customers', { key: h.keys.read, body: { name: 'X' } }), 403, 'FORBIDDEN', 'this route needs scope admin');
    expectProblem(expect, await h.call('POST', '/v1/customers', { key: h.keys.billing, body: { name: 'X' } }), 403, 'FORBIDDEN');
    const c = await h.customerWithAccount({ password: 'pass-word-123' });
    const login = body(await h.call('POST', '/v1/self/login', { key: null, body: { username: c.account.username, password: 'pass-word-123' } }));
    expectProblem(expect, await h.call('GET', `/v1/accounts/${c.account.id}`, { key: login.token as string }), 403, 'FORBIDDEN');
    expectProblem(expect, await h.call('GET', '/v1/self', { key: h.keys.admin }), 403, 'FORBIDDEN', 'this route is for customers');
  });

  it('billing scope can read and credit but not administer', async () => {
    const c = await h.customerWithAccount();
    expect((await h.call('GET', `/v1/accounts/${c.account.id}/balance`, { key: h.keys.billing })).statusCode).toBe(200);
    expect(
      (await h.call('POST', `/v1/accounts/${c.account.id}/topups`, { key: h.keys.billing, body: { amount: 1 }, headers: { 'idempotency-key': 'scope-1' } }))
        .statusCode,
    ).toBe(201);
    expect(
      (await h.call('POST', `/v1/accounts/${c.account.id}/topups`, { key: h.keys.read, body: { amount: 1 }, headers: { 'idempotency-key': 'scope-2' } }))
        .statusCode,
    ).toBe(403);
    expect((await h.call('POST', `/v1/accounts/${c.account.id}/suspend`, { key: h.keys.billing })).statusCode).toBe(403);
  });

  it('a key over its rate gets 429 with Retry-After', async () => {
    const limited = await harness('apirate', { rateLimit: 2 });
    try {
      const codes: number[] = [];
      for (let i = 0; i < 6; i++) codes.push((await limited.call('GET', '/v1/customers', { key: limited.keys.read })).statusCode);
      expect(codes.slice(0, 4)).toEqual([200, 200, 200, 200]);
      const r = await limited.call('GET', '/v1/customers', { key: limited.keys.read });
      expectProblem(expect, r, 429, 'RATE_LIMITED');
      expect(Number(r.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    } finally {
      await limited.close();
    }
  });
});

describe('customers and accounts', () => {
  it('creates, reads, searches and pages customers; every read is audited', async () => {
    const r = await h.call('POST', '/v1/customers', {
      body: { name: 'Ada Lovelace', email: 'ada@example.invalid', country: 'GB', phoneNumbers: ['+447700900555'] },
    });
    expect(r.statusCode).toBe(201);
    expect(r.headers['content-type']).toBe(JSON_TYPE);
    const c = body(r);
    expect(c).toMatchObject({ name: 'Ada Lovelace', email: 'ada@example.invalid', phoneNumbers: ['+447700900555'], erasedAt: null });
    const read = await h.call('GET', `/v1/customers/${c.id as number}`, { key: h.keys.read });
    expect(body(read)).toEqual(c);
    const found = body(await h.call('GET', '/v1/customers?email=ADA@example.invalid'));
    expect((found.items as { id: number }[]).map((x) => x.id)).toEqual([c.id]);
    const { rows } = await h.s.pool.query('select actor, action from audit_log where subject_customer_id = $1 order by id', [c.id]);
    expect(rows.map((x) => x.action)).toEqual(['customer.create', 'customer.read', 'customer.list']);
    expect(rows[1].actor).toMatch(/^apikey:[a-f0-9]{12}$/);
  });

  it('pages with opaque cursors and no overlap', async () => {
    for (let i = 0; i < 5; i++) await h.call('POST', '/v1/customers', { body: { name: `Paged ${i}` } });
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const p = body(await h.call('GET', `/v1/customers?limit=2${cursor ? `&cursor=${cursor}` : ''}`));
      seen.push(...(p.items as { id: number }[]).map((x) => x.id));
      cursor = p.nextCursor as string | null;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expectProblem(expect, await h.call('GET', '/v1/customers?cursor=!!'), 400, 'VALIDATION_FAILED', 'cursor is not valid');
  });

  it('rectification changes only the given fields and audits their names, not their values', async () => {
    const c = await h.customerWithAccount();
    const r = await h.call('PATCH', `/v1/customers/${c.customerId}`, { body: { city: 'York', postalCode: 'YO1 7HH' } });
    expect(r.statusCode).toBe(200);
    expect(body(r)).toMatchObject({ city: 'York', postalCode: 'YO1 7HH', addressLine1: expect.stringContaining('High Street') });
    const { rows } = await h.s.pool.query("select detail from audit_log where action = 'customer.rectify' and subject_customer_id = $1", [c.customerId]);
    expect(rows[0].detail).toEqual({ fields: ['city', 'postalCode'] });
    expect(JSON.stringify(rows)).not.toContain('York');
  });

  it('validation failures are 400 problem+json and change nothing', async () => {
    const c = await h.customerWithAccount();
    const before = await snapshot(h.s);
    const bad: [string, string, unknown][] = [
      ['POST', '/v1/customers', { name: '' }],
      ['POST', '/v1/customers', { name: 'x', email: 'no-at-sign' }],
      ['POST', '/v1/customers', { name: 'x', unknown: 1 }],
      ['PATCH', `/v1/customers/${c.customerId}`, {}],
      ['PATCH', `/v1/customers/${c.customerId}`, { phoneNumbers: ['12345'] }],
      ['POST', '/v1/accounts', { customerId: c.customerId, currency: 'gbp' }],
      ['POST', '/v1/accounts', { customerId: c.customerId, currency: 'GBP', creditFloor: 1.5 }],
      ['PATCH', `/v1/accounts/${c.account.id}`, { maxConcurrentCalls: -1 }],
      ['PATCH', `/v1/accounts/${c.account.id}`, { dailySpendCap: '100' }],
      ['POST', `/v1/accounts/${c.account.id}/pin`, { pin: '12ab56' }],
      ['POST', `/v1/accounts/${c.account.id}/clis`, { cli: '07700900123' }],
      ['PUT', `/v1/accounts/${c.account.id}/sip-credentials/ab`, { password: 'long enough password' }],
      ['PUT', `/v1/accounts/${c.account.id}/sip-credentials/alice99`, { password: 'short' }],
      ['POST', '/v1/api-keys', { name: 'x', scopes: ['root'] }],
      ['PUT', '/v1/carriers/c1', { name: 'c', addresses: ['not-an-ip'] }],
      ['PUT', '/v1/dids/+441', { accountId: c.account.id }],
    ];
    for (const [m, u, b] of bad) {
      const r = await h.call(m, u, { body: b });
      expect(`${m} ${u} ${r.statusCode}`).toBe(`${m} ${u} 400`);
      expect(r.headers['content-type']).toBe('application/problem+json; charset=utf-8');
      expect(['VALIDATION_FAILED', 'INVALID_CLI']).toContain(body(r).code);
    }
    const notJson = await h.call('POST', '/v1/customers', { payload: '{"name":', headers: { 'content-type': 'application/json' } });
    expectProblem(expect, notJson, 400, 'INVALID_BODY', 'the body is not valid JSON');
    expect(await snapshot(h.s)).toBe(before);
  });

  it('unknown ids are 404 with the registry code', async () => {
    const cases: [string, string, unknown, string][] = [
      ['GET', '/v1/customers/999999', undefined, 'UNKNOWN_CUSTOMER'],
      ['PATCH', '/v1/customers/999999', { city: 'X' }, 'UNKNOWN_CUSTOMER'],
      ['GET', '/v1/accounts/999999', undefined, 'UNKNOWN_ACCOUNT'],
      ['PATCH', '/v1/accounts/999999', { maxConcurrentCalls: 1 }, 'UNKNOWN_ACCOUNT'],
      ['POST', '/v1/accounts/999999/suspend', undefined, 'UNKNOWN_ACCOUNT'],
      ['POST', '/v1/accounts/999999/pin', {}, 'UNKNOWN_ACCOUNT'],
      ['DELETE', '/v1/accounts/999999/pin', undefined, 'UNKNOWN_ACCOUNT'],
      ['GET', '/v1/accounts/999999/clis', undefined, 'UNKNOWN_ACCOUNT'],
      ['GET', '/v1/accounts/999999/balance', undefined, 'UNKNOWN_ACCOUNT'],
      ['POST', '/v1/accounts', { customerId: 999999, currency: 'GBP' }, 'UNKNOWN_CUSTOMER'],
      ['POST', '/v1/cli-requests/999999/approve', undefined, 'UNKNOWN_CLI_REQUEST'],
      ['GET', '/v1/tariffs/nope/rates', undefined, 'UNKNOWN_TARIFF'],
      ['GET', '/v1/carriers/nope', undefined, 'UNKNOWN_CARRIER'],
      ['DELETE', '/v1/gateways/999999', undefined, 'UNKNOWN_GATEWAY'],
      ['DELETE', '/v1/dids/+441632960999', undefined, 'UNKNOWN_NUMBER'],
      ['DELETE', '/v1/access-numbers/+441632960999', undefined, 'UNKNOWN_NUMBER'],
      ['DELETE', '/v1/calls/no-such-call', undefined, 'UNKNOWN_CALL'],
      ['GET', '/v1/customers/999999/export', undefined, 'UNKNOWN_CUSTOMER'],
      ['POST', '/v1/customers/999999/erasure', undefined, 'UNKNOWN_CUSTOMER'],
      ['GET', '/v1/nothing-here', undefined, 'NOT_FOUND'],
    ];
    for (const [m, u, b, code] of cases) {
      const r = await h.call(m, u, b === undefined ? {} : { body: b });
      expect(`${m} ${u} ${r.statusCode} ${String(body(r).code)}`).toBe(`${m} ${u} 404 ${code}`);
      expect(r.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    }
  });

  it('opens, searches, updates, suspends, resumes and closes accounts', async () => {
    const c = await h.customerWithAccount();
    const r = await h.call('POST', '/v1/accounts', { body: { customerId: c.customerId, currency: 'EUR', maxConcurrentCalls: 3, number: '55500011' } });
    expect(r.statusCode).toBe(201);
    const a = body(r);
    expect(a).toMatchObject({ number: '55500011', currency: 'EUR', status: 'active', maxConcurrentCalls: 3 });
    expect(body(await h.call('GET', '/v1/accounts?number=55500011')).items).toEqual([a]);
    await h.accounts.addCli(c.account.id, '+447700911111', true);
    await h.accounts.setSipPassword(c.account.id, 'searchme', 'test.local', 'a long sip password');
    expect((body(await h.call('GET', '/v1/accounts?cli=%2B447700911111')).items as { id: number }[]).map((x) => x.id)).toEqual([c.account.id]);
    expect((body(await h.call('GET', '/v1/accounts?sipUsername=searchme')).items as { id: number }[]).map((x) => x.id)).toEqual([c.account.id]);
    const email = await h.directoryEmail(c.customerId);
    expect((body(await h.call('GET', `/v1/accounts?email=${encodeURIComponent(email)}`)).items as { id: number }[]).map((x) => x.id).sort()).toEqual(
      [c.account.id, a.id as number].sort(),
    );
    const u = await h.call('PATCH', `/v1/accounts/${a.id as number}`, { body: { dailySpendCap: 5_000_000, creditFloor: -1_000_000 } });
    expect(body(u)).toMatchObject({ dailySpendCap: 5_000_000, creditFloor: -1_000_000 });
    expect((await h.s.store.get(a.id as number))?.creditFloor).toBe(-1_000_000);
    expect(body(await h.call('POST', `/v1/accounts/${a.id as number}/suspend`)).status).toBe('suspended');
    expect((await h.s.store.get(a.id as number))?.status).toBe('suspended');
    expect(body(await h.call('POST', `/v1/accounts/${a.id as number}/resume`)).status).toBe('active');
    expect(body(await h.call('POST', `/v1/accounts/${a.id as number}/close`)).status).toBe('closed');
    expectProblem(expect, await h.call('POST', `/v1/accounts/${a.id as number}/resume`), 409, 'ACCOUNT_CLOSED');
  });
});

describe('PINs, caller IDs and SIP credentials', () => {
  it('a PIN is shown once at issue, rotates, revokes, and is never readable afterwards', async () => {
    const c = await h.customerWithAccount();
    // an operator cannot choose a PIN either: PINs are assigned by the system (docs/security.md)
    expectProblem(expect, await h.call('POST', `/v1/accounts/${c.account.id}/pin`, { body: { pin: '73914682' } }), 400, 'VALIDATION_FAILED');
    const r = await h.call('POST', `/v1/accounts/${c.account.id}/pin`);
    expect(r.statusCode).toBe(201);
    expect(body(r)).toEqual({ accountId: c.account.id, pin: expect.stringMatching(/^[1-9][0-9]{11}$/) });
    const first = String(body(r).pin);
    expect(await h.accounts.findAccountByPin(first)).toBe(c.account.id);
    const rotated = body(await h.call('POST', `/v1/accounts/${c.account.id}/pin`));
    expect(rotated.pin).toMatch(/^[0-9]{12}$/);
    expect(await h.accounts.findAccountByPin(first)).toBeUndefined();
    const hist = body(await h.call('GET', `/v1/accounts/${c.account.id}/pins`));
    expect((hist.items as unknown[]).length).toBe(2);
    expect(JSON.stringify(hist)).not.toContain(String(rotated.pin));
    expect(body(await h.call('DELETE', `/v1/accounts/${c.account.id}/pin`))).toEqual({ revoked: true });
    expect(await h.accounts.findAccountByPin(String(rotated.pin))).toBeUndefined();
    for (const u of [`/v1/accounts/${c.account.id}`, `/v1/customers/${c.customerId}/export`, `/v1/accounts/${c.account.id}/pins`]) {
      const x = await h.call('GET', u);
      expect(x.body).not.toContain(first);
      expect(x.body).not.toContain(String(rotated.pin));
    }
    expect(h.logs.join('')).not.toContain(String(rotated.pin));
    expect(h.logs.join('')).not.toContain(first);
  });

  it('caller IDs are added verified, listed, refused when taken, and removed', async () => {
    const c = await h.customerWithAccount();
    const r = await h.call('POST', `/v1/accounts/${c.account.id}/clis`, { body: { cli: '+447700922222' } });
    expect(r.statusCode).toBe(201);
    expect(body(r)).toMatchObject({ cli: '+447700922222', verifiedAt: expect.any(String) });
    const other = await h.customerWithAccount();
    expectProblem(expect, await h.call('POST', `/v1/accounts/${other.account.id}/clis`, { body: { cli: '+447700922222' } }), 409, 'CLI_TAKEN');
    expect((body(await h.call('GET', `/v1/accounts/${c.account.id}/clis`)).items as unknown[]).length).toBe(1);
    expectProblem(expect, await h.call('DELETE', `/v1/accounts/${other.account.id}/clis/%2B447700922222`), 404, 'UNKNOWN_CLI');
    expect(body(await h.call('DELETE', `/v1/accounts/${c.account.id}/clis/%2B447700922222`))).toEqual({ removed: true });
    expect(await h.accounts.findAccountByCli('+447700922222')).toBeUndefined();
  });

  it("a SIP password is stored as HA1 only; another account's username is refused", async () => {
    const c = await h.customerWithAccount();
    const r = await h.call('PUT', `/v1/accounts/${c.account.id}/sip-credentials/bob1000`, { body: { password: 'sip secret 12345' } });
    expect(r.statusCode).toBe(200);
    expect(body(r)).toEqual({ username: 'bob1000', realm: 'test.local' });
    const { rows } = await h.s.pool.query('select * from sip_credentials where username = $1', ['bob1000']);
    expect(JSON.stringify(rows)).not.toContain('sip secret');
    const other = await h.customerWithAccount();
    expectProblem(
      expect,
      await h.call('PUT', `/v1/accounts/${other.account.id}/sip-credentials/bob1000`, { body: { password: 'sip secret 67890' } }),
      409,
      'ALREADY_EXISTS',
    );
    expect((body(await h.call('GET', `/v1/accounts/${c.account.id}/sip-credentials`)).items as unknown[]).length).toBe(1);
    expect(body(await h.call('DELETE', `/v1/accounts/${c.account.id}/sip-credentials/bob1000`))).toEqual({ removed: true });
    expect(h.logs.join('')).not.toContain('sip secret');
  });
});

describe('tariffs, routing data and live calls', () => {
  const CSV =
    'prefix,description,price_per_minute,connection_fee,minimum_seconds,initial_increment,subsequent_increment,effective_from,effective_until,connection_fee_policy\n44,UK,0.010000,0,0,60,60,2026-01-01T00:00:00Z,,answered\n4477,UK mobile,0.050000,0,0,30,6,2026-01-01T00:00:00Z,,answered\n';

  it('uploads a tariff CSV, lists rates with effective dates, downloads it; a bad CSV changes nothing', async () => {
    const up = await h.call('PUT', '/v1/tariffs/retail?name=Retail&currency=GBP', {
      payload: CSV,
      headers: { 'content-type': 'text/csv' },
      key: h.keys.billing,
    });
    expect(up.statusCode).toBe(200);
    expect(body(up)).toEqual({ tariffId: 'retail', imported: 2 });
    const rates = body(await h.call('GET', '/v1/tariffs/retail/rates?at=2026-06-01T00:00:00Z'));
    expect(
      (rates.items as { prefix: string; pricePerMinute: number; effectiveFrom: string }[]).map((r) => [r.prefix, r.pricePerMinute, r.effectiveFrom]),
    ).toEqual([
      ['44', 10_000, '2026-01-01T00:00:00.000Z'],
      ['4477', 50_000, '2026-01-01T00:00:00.000Z'],
    ]);
    expect((body(await h.call('GET', '/v1/tariffs/retail/rates?at=2025-06-01T00:00:00Z')).items as unknown[]).length).toBe(0);
    const down = await h.call('GET', '/v1/tariffs/retail/csv');
    expect(down.statusCode).toBe(200);
    expect(down.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(down.body).toContain('4477');
    const before = await snapshot(h.s);
    const bad = await h.call('PUT', '/v1/tariffs/retail?name=Retail&currency=GBP', {
      payload: `${CSV}abc,bad,x,0,0,60,60,2026-01-01T00:00:00Z,,answered\n`,
      headers: { 'content-type': 'text/csv' },
    });
    expect(bad.statusCode).toBe(400);
    expect(body(bad)).toMatchObject({ code: 'INVALID_TARIFF_CSV', errors: expect.arrayContaining([expect.objectContaining({ line: 4 })]) });
    expect((await h.call('PUT', '/v1/tariffs/retail?name=Retail&currency=GBP', { body: { csv: CSV } })).statusCode).toBe(415);
    expect(await snapshot(h.s)).toBe(before);
    expect((body(await h.call('GET', '/v1/tariffs')).items as { id: string; rates: number }[]).find((t) => t.id === 'retail')?.rates).toBe(2);
  });

  it("an account's tariff is in its currency: another currency is refused on assignment and on re-import while in use", async () => {
    const c = await h.customerWithAccount(); // a GBP account
    expect((await h.call('PUT', '/v1/tariffs/gbp-api?name=GBP&currency=GBP', { payload: CSV, headers: { 'content-type': 'text/csv' } })).statusCode).toBe(200);
    expect((await h.call('PUT', '/v1/tariffs/eur-api?name=EUR&currency=EUR', { payload: CSV, headers: { 'content-type': 'text/csv' } })).statusCode).toBe(200);
    const before = await snapshot(h.s);
    const wrong = await h.call('PATCH', `/v1/accounts/${c.account.id}`, { body: { tariffId: 'eur-api' } });
    expectProblem(expect, wrong, 409, 'TARIFF_CURRENCY_MISMATCH');
    expect(body(wrong).detail).toBe('tariff eur-api is priced in EUR; account ' + String(c.account.id) + ' is in GBP');
    expectProblem(
      expect,
      await h.call('POST', '/v1/accounts', { body: { customerId: c.customerId, currency: 'GBP', tariffId: 'eur-api' } }),
      409,
      'TARIFF_CURRENCY_MISMATCH',
    );
    expect(await snapshot(h.s)).toBe(before);
    expect(body(await h.call('PATCH', `/v1/accounts/${c.account.id}`, { body: { tariffId: 'gbp-api' } }))).toMatchObject({ tariffId: 'gbp-api' });
    const before2 = await snapshot(h.s);
    const reimport = await h.call('PUT', '/v1/tariffs/gbp-api?name=GBP&currency=EUR', { payload: CSV, headers: { 'content-type': 'text/csv' } });
    expectProblem(expect, reimport, 409, 'TARIFF_CURRENCY_IN_USE');
    expect(body(reimport).detail).toBe('tariff gbp-api is priced in GBP and 1 account uses it; it cannot be re-imported in EUR');
    expect(await snapshot(h.s)).toBe(before2);
    // unused, a tariff may change currency
    expect((await h.call('PUT', '/v1/tariffs/eur-api?name=EUR&currency=USD', { payload: CSV, headers: { 'content-type': 'text/csv' } })).statusCode).toBe(200);
  });

  it('carriers, gateways, access numbers and DIDs: create, read, replace, delete', async () => {
    const put = await h.call('PUT', '/v1/carriers/wholesale1', { body: { name: 'Wholesale One', prefixes: ['44'], addresses: ['192.0.2.0/24'] } });
    expect(put.statusCode).toBe(200);
    expect(body(put)).toMatchObject({ id: 'wholesale1', prefixes: ['44'], addresses: ['192.0.2.0/24'], gateways: [] });
    const gw = await h.call('POST', '/v1/carriers/wholesale1/gateways', {
      body: { address: '192.0.2.10', port: 5080, authUsername: 'u', authPassword: 'gateway-secret' },
    });
    expect(gw.statusCode).toBe(201);
    expect(body(gw)).toMatchObject({ address: '192.0.2.10', port: 5080, hasAuthPassword: true });
    expect(gw.body).not.toContain('gateway-secret');
    expect((body(await h.call('GET', '/v1/carriers/wholesale1', { key: h.keys.read })).gateways as unknown[]).length).toBe(1);
    expectProblem(expect, await h.call('POST', '/v1/carriers/nope/gateways', { body: { address: '192.0.2.11' } }), 404, 'UNKNOWN_CARRIER');
    expect(body(await h.call('DELETE', `/v1/gateways/${body(gw).id as number}`))).toEqual({ removed: true });
    expect(body(await h.call('DELETE', '/v1/carriers/wholesale1'))).toEqual({ removed: true });

    expect(body(await h.call('PUT', '/v1/access-numbers/%2B442079460000', { body: { language: 'en', description: 'London' } }))).toEqual({
      number: '+442079460000',
      language: 'en',
      description: 'London',
    });
    expect((body(await h.call('GET', '/v1/access-numbers')).items as unknown[]).length).toBe(1);
    expect(body(await h.call('DELETE', '/v1/access-numbers/%2B442079460000'))).toEqual({ removed: true });

    const c = await h.customerWithAccount();
    const did = await h.call('PUT', '/v1/dids/%2B441632960123', { body: { accountId: c.account.id } });
    expect(body(did)).toMatchObject({ number: '+441632960123', accountId: c.account.id, sipUsername: null });
    expectProblem(expect, await h.call('PUT', '/v1/dids/%2B441632960124', { body: { accountId: 999999 } }), 404, 'UNKNOWN_ACCOUNT');
    expect((body(await h.call('GET', `/v1/dids?accountId=${c.account.id}`)).items as unknown[]).length).toBe(1);
    expect(body(await h.call('DELETE', '/v1/dids/%2B441632960123'))).toEqual({ removed: true });
  });

  it('lists live calls from Redis and publishes a hang-up command on the SIP command channel', async () => {
    const c = await h.customerWithAccount({ credit: 10_000_000 });
    const res = await h.s.store.reserve(c.account.id, 'live-call-1@test', 1000, 100_000, Date.now() + 60_000);
    expect(res.ok).toBe(true);
    const list = body(await h.call('GET', `/v1/calls?accountId=${c.account.id}`, { key: h.keys.read }));
    expect(list.items).toEqual([
      {
        callId: 'live-call-1@test',
        accountId: c.account.id,
        state: 'reserved',
        reserved: 100_000,
        startedAt: expect.any(String),
        reservedUntil: expect.any(String),
      },
    ]);
    const sub = h.s.newRedis();
    const got = new Promise<string>((resolve) => sub.on('message', (_ch, m: string) => resolve(m)));
    await sub.subscribe(`${h.s.namespace}:sip:commands`);
    expectProblem(expect, await h.call('DELETE', '/v1/calls/live-call-1@test', { key: h.keys.billing }), 403, 'FORBIDDEN');
    const r = await h.call('DELETE', '/v1/calls/live-call-1@test');
    expect(r.statusCode).toBe(202);
    expect(body(r)).toEqual({ callId: 'live-call-1@test', accountId: c.account.id, receivers: 1 });
    expect(JSON.parse(await got)).toEqual({
      op: 'hangup',
      callId: 'live-call-1@test',
      accountId: c.account.id,
      requestedBy: expect.stringMatching(/^apikey:/),
      at: expect.any(Number),
    });
  });
});

describe('OpenAPI', () => {
  it('documents every route with schemas, and is rendered at /docs', async () => {
    const doc = body(await h.call('GET', '/openapi.json', { key: null }));
    const paths = doc.paths as Record<string, Record<string, { responses: Record<string, unknown>; parameters?: unknown[]; requestBody?: unknown }>>;
    const documented = h.routes.filter((r) => r.url !== '/openapi.json' && !r.url.startsWith('/docs'));
    expect(documented.length).toBeGreaterThan(70);
    for (const r of documented) {
      const p = r.url.replace(/:([A-Za-z]+)/g, '{$1}');
      const op = paths[p]?.[r.method.toLowerCase()];
      expect(op, `${r.method} ${r.url} missing from OpenAPI`).toBeDefined();
      expect(
        Object.keys(op!.responses).some((s) => /^2/.test(s)),
        `${r.method} ${r.url} has no success response schema`,
      ).toBe(true);
      expect(op!.responses['4XX'] ?? op!.responses['4xx'], `${r.method} ${r.url} lacks the problem schema`).toBeDefined();
      if (
        ['POST', 'PUT', 'PATCH'].includes(r.method) &&
        !r.url.endsWith('/logout') &&
        !/\/(suspend|resume|close|approve|reject|erasure|compromised|confirm|email-verification|disable)$/.test(r.url) &&
        r.url !== '/v1/accounts/:accountId/pin' &&
        !r.url.startsWith('/v1/customers/:customerId/erasure')
      ) {
        expect(op!.requestBody, `${r.method} ${r.url} lacks a body schema`).toBeDefined();
      }
    }
    const ui = await h.call('GET', '/docs/', { key: null });
    expect(ui.statusCode).toBe(200);
    expect(ui.headers['content-type']).toContain('text/html');
  });

  it('health, readiness and metrics are public', async () => {
    const health = await h.call('GET', '/health', { key: null });
    expect(health.statusCode).toBe(200);
    expect(health.headers['content-type']).toBe(JSON_TYPE);
    expect(body(health)).toEqual({ status: 'ok' });
    expect(body(await h.call('GET', '/ready', { key: null }))).toEqual({ status: 'ready', checks: { postgres: 'ok', redis: 'ok' } });
    const m = await h.call('GET', '/metrics', { key: null });
    expect(m.statusCode).toBe(200);
    for (const name of [
      'softswitch_calls_in_progress',
      'softswitch_ledger_pending_events',
      'softswitch_ledger_lag_seconds',
      'softswitch_http_request_duration_seconds_bucket',
    ])
      expect(m.body).toContain(name);
  });
});
