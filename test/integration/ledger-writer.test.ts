import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createPool } from '../../src/db/pool.ts';
import { LedgerWriter } from '../../src/ledger/ledger-writer.ts';
import { PostgresLedgerSink } from '../../src/ledger/postgres-ledger-sink.ts';
import { reconcile } from '../../src/ledger/reconcile.ts';
import { cdrFor, fundedAccount } from '../support/fixtures.ts';
import { REDIS_KINDS, setupServices, TEST_DATABASE_URL, TEST_REDIS_URL } from '../support/services.ts';
import type { TestServices } from '../support/services.ts';
import { TcpProxy } from '../support/tcp-proxy.ts';

let s: TestServices;

function writerFor(pool = s.pool, consumer = 'w1', extra: Partial<ConstructorParameters<typeof LedgerWriter>[2]> = {}) {
  return new LedgerWriter(s.newRedis(), new PostgresLedgerSink(pool), {
    streams: s.store.keys.allStreams(),
    deadLetterStream: `${s.namespace}:deadletter`,
    consumer,
    blockMs: 50,
    claimIdleMs: 200,
    maxBackoffMs: 200,
    logger: s.logger,
    ...extra,
  });
}

async function counts(accountId: number) {
  const { rows } = await s.pool.query<{ cdrs: string; ledger: string; balance: number }>(
    `select (select count(*) from cdrs where account_id = $1)::text as cdrs,
            (select count(*) from ledger_entries where account_id = $1)::text as ledger,
            (select balance from accounts where id = $1) as balance`,
    [accountId],
  );
  return { cdrs: Number(rows[0]!.cdrs), ledger: Number(rows[0]!.ledger), balance: rows[0]!.balance };
}

async function settleCalls(accountId: number, prefix: string, n: number, cost: number) {
  for (let i = 0; i < n; i++) {
    await s.store.reserve(accountId, `${prefix}-${i}`, 1, cost, Date.now() + 60_000);
    await s.store.settle(accountId, cdrFor(`${prefix}-${i}`, accountId, cost));
  }
}

