/**
 * Redis restarted with AOF (fault 5 of the suite), on a Redis of the test's own: balances, open
 * reservations, settled-call markers and the unwritten events in the streams survive a crash
 * (SIGKILL) and restart; calls open across the restart settle once; every CDR reaches Postgres
 * once and Redis and Postgres agree afterwards.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountService } from '../../src/accounts/account-service.ts';
import { BalanceStore } from '../../src/billing/balance/balance-store.ts';
import { LedgerWriter } from '../../src/ledger/ledger-writer.ts';
import { PostgresLedgerSink } from '../../src/ledger/postgres-ledger-sink.ts';
import { reconcile } from '../../src/ledger/reconcile.ts';
import { randomPort } from '../support/edge-apps/ports.ts';
import { cdrFor } from '../support/fixtures.ts';
import { setupServices, TEST_PEPPER } from '../support/services.ts';
import type { TestServices } from '../support/services.ts';

let s: TestServices;
let dir: string;
let port: number;
let server: ChildProcess | undefined;

async function startRedis(): Promise<void> {
  server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--appendonly', 'yes', '--appendfsync', 'always',
    '--save', '', '--dir', dir, '--logfile', join(dir, 'redis.log')], { stdio: 'ignore' });
  const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => undefined);
  for (let i = 0; i < 100; i++) {
    try { await probe.connect(); if ((await probe.ping()) === 'PONG') break; } catch { /* not yet */ }
    probe.disconnect();
    await new Promise((r) => setTimeout(r, 100));
  }
  probe.disconnect();
}

async function crashRedis(): Promise<void> {
  const p = server!;
  const gone = new Promise((r) => p.once('exit', r));
  p.kill('SIGKILL');
  await gone;
}

beforeAll(async () => {
  s = await setupServices('redisrestart');
  dir = mkdtempSync(join(tmpdir(), 'softswitch-redis-'));
  port = randomPort();
  await startRedis();
});
afterAll(async () => {
  server?.kill('SIGTERM');
  await s.teardown();
  rmSync(dir, { recursive: true, force: true });
});

describe('Redis crashes and restarts with AOF', () => {
  it('loses no money, no reservation and no CDR; open calls settle once afterwards', async () => {
    const redis = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 20 });
    redis.on('error', () => undefined);                 // refused while the server is down: ioredis reconnects
    const store = new BalanceStore(redis, { namespace: s.namespace, shards: 4 });
    const accounts = new AccountService(s.pool, store, TEST_PEPPER);
    const customerId = await accounts.createCustomer({ name: 'Restart' });
    const a = await accounts.createAccount({ customerId, currency: 'GBP', maxConcurrentCalls: 10 });
    expect(await store.topUp(a.id, 'opening', 1_000_000, 'test', 'r')).toMatchObject({ ok: true });
    for (const id of ['c1', 'c2', 'c3']) await store.reserve(a.id, id, 1, 100_000, Date.now() + 600_000);
    await store.settle(a.id, cdrFor('c1', a.id, 40_000));
    await store.settle(a.id, cdrFor('c2', a.id, 25_000));
    const before = await store.get(a.id);
    expect(before).toMatchObject({ balance: 935_000, reserved: 100_000, callsInProgress: 1 });

    await crashRedis();
    await startRedis();

    expect(await store.get(a.id)).toEqual(before);                                   // live money and the open reservation
    expect(await store.settle(a.id, cdrFor('c1', a.id, 40_000))).toMatchObject({ duplicate: true });   // settled markers kept
    expect(await store.settle(a.id, cdrFor('c3', a.id, 10_000))).toMatchObject({ ok: true, debited: 10_000, duplicate: false });
    expect(await store.get(a.id)).toMatchObject({ balance: 925_000, reserved: 0, callsInProgress: 0 });

    const writer = new LedgerWriter(redis.duplicate(), new PostgresLedgerSink(s.pool), {
      streams: store.keys.allStreams(), deadLetterStream: `${s.namespace}:dl`, logger: s.logger,
    });
    await writer.drain();
    const { rows } = await s.pool.query<{ cdrs: string; balance: number }>(
      `select (select count(*) from cdrs where account_id = $1)::text as cdrs, (select balance from accounts where id = $1) as balance`, [a.id]);
    expect(rows[0]).toEqual({ cdrs: '3', balance: 925_000 });
    expect((await reconcile(s.pool, redis, store)).differences).toEqual([]);
    redis.disconnect();
  });
});
