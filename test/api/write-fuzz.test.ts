import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { harness, snapshot } from './api-harness.ts';
import type { Harness } from './api-harness.ts';

let h: Harness;
let target: { customerId: number; accountId: number; token: string };
beforeAll(async () => {
  h = await harness('apifuzz');
  const c = await h.customerWithAccount({ credit: 1_000_000, username: 'fuzzer' });
  const login = await h.app.inject({ method: 'POST', url: '/v1/self/login', payload: { username: 'fuzzer', password: 'correct horse battery' } });
  target = { customerId: c.customerId, accountId: c.account.id, token: (login.json() as { token: string }).token };
});
afterAll(async () => { await h?.close(); });

/** JSON values biased towards what the write routes look for: their field names, money-like numbers, E.164-like strings. */
const FIELDS = ['name', 'email', 'amount', 'pin', 'newPin', 'currentPin', 'password', 'cli', 'optedIn', 'enabled', 'threshold', 'paymentToken', 'reason',
  'adjustmentId', 'maxConcurrentCalls', 'dailySpendCap', 'creditFloor', 'tariffId', 'phoneNumbers', 'country', 'scopes', 'suspendAccounts', 'currency', 'customerId'];
const leaf = fc.oneof(
  fc.integer(), fc.double(), fc.constantFrom(0, -1, 1e15, 1e16, 2 ** 53, Number.MAX_SAFE_INTEGER), fc.boolean(), fc.constant(null),
  fc.string(), fc.constantFrom('+447700900123', '4111111111111111', '12345678', 'GBP', 'admin', 'tok_test_ok', '', ' ', '\u0000'),
);
const value = fc.letrec((tie) => ({ v: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('v'), { maxLength: 3 }), fc.dictionary(fc.constantFrom(...FIELDS), tie('v'), { maxKeys: 3 })) })).v;
const bodyArb = fc.oneof(fc.dictionary(fc.constantFrom(...FIELDS), value, { maxKeys: 5 }), value);

describe('write routes under arbitrary JSON bodies', () => {
  it('answer 2xx or 4xx, never 5xx, and a 4xx changes nothing', async () => {
    const a = target.accountId;
    const routes: [string, string, 'admin' | 'customer'][] = [
      ['POST', '/v1/customers', 'admin'], ['PATCH', `/v1/customers/${target.customerId}`, 'admin'], ['POST', '/v1/accounts', 'admin'],
      ['PATCH', `/v1/accounts/${a}`, 'admin'], ['POST', `/v1/accounts/${a}/topups`, 'admin'], ['POST', `/v1/accounts/${a}/adjustments`, 'admin'],
      ['POST', `/v1/accounts/${a}/pin`, 'admin'], ['POST', `/v1/accounts/${a}/clis`, 'admin'], ['PUT', `/v1/accounts/${a}/sip-credentials/fuzzdev`, 'admin'],
      ['POST', '/v1/api-keys', 'admin'], ['PUT', '/v1/carriers/fuzz', 'admin'], ['PUT', '/v1/dids/%2B441632960999', 'admin'],
      ['POST', `/v1/customers/${target.customerId}/restriction`, 'admin'], ['PUT', `/v1/customers/${target.customerId}/consents/customer`, 'admin'],
      ['PATCH', '/v1/self', 'customer'], ['PUT', '/v1/self/pin', 'customer'], ['PUT', '/v1/self/password', 'customer'], ['POST', '/v1/self/clis', 'customer'],
      ['PUT', '/v1/self/auto-topup', 'customer'], ['PUT', '/v1/self/consents/potential_customer', 'customer'], ['POST', '/v1/self/login', 'customer'],
    ];
    await fc.assert(fc.asyncProperty(fc.constantFrom(...routes), bodyArb, fc.boolean(), async ([method, url, who], b, withKey) => {
      const before = await snapshot(h.s);
      const live = JSON.stringify(await h.s.store.get(a));
      const r = await h.app.inject({
        method: method as 'POST', url, payload: JSON.stringify(b),
        headers: { 'content-type': 'application/json', authorization: `Bearer ${who === 'admin' ? h.keys.admin : target.token}`, ...(withKey ? { 'idempotency-key': 'fuzz-key' } : {}) },
      });
      expect(r.statusCode, `${method} ${url} ${JSON.stringify(b)} -> ${r.body}`).toBeLessThan(500);
      if (r.statusCode >= 400) {
        expect(r.headers['content-type']).toBe('application/problem+json; charset=utf-8');
        expect(await snapshot(h.s), `${method} ${url} ${JSON.stringify(b)} changed data but answered ${r.statusCode}`).toBe(before);
        expect(JSON.stringify(await h.s.store.get(a))).toBe(live);
      }
    }), { numRuns: 300 });
  }, 150_000);
});