describe.each(REDIS_KINDS)('on %s Redis', (redis) => {
  beforeAll(async () => {
    s = await setupServices('ledger', { redis });
  });
  afterAll(async () => {
    await s.teardown();
  });

  describe('ledger writer', () => {
    it('writes each ledger entry and CDR once, and keeps the durable balance equal to the live one', async () => {
      const a = await fundedAccount(s, 10_000_000);
      await settleCalls(a.id, 'once', 10, 100_000);
      await s.store.settle(a.id, cdrFor('once-failed', a.id, 0));
      const w = writerFor();
      expect(await w.drain()).toBe(12); // opening top-up + 10 calls + 1 failed call
      expect(await counts(a.id)).toEqual({ cdrs: 11, ledger: 11, balance: 9_000_000 });
      expect((await s.store.get(a.id))!.balance).toBe(9_000_000);
      const { rows } = await s.pool.query('select amount, provider, provider_reference from topups where account_id = $1', [a.id]);
      expect(rows).toEqual([{ amount: 10_000_000, provider: 'test', provider_reference: `ref-${a.id}` }]);
    });

    it('replaying the stream writes nothing twice', async () => {
      const a = await fundedAccount(s, 1_000_000);
      await settleCalls(a.id, 'replay', 3, 100_000);
      const stream = s.store.keys.stream(s.store.keys.shardOf(a.id));
      const copies = (await s.redis.xrange(stream, '-', '+')).filter(([, f]) => f.includes(String(a.id)));
      await writerFor().drain();
      for (const [, fields] of copies) await s.redis.xadd(stream, '*', ...fields); // the same events again
      await writerFor().drain();
      expect(await counts(a.id)).toEqual({ cdrs: 3, ledger: 4, balance: 700_000 });
    });

    it('with Postgres down, events wait in Redis; when it is back every CDR arrives once', async () => {
      const a = await fundedAccount(s, 5_000_000);
      await writerFor().drain();
      const proxy = new TcpProxy('127.0.0.1', Number(new URL(TEST_DATABASE_URL).port || 5432));
      const port = await proxy.up();
      await proxy.down(); // Postgres unreachable
      const url = new URL(TEST_DATABASE_URL);
      url.port = String(port);
      const deadPool = createPool(url.toString(), s.schema, 2);
      deadPool.on('error', () => undefined);
      const w = writerFor(deadPool, 'w-dead');
      w.start();
      await settleCalls(a.id, 'down', 20, 50_000);
      await vi.waitFor(
        async () => {
          const info = await s.redis.xpending(s.store.keys.stream(s.store.keys.shardOf(a.id)), 'ledger');
          expect(Number(info[0])).toBeGreaterThan(0); // delivered, not written
        },
        { timeout: 5000 },
      );
      expect(await counts(a.id)).toMatchObject({ cdrs: 0 });
      await proxy.up(port); // Postgres back
      await vi.waitFor(async () => expect((await counts(a.id)).cdrs).toBe(20), { timeout: 15_000, interval: 100 });
      await w.stop();
      await deadPool.end();
      await proxy.down();
      expect(await counts(a.id)).toEqual({ cdrs: 20, ledger: 21, balance: 4_000_000 });
    });

    it('a writer killed mid-batch leaves its events pending; another writer reclaims and writes them once', async () => {
      const a = await fundedAccount(s, 5_000_000);
      await writerFor().drain();
      await settleCalls(a.id, 'kill', 30, 10_000);
      const proxy = new TcpProxy('127.0.0.1', Number(new URL(TEST_DATABASE_URL).port || 5432));
      const port = await proxy.up();
      proxy.pause(); // Postgres hangs mid-batch
      const url = new URL(TEST_DATABASE_URL);
      url.port = String(port);
      const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/ledger-writer-child.ts'], {
        env: {
          ...process.env,
          DATABASE_URL: url.toString(),
          SCHEMA: s.schema,
          NAMESPACE: s.namespace,
          SHARDS: String(s.store.keys.shards),
          REDIS_URL: TEST_REDIS_URL,
          REDIS_CLUSTER_NODES: s.cluster?.nodes ?? '',
          CONSUMER: 'victim',
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const stream = s.store.keys.stream(s.store.keys.shardOf(a.id));
      await vi.waitFor(
        async () => {
          const pending = await s.redis.xpending(stream, 'ledger', '-', '+', 100, 'victim');
          expect(pending.length).toBe(30);
        },
        { timeout: 15_000, interval: 100 },
      );
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      await proxy.down();
      expect((await counts(a.id)).cdrs).toBe(0);
      const survivor = writerFor(s.pool, 'survivor', { claimIdleMs: 100 });
      await vi.waitFor(
        async () => {
          await survivor.drain();
          expect((await counts(a.id)).cdrs).toBe(30);
        },
        { timeout: 10_000, interval: 200 },
      );
      expect(await counts(a.id)).toEqual({ cdrs: 30, ledger: 31, balance: 4_700_000 });
      expect(Number((await s.redis.xpending(stream, 'ledger'))[0])).toBe(0);
    });

    it('an event Postgres refuses goes to the dead-letter stream and does not block the others', async () => {
      const a = await fundedAccount(s, 1_000_000);
      await writerFor().drain();
      await settleCalls(a.id, 'poison-ok', 2, 1_000);
      // an account unknown to Postgres (present only in Redis) violates the ledger's foreign key
      await s.store.syncAccount({ accountId: 999_999, creditFloor: 0, maxConcurrentCalls: 1, dailySpendCap: null, status: 'active' });
      await s.store.topUp(999_999, 'orphan', 5, 'p', 'r');
      await writerFor().drain();
      expect((await counts(a.id)).cdrs).toBe(2);
      const dead = await s.redis.xrange(`${s.namespace}:deadletter`, '-', '+');
      expect(dead).toHaveLength(1);
      expect(dead[0]![1]).toContain('topup:orphan');
      await s.redis.del(s.store.keys.account(999_999));
    });

    it('reconcile finds no difference once written, and reports a tampered balance', async () => {
      await writerFor().drain();
      expect((await reconcile(s.pool, s.redis, s.store)).differences).toEqual([]);
      const a = await fundedAccount(s, 1_000);
      await s.redis.hincrby(s.store.keys.account(a.id), 'bal', 7);
      const r = await reconcile(s.pool, s.redis, s.store);
      expect(r.differences).toEqual([{ accountId: a.id, redis: 1_007, postgres: 0, unwritten: 1_000 }]);
    });
  });
});
