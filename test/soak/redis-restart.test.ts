/**
 * Redis restarted with AOF (fault 5 of the suite), on a Redis of the test's own: balances, open
 * reservations, settled-call markers and the unwritten events in the streams survive a crash
 * (SIGKILL) and restart; calls open across the restart settle once; every CDR reaches Postgres
 * once and Redis and Postgres agree afterwards.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountService } from '../../src/accounts/account-service.ts';
import { BalanceStore } from '../../src/billing/balance/balance-store.ts';
import { LedgerWriter } from '../../src/ledger/ledger-writer.ts';
import { PostgresLedgerSink } from '../../src/ledger/postgres-ledger-sink.ts';
import { reconcile } from '../../src/ledger/reconcile.ts';
import { cdrFor } from '../support/fixtures.ts';
import { PrivateRedis } from '../support/private-redis.ts';
import { setupServices, TEST_PEPPER } from '../support/services.ts';
import type { TestServices } from '../support/services.ts';

let s: TestServices;
const server = new PrivateRedis('always');

beforeAll(async () => {
  s = await setupServices('redisrestart');
  await server.start();
});
afterAll(async () => {
  await server.stop();
  await s.teardown();
});

describe('Redis crashes and restarts with AOF', () => {
  it('loses no money, no reservation and no CDR; open calls settle once afterwards', async () => {
    const redis = new Redis(server.url, { maxRetriesPerRequest: 20 });
    redis.on('error', () => undefined); // refused while the server is down: ioredis reconnects
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

    await server.crash();
    await server.start();

    expect(await store.get(a.id)).toEqual(before); // live money and the open reservation
    expect(await store.settle(a.id, cdrFor('c1', a.id, 40_000))).toMatchObject({ duplicate: true }); // settled markers kept
    expect(await store.settle(a.id, cdrFor('c3', a.id, 10_000))).toMatchObject({ ok: true, debited: 10_000, duplicate: false });
    expect(await store.get(a.id)).toMatchObject({ balance: 925_000, reserved: 0, callsInProgress: 0 });

    const writer = new LedgerWriter(redis.duplicate(), new PostgresLedgerSink(s.pool), {
      streams: store.keys.allStreams(),
      deadLetterStream: `${s.namespace}:dl`,
      logger: s.logger,
    });
    await writer.drain();
    const { rows } = await s.pool.query<{ cdrs: string; balance: number }>(
      `select (select count(*) from cdrs where account_id = $1)::text as cdrs, (select balance from accounts where id = $1) as balance`,
      [a.id],
    );
    expect(rows[0]).toEqual({ cdrs: '3', balance: 925_000 });
    expect((await reconcile(s.pool, redis, store)).differences).toEqual([]);
    redis.disconnect();
  });
});
