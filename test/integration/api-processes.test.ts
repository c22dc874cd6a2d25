// API_PROCESSES=2: the account API as two node:cluster workers sharing one port, started as in
// production (node --import tsx src/api/api-main.ts), against this file's own schema and namespace.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountService } from '../../src/accounts/account-service.ts';
import { ApiKeyStore } from '../../src/accounts/api-keys.ts';
import { BalanceStore } from '../../src/billing/balance/balance-store.ts';
import { deleteNamespace } from '../support/redis-namespace.ts';
import { setupServices, TEST_DATABASE_URL, TEST_PEPPER, TEST_REDIS_URL } from '../support/services.ts';
import type { TestServices } from '../support/services.ts';

let s: TestServices;
let child: ChildProcess;
let key = '';
const listening: { pid: number; port: number }[] = [];
const output: string[] = [];
const ns = () => s.namespace.replace(/[^A-Za-z0-9_-]/g, '_');

beforeAll(async () => {
  s = await setupServices('apiprocs', { shards: 16 });
  key = (await new ApiKeyStore(s.pool).create('processes test', ['read'], 'test')).key;
  child = spawn(process.execPath, ['--import', 'tsx', 'src/api/api-main.ts'], {
    env: {
      ...process.env,
      DATABASE_URL: TEST_DATABASE_URL,
      DATABASE_SCHEMA: s.schema,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_NAMESPACE: ns(),
      REDIS_SHARDS: '16',
      PIN_PEPPER: TEST_PEPPER,
      DRACHTIO_SECRET: 'process-test',
      SIP_NONCE_KEY: 'n'.repeat(32),
      API_HOST: '127.0.0.1',
      API_PORT: '0',
      LOG_LEVEL: 'info',
      AUTO_TOPUP_INTERVAL_MS: '0',
      API_PROCESSES: '2',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr!.on('data', (d: Buffer) => output.push(String(d)));
  const lines = createInterface({ input: child.stdout! });
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`API workers did not start: ${output.join('')}`)), 45_000);
    lines.on('line', (line) => {
      output.push(line);
      if (!line.includes('account API listening')) return;
      const { pid, port } = JSON.parse(line) as { pid: number; port: number };
      listening.push({ pid, port });
      if (listening.length === 2) {
        clearTimeout(t);
        resolve();
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
    await deleteNamespace(s.redis, ns());
    await s.teardown();
  }
});

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('API_PROCESSES=2', () => {
  it('runs two worker processes on one port, each serving the balance route', async () => {
    expect(new Set(listening.map((l) => l.pid)).size).toBe(2);
    expect(listening.every((l) => l.pid !== child.pid)).toBe(true);
    expect(new Set(listening.map((l) => l.port)).size).toBe(1);
    // an account in the namespace the API process uses
    const store = new BalanceStore(s.redis, { namespace: ns(), shards: 16 });
    const svc = new AccountService(s.pool, store, TEST_PEPPER);
    const a = await svc.createAccount({ customerId: await svc.createCustomer({ name: 'Two Workers' }), currency: 'GBP' });
    expect(await store.topUp(a.id, `opening-${a.id}`, 1_234_000, 'test', 'ref')).toMatchObject({ ok: true });
    const base = `http://127.0.0.1:${listening[0]!.port}`;
    // new connections each: the primary hands them to the workers in turn
    const bodies = await Promise.all(
      Array.from({ length: 6 }, async () => {
        const r = await fetch(`${base}/v1/accounts/${a.id}/balance`, { headers: { authorization: `Bearer ${key}`, connection: 'close' } });
        expect(r.status).toBe(200);
        return r.json() as Promise<{ balance: number; durableBalance: number }>;
      }),
    );
    for (const b of bodies) expect(b).toMatchObject({ balance: 1_234_000 });
  });

  it('SIGTERM stops every worker, then the supervising process', async () => {
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    for (const l of listening) expect(alive(l.pid)).toBe(false);
  });
});
