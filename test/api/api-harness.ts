/**
 * The account API built in-process against this file's own Postgres schema and Redis namespace
 * (test/support/services.ts), with keys for each scope and a captured log.
 */
import { Writable } from 'node:stream';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import pino from 'pino';
import { AccountService } from '../../src/accounts/account-service.ts';
import type { Account } from '../../src/accounts/account-service.ts';
import { TestPaymentProvider } from '../../src/accounts/payments/test-payment-provider.ts';
import { buildApi } from '../../src/api/api-app.ts';
import type { ApiContext, ApiSettings } from '../../src/api/api-context.ts';
import type { VerificationMailer } from '../../src/accounts/email-verification.ts';
import type { CheckoutProvider } from '../../src/accounts/payments/payment-provider.ts';
import { TariffRepository } from '../../src/billing/tariff-repository.ts';
import { setupServices, TEST_PEPPER } from '../support/services.ts';
import type { TestServices } from '../support/services.ts';

export interface Harness {
  s: TestServices;
  app: FastifyInstance;
  routes: { method: string; url: string; access: string }[];
  ctx: ApiContext;
  accounts: AccountService;
  payments: TestPaymentProvider;
  keys: { admin: string; billing: string; read: string };
  logs: string[];
  call(
    method: string,
    url: string,
    opts?: { key?: string | null; body?: unknown; headers?: Record<string, string>; payload?: string },
  ): Promise<LightMyRequestResponse>;
  directoryEmail(customerId: number): Promise<string>;
  /** Verifies the customer's address the way an operator and the customer do (a code issued, then entered). */
  verifyEmail(customerId: number): Promise<void>;
  customerWithAccount(opts?: { username?: string; password?: string; email?: string; credit?: number }): Promise<{ customerId: number; account: Account }>;
  close(): Promise<void>;
}

export const PROBLEM = 'application/problem+json; charset=utf-8';
export const JSON_TYPE = 'application/json; charset=utf-8';

export function testSettings(namespace: string, over: Partial<ApiSettings> = {}): ApiSettings {
  return {
    namespace,
    realm: 'test.local',
    rateLimit: 100_000,
    apiKeyCacheMs: 0,
    durableBalanceCacheMs: 0,
    trustProxy: false,
    session: { ttlSeconds: 900, maxFailures: 5, maxFailuresPerSource: 20, windowSeconds: 900 },
    retention: { cdrMonths: 12, contactYears: 6, paymentReferenceMonths: 24, ledgerYears: 10, auditYears: 6, consentEventYears: 6, mailMonths: 24 },
    autoTopUp: { maxAmount: 100_000_000, maxThreshold: 50_000_000, maxPerDay: 200_000_000 },
    balanceStreamIntervalMs: 50,
    vouchers: { key: 'test-voucher-key-0123456789-abcdefghijklmnop', maxPerAccount: 10, maxPerSource: 30, windowSeconds: 3600 },
    ...over,
  };
}

export async function harness(
  label: string,
  over: Partial<ApiSettings> = {},
  deps: { mailer?: VerificationMailer; checkout?: CheckoutProvider } = {},
): Promise<Harness> {
  const s = await setupServices(label);
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  const log = pino({ level: 'trace' }, sink);
  const accounts = new AccountService(s.pool, s.store, TEST_PEPPER);
  const payments = new TestPaymentProvider();
  const { app, ctx, routes } = await buildApi({
    log,
    pool: s.pool,
    redis: s.redis,
    balances: s.store,
    accounts,
    tariffs: new TariffRepository(s.pool),
    payments,
    settings: testSettings(s.namespace, over),
    ...deps,
  });
  await app.ready();
  const keys = {
    admin: (await ctx.keys.create('admin', ['admin'], 'test')).key,
    billing: (await ctx.keys.create('billing', ['billing'], 'test')).key,
    read: (await ctx.keys.create('read', ['read'], 'test')).key,
  };
  let n = 0;
  const h: Harness = {
    s,
    app,
    routes,
    ctx,
    accounts,
    payments,
    keys,
    logs,
    call(method, url, o = {}) {
      const key = o.key === undefined ? keys.admin : o.key;
      const headers: Record<string, string> = { ...(key ? { authorization: `Bearer ${key}` } : {}), ...o.headers };
      return app.inject({
        method: method as 'GET',
        url,
        headers,
        ...(o.body !== undefined ? { payload: o.body as object } : {}),
        ...(o.payload !== undefined ? { payload: o.payload } : {}),
      });
    },
    async customerWithAccount(o = {}) {
      n++;
      const customerId = await accounts.createCustomer({
        name: `Customer ${n}`,
        email: o.email ?? `c${n}-${s.id}@example.invalid`,
        addressLine1: `${n} High Street`,
        city: 'Leeds',
        postalCode: 'LS1 1AA',
        country: 'GB',
        phoneNumbers: [`+4477009${String(n).padStart(5, '0')}`],
      });
      const account = await accounts.createAccount({
        customerId,
        currency: 'GBP',
        username: o.username ?? `user${n}_${s.id}`.slice(0, 64),
        password: o.password ?? 'correct horse battery',
      });
      if (o.credit) await s.store.topUp(account.id, `open-${account.id}`, o.credit, 'test', `ref-open-${account.id}`);
      return { customerId, account };
    },
    async verifyEmail(customerId) {
      const { token } = await ctx.emailVerification.issue(customerId, 'test');
      await ctx.emailVerification.confirm(customerId, token);
    },
    async directoryEmail(customerId) {
      return (await ctx.directory.get(customerId)).email ?? '';
    },
    async close() {
      await app.close();
      await s.teardown();
    },
  };
  return h;
}

