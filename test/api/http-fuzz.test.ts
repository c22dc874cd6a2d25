/**
 * The HTTP fuzzer: seeded requests over every operation of the OpenAPI document
 * (test/api/openapi-requests.ts), as operators of each scope, as a customer, with no or a garbage
 * credential. Never a 5xx; every refusal is application/problem+json (web pages answer their own
 * HTML error page); a refused request changes no row and no live balance.
 *
 *   HTTP_FUZZ_RUNS   requests per run (default 5000; CI runs the default)
 *   HTTP_FUZZ_SEED   the seed (default: random, printed on failure so a run can be replayed)
 */
import fc from 'fast-check';
import { TestPaymentProvider } from '../../src/accounts/payments/test-payment-provider.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { harness, PROBLEM } from './api-harness.ts';
import type { Harness } from './api-harness.ts';
import { operationsOf, requestFor } from './openapi-requests.ts';
import type { FuzzRequest, Ids } from './openapi-requests.ts';

const RUNS = Number(process.env.HTTP_FUZZ_RUNS ?? 5000);
const SEED = process.env.HTTP_FUZZ_SEED === undefined ? undefined : Number(process.env.HTTP_FUZZ_SEED);
/** Tables a refused request must not change (the audit log and sessions are allowed to record the attempt). */
const TABLES = [
  'customers',
  'accounts',
  'pins',
  'authorised_clis',
  'cli_requests',
  'sip_credentials',
  'topups',
  'auto_topups',
  'auto_topup_charges',
  'marketing_consents',
  'api_keys',
  'carriers',
  'gateways',
  'dids',
  'access_numbers',
  'tariffs',
  'rates',
  'ledger_entries',
];

let h: Harness;
let ids: Ids;
let token = '';
beforeAll(async () => {
  // with a checkout provider, so the order routes are fuzzed too
  h = await harness(
    'apifuzz',
    {
      rateLimit: 1_000_000,
      session: { ttlSeconds: 900, maxFailures: 1_000_000, maxFailuresPerSource: 1_000_000, windowSeconds: 900 },
    },
    { checkout: new TestPaymentProvider() },
  );
  await freshTarget();
});
afterAll(async () => {
  await h?.close();
});

/** A customer with credit and a session: replaced now and then, since the fuzzer may close, erase or log it out. */
async function freshTarget(): Promise<void> {
  const c = await h.customerWithAccount({ credit: 5_000_000 });
  const other = await h.customerWithAccount({ credit: 1_000_000 });
  const login = await h.app.inject({ method: 'POST', url: '/v1/self/login', payload: { username: c.account.username, password: 'correct horse battery' } });
  token = (login.json() as { token: string }).token;
  ids = { accountId: c.account.id, customerId: c.customerId, otherAccountId: other.account.id, cli: `+4477009${String(c.account.id).padStart(5, '0')}` };
}

async function digest(): Promise<string> {
  const cols = TABLES.map((t) => `(select md5(coalesce(string_agg(x::text, '|' order by x::text), '')) from ${t} x) as ${t}`).join(', ');
  const { rows } = await h.s.pool.query(`select ${cols}`);
  const live = await Promise.all([ids.accountId, ids.otherAccountId].map((a) => h.s.store.get(a)));
  return JSON.stringify([rows[0], live]);
}

function credential(r: FuzzRequest): Record<string, string> {
  switch (r.principal) {
    case 'admin':
    case 'billing':
    case 'read':
      return { authorization: `Bearer ${h.keys[r.principal]}` };
    case 'customer':
      return { authorization: `Bearer ${token}` };
    case 'garbage':
      return { authorization: 'Bearer sk_000000000000_not-a-key' };
    case 'none':
      return {};
  }
}

describe('HTTP fuzzer over the OpenAPI document', () => {
  it(`${RUNS} seeded requests: never a 5xx, every refusal problem+json, a refusal changes nothing`, async () => {
    const doc = h.app.swagger() as Parameters<typeof operationsOf>[0];
    // event streams never end by themselves: they are fuzzed without credentials only (refused at once)
    const ops = operationsOf(doc);
    expect(ops.length).toBeGreaterThan(100);
    const seen = new Set<string>();
    let n = 0;
    const property = fc.asyncProperty(
      requestFor(ops, {
        get accountId() {
          return ids.accountId;
        },
        get customerId() {
          return ids.customerId;
        },
        get otherAccountId() {
          return ids.otherAccountId;
        },
        get cli() {
          return ids.cli;
        },
      }),
      async (req) => {
        if (++n % 500 === 0) await freshTarget();
        const stream = /\/events$/.test(req.route);
        const headers = { ...req.headers, ...(stream ? {} : credential(req)) };
        const before = await digest();
        const r = await h.app.inject({ method: req.method as 'GET', url: req.url, headers, ...(req.payload !== undefined ? { payload: req.payload } : {}) });
        seen.add(req.route);
        const what = `${req.method} ${req.url.slice(0, 200)} as ${req.principal} ${JSON.stringify(req.headers)} ${(req.payload ?? '').toString().slice(0, 300)} -> ${r.statusCode} ${r.body.slice(0, 300)}`;
        expect(r.statusCode, what).toBeLessThan(500);
        if (r.statusCode >= 400) {
          const web = req.tags.includes('web') && String(r.headers['content-type']).startsWith('text/html');
          if (!web) {
            expect(r.headers['content-type'], what).toBe(PROBLEM);
            expect(r.json(), what).toMatchObject({ status: r.statusCode, code: expect.any(String), type: expect.stringMatching(/^about:blank#/) });
          }
          expect(await digest(), `refused but changed data: ${what}`).toBe(before);
        }
      },
    );
    await fc.assert(property, { numRuns: RUNS, endOnFailure: true, ...(SEED === undefined ? {} : { seed: SEED }) });
    expect(seen.size / ops.length, `routes reached: ${seen.size} of ${ops.length}`).toBeGreaterThan(0.9);
  }, 600_000);
});
