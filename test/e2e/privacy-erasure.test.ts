/**
 * The privacy promises end to end: a customer with a registered device, a call through the SIP
 * app, a top-up, caller IDs, contact data and a consent, handled by the account API; then erasure.
 * Afterwards no table, no Redis key of the namespace and no line the API's or the SIP app's
 * production loggers wrote (at debug level, personal data masked as in production) holds any of
 * the person's identifiers: name, e-mail, address, phone numbers, caller IDs, SIP username,
 * account number, call ids, payment reference. What is kept is what docs/privacy.md lists.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestPaymentProvider } from '../../src/accounts/payments/test-payment-provider.ts';
import { buildApi } from '../../src/api/api-app.ts';
import type { ApiContext } from '../../src/api/api-context.ts';
import { createLogger } from '../../src/observability/logger.ts';
import type { Logger } from '../../src/observability/logger.ts';
import { testSettings } from '../api/api-harness.ts';
import { clean, SipAppHarness } from '../support/sip-app-harness.ts';

const UK = '441632960001';
const dir = mkdtempSync(join(tmpdir(), 'privacy-e2e-'));
const sipLog = createLogger('debug', 'softswitch', { dest: join(dir, 'sip.log') });
const apiLog = createLogger('debug', 'softswitch-api', { dest: join(dir, 'api.log') });
let h: SipAppHarness;
let api: FastifyInstance;
let ctx: ApiContext;
let admin: string;

beforeAll(async () => {
  h = await SipAppHarness.start('privacye2e', { log: sipLog });
  const built = await buildApi({
    log: apiLog,
    pool: h.s.pool,
    redis: h.s.redis,
    balances: h.s.store,
    accounts: h.accountsSvc,
    tariffs: h.tariffs,
    payments: new TestPaymentProvider(),
    settings: testSettings(h.s.namespace),
  });
  api = built.app;
  ctx = built.ctx;
  await api.ready();
  admin = (await ctx.keys.create('admin', ['admin'], 'test')).key;
}, 60_000);
afterAll(async () => {
  await api?.close();
  await h?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const call = (method: string, url: string, body?: unknown, headers: Record<string, string> = {}) =>
  api.inject({
    method: method as 'GET',
    url,
    headers: { authorization: `Bearer ${admin}`, ...headers },
    ...(body !== undefined ? { payload: body as object } : {}),
  });
const flushed = (log: Logger) => new Promise<void>((resolve, reject) => log.flush((err) => (err ? reject(err) : resolve())));

describe('erasure end to end', () => {
  it('leaves none of the person in any table, any Redis key of the namespace, or the logs of the API and the SIP app', async () => {
    const d = await h.device(5_000_000);
    const customerId = d.account.customerId;
    const person = {
      name: 'Privacy Endtoend Person',
      email: 'privacy.endtoend@example.invalid',
      addressLine1: '77 Endtoend Road',
      city: 'Erasington',
      postalCode: 'ER7 7EE',
      phoneNumbers: ['+447700977771'],
    };
    expect((await call('PATCH', `/v1/customers/${customerId}`, person)).statusCode).toBe(200);
    expect((await call('POST', `/v1/accounts/${d.account.id}/clis`, { cli: '+447700977772' })).statusCode).toBe(201);
    const top = await call(
      'POST',
      `/v1/accounts/${d.account.id}/topups`,
      { amount: 1_000_000, provider: 'test', providerReference: 'payref-endtoend-77' },
      {
        'idempotency-key': 'e2e-topup-1',
      },
    );
    expect(top.statusCode).toBe(201);
    await ctx.consents.set(customerId, 'customer', true, `customer:${customerId}`, 'person');
    // the device registers (and once with a wrong password: that failure is logged), then calls
    clean(await h.run({ scenario: 'register-refused.xml', user: d.username, password: 'not-the-password', vars: { status: '403' } }));
    clean(await h.run({ scenario: 'register.xml', user: d.username, password: d.password }));
    expect(await ctx.registrations.bindingsOf(`${d.username}@sip.test`)).toHaveLength(1);
    const before = h.settled.length;
    const carrier = h.carrier(0, 'uas-answer-recv-bye.xml');
    const caller = h.run({ scenario: 'device-call.xml', service: `00${UK}`, user: d.username, password: d.password, pauseMs: 500 });
    clean(await caller, await carrier.done);
    await h.waitSettled(before + 1);
    await h.drain();
    const callIds = (await h.s.pool.query<{ call_id: string }>('select call_id from cdrs where account_id = $1', [d.account.id])).rows.map((r) => r.call_id);
    expect(callIds).toHaveLength(1);
    // reads an operator makes are logged and audited too
    expect((await call('GET', `/v1/customers/${customerId}`)).statusCode).toBe(200);
    expect((await call('GET', `/v1/cdrs?accountId=${d.account.id}`)).statusCode).toBe(200);

    const erased = await call('POST', `/v1/customers/${customerId}/erasure`);
    expect(erased.statusCode).toBe(200);
    await h.drain();

    const identifiers = [
      person.name,
      person.email,
      person.addressLine1,
      person.city,
      person.postalCode,
      ...person.phoneNumbers,
      '+447700977772',
      d.username,
      d.account.number,
      'payref-endtoend-77',
      ...callIds,
    ];
    // every table
    const { rows: tables } = await h.s.pool.query<{ table_name: string }>(
      "select table_name from information_schema.tables where table_schema = $1 and table_type = 'BASE TABLE' and table_name not like 'cdrs_%'",
      [h.s.schema],
    );
    for (const { table_name: t } of tables) {
      const dump = JSON.stringify((await h.s.pool.query(`select * from "${t}"`)).rows);
      for (const id of identifiers.filter((x) => x !== d.account.number || t !== 'accounts'))
        expect(dump.includes(id), `table ${t} still holds ${id}`).toBe(false);
    }
    // every Redis key of the namespace, whatever its type
    const keys = await h.s.redis.keys(`${h.s.namespace}:*`);
    for (const k of keys) {
      const type = await h.s.redis.type(k);
      const value =
        type === 'hash'
          ? await h.s.redis.hgetall(k)
          : type === 'string'
            ? await h.s.redis.get(k)
            : type === 'set'
              ? await h.s.redis.smembers(k)
              : type === 'zset'
                ? await h.s.redis.zrange(k, '0', '-1', 'WITHSCORES')
                : type === 'list'
                  ? await h.s.redis.lrange(k, 0, -1)
                  : type === 'stream'
                    ? await h.s.redis.xrange(k, '-', '+')
                    : '';
      const text = `${k} ${JSON.stringify(value)}`;
      for (const id of identifiers) expect(text.includes(id), `Redis ${k} still holds ${id}`).toBe(false);
    }
    // the captured logs of both processes
    await flushed(sipLog);
    await flushed(apiLog);
    const logs = { sip: readFileSync(join(dir, 'sip.log'), 'utf8'), api: readFileSync(join(dir, 'api.log'), 'utf8') };
    expect(logs.sip).toContain(String(d.account.id)); // the app did log this customer's call (by internal id)
    expect(logs.sip.split('\n').length).toBeGreaterThan(5);
    expect(logs.api).toContain('/v1/customers/:customerId/erasure');
    for (const [name, text] of Object.entries(logs)) for (const id of identifiers) expect(text.includes(id), `${name} log holds ${id}`).toBe(false);
  }, 90_000);
});
