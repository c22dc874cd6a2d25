// The account API started as in production (node --import tsx src/api/api-main.ts) on a random
// loopback port, against this file's own Postgres schema and Redis namespace, on a single Redis and
// on a Redis Cluster (REDIS_CLUSTER_NODES).
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyStore } from '../../src/accounts/api-keys.ts';
import { accountsOf } from '../support/fixtures.ts';
import { deleteNamespace } from '../support/redis-namespace.ts';
import { REDIS_KINDS, setupServices, TEST_DATABASE_URL, TEST_PEPPER, TEST_REDIS_URL } from '../support/services.ts';
import type { TestServices } from '../support/services.ts';

let s: TestServices;
let child: ChildProcess;
let base = '';
let key = '';
const output: string[] = [];

const auth = () => ({ authorization: `Bearer ${key}` });

describe.each(REDIS_KINDS)('on %s Redis', (redis) => {
  beforeAll(async () => {
    s = await setupServices('apiproc', { shards: 16, redis });
    output.length = 0;
    key = (await new ApiKeyStore(s.pool).create('process test', ['admin'], 'test')).key;
    child = spawn(process.execPath, ['--import', 'tsx', 'src/api/api-main.ts'], {
      env: {
        ...process.env,
        DATABASE_URL: TEST_DATABASE_URL,
        DATABASE_SCHEMA: s.schema,
        REDIS_URL: s.cluster?.target.redisUrl ?? TEST_REDIS_URL,
        REDIS_CLUSTER_NODES: s.cluster?.nodes ?? '',
        REDIS_NAMESPACE: s.namespace.replace(/[^A-Za-z0-9_-]/g, '_'),
        REDIS_SHARDS: '16',
        PIN_PEPPER: TEST_PEPPER,
        DRACHTIO_SECRET: 'process-test',
        SIP_NONCE_KEY: 'n'.repeat(32),
        API_HOST: '127.0.0.1',
        API_PORT: '0',
        LOG_LEVEL: 'info',
        AUTO_TOPUP_INTERVAL_MS: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stderr!.on('data', (d: Buffer) => output.push(String(d)));
    const lines = createInterface({ input: child.stdout! });
    base = await new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`API did not start: ${output.join('')}`)), 30_000);
      lines.on('line', (line) => {
        output.push(line);
        const m = /"port":(\d+).*account API listening/.exec(line);
        if (m) {
          clearTimeout(t);
          resolve(`http://127.0.0.1:${m[1]}`);
        }
      });
    });
  }, 60_000);

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    if (s) {
      // the process used a sanitised namespace; remove its keys too
      await deleteNamespace(s.redis, s.namespace.replace(/[^A-Za-z0-9_-]/g, '_'));
      await s.teardown();
    }
  });

  describe('the API process', () => {
    it('serves health, readiness, the OpenAPI document and its rendering', async () => {
      expect(await (await fetch(`${base}/health`)).json()).toEqual({ status: 'ok' });
      expect((await fetch(`${base}/ready`)).status).toBe(200);
      const doc = (await (await fetch(`${base}/openapi.json`)).json()) as { paths: Record<string, unknown> };
      expect(Object.keys(doc.paths)).toContain('/v1/accounts/{accountId}/balance');
      expect((await fetch(`${base}/docs/`)).headers.get('content-type')).toContain('text/html');
    });

    it('creates a customer and account, tops it up once per key, and reads the balance', async () => {
      const c = await fetch(`${base}/v1/customers`, {
        method: 'POST',
        headers: { ...auth(), 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'Process Customer' }),
      });
      expect(c.status).toBe(201);
      const customer = (await c.json()) as { id: number };
      const a = (await (
        await fetch(`${base}/v1/accounts`, {
          method: 'POST',
          headers: { ...auth(), 'content-type': 'application/json' },
          body: JSON.stringify({ customerId: customer.id, currency: 'GBP' }),
        })
      ).json()) as { id: number };
      const topUp = () =>
        fetch(`${base}/v1/accounts/${a.id}/topups`, {
          method: 'POST',
          headers: { ...auth(), 'content-type': 'application/json', 'idempotency-key': 'proc-1' },
          body: JSON.stringify({ amount: 10_000_000 }),
        });
      expect((await topUp()).status).toBe(201);
      expect((await topUp()).status).toBe(200);
      const b = await fetch(`${base}/v1/accounts/${a.id}/balance`, { headers: auth() });
      expect(b.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(await b.json()).toMatchObject({ accountId: a.id, balance: 10_000_000, available: 10_000_000, currency: 'GBP', unit: 'micro' });
      const unauth = await fetch(`${base}/v1/accounts/${a.id}/balance`);
      expect(unauth.status).toBe(401);
      expect(unauth.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
    });

    it('streams balance changes as server-sent events', async () => {
      const svc = accountsOf(s);
      const customerId = await svc.createCustomer({ name: 'Stream' });
      const acct = (await (
        await fetch(`${base}/v1/accounts`, {
          method: 'POST',
          headers: { ...auth(), 'content-type': 'application/json' },
          body: JSON.stringify({ customerId, currency: 'GBP' }),
        })
      ).json()) as { id: number };
      const ac = new AbortController();
      const res = await fetch(`${base}/v1/accounts/${acct.id}/balance/events`, { headers: auth(), signal: ac.signal });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/event-stream');
      const reader = res.body!.getReader();
      const events: { balance: number }[] = [];
      let buf = '';
      const next = async () => {
        while (!buf.includes('\n\n')) buf += new TextDecoder().decode((await reader.read()).value);
        const i = buf.indexOf('\n\n');
        const chunk = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const data = /^data: (.*)$/m.exec(chunk)?.[1];
        if (data) events.push(JSON.parse(data) as { balance: number });
      };
      await next();
      expect(events[0]).toMatchObject({ balance: 0 });
      await fetch(`${base}/v1/accounts/${acct.id}/topups`, {
        method: 'POST',
        headers: { ...auth(), 'content-type': 'application/json', 'idempotency-key': 'sse-1' },
        body: JSON.stringify({ amount: 42 }),
      });
      await next();
      expect(events[1]).toMatchObject({ balance: 42 });
      ac.abort();
    });

    it('serves the metrics read from every balance shard (calls in progress, ledger backlog)', async () => {
      const text = await (await fetch(`${base}/metrics`)).text();
      expect(text).toMatch(/^softswitch_calls_in_progress \d+$/m);
      expect(text).toMatch(/^softswitch_ledger_pending_events \d+$/m);
    });

    it('logs no secrets', () => {
      expect(output.join('\n')).not.toContain(key);
    });
  });
});