export function body(r: LightMyRequestResponse): Record<string, unknown> {
  return r.json() as Record<string, unknown>;
}

/** Asserts a problem+json response: status, content type and the exact body (detail as given, or any string). */
export function expectProblem(
  expect: (v: unknown) => { toBe(x: unknown): void; toEqual(x: unknown): void },
  r: LightMyRequestResponse,
  status: number,
  code: string,
  detail?: string,
): void {
  expect(r.statusCode).toBe(status);
  expect(r.headers['content-type']).toBe(PROBLEM);
  const b = r.json() as Record<string, unknown>;
  expect({ ...b, detail: detail === undefined ? typeof b.detail : b.detail, errors: undefined }).toEqual({
    type: `about:blank#${code}`,
    title: code,
    status,
    code,
    detail: detail ?? 'string',
    instance: r.raw.req.url?.split('?')[0],
    errors: undefined,
  });
}

/** Every row of every table in the file's schema, for "nothing changed" checks. */
export async function snapshot(
  s: TestServices,
  tables = [
    'customers',
    'accounts',
    'pins',
    'authorised_clis',
    'cli_requests',
    'sip_credentials',
    'topups',
    'auto_topups',
    'marketing_consents',
    'api_keys',
    'carriers',
    'gateways',
    'dids',
    'access_numbers',
    'tariffs',
    'rates',
  ],
): Promise<string> {
  const out: Record<string, unknown> = {};
  for (const t of tables) out[t] = (await s.pool.query(`select * from ${t} order by 1`)).rows;
  return JSON.stringify(out);
}

/** A customer's self-care session: the cookies (the pre-login one and the session) of a login through the /my/login form. */
export async function selfCareSession(h: Harness, username: string, password = 'correct horse battery'): Promise<string> {
  const login = await h.app.inject({ method: 'GET', url: '/my/login' });
  const pre = String(login.headers['set-cookie']).split(';')[0]!;
  const csrf = /name="_csrf" value="([^"]+)"/.exec(login.body)![1]!;
  const ok = await h.app.inject({
    method: 'POST',
    url: '/my/login',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: pre },
    payload: new URLSearchParams({ _csrf: csrf, username, password }).toString(),
  });
  return [pre, ...[ok.headers['set-cookie']].flat().map((x) => String(x).split(';')[0])].join('; ');
}

/** An operator console session (the ss_op cookie) signed in with an API key. */
export async function consoleSession(h: Harness, key: string): Promise<string> {
  const page = await h.app.inject({ method: 'GET', url: '/console/login' });
  const cookie = String(page.headers['set-cookie']).split(';')[0]!;
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!;
  const r = await h.app.inject({
    method: 'POST',
    url: '/console/login',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
    payload: `_csrf=${csrf}&key=${key}`,
  });
  return ([] as string[])
    .concat(r.headers['set-cookie'] as string[])
    .find((x) => x.startsWith('ss_op'))!
    .split(';')[0]!;
}
