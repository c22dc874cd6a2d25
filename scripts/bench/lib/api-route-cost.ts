/**
 * CPU per request of the live-balance route's own work, in one process without sockets:
 * `app.inject` of GET /v1/accounts/:id/balance (API key, access hook, rate limit, validation,
 * Redis HMGET, durable-balance cache, serialisation, metrics) against a bare Fastify route doing
 * one ioredis GET, injected the same way, alternating A B A B. What sockets and HTTP parsing cost
 * is the same for both and left out; the full benchmark (api-balance.ts) has it.
 *   npx tsx scripts/bench/lib/api-route-cost.ts [requests=20000] [rounds=3]
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import pino from 'pino';
import { AccountService } from '../../../src/accounts/account-service.ts';
import { TestPaymentProvider } from '../../../src/accounts/payments/test-payment-provider.ts';
import { buildApi } from '../../../src/api/api-app.ts';
import { BalanceStore } from '../../../src/billing/balance/balance-store.ts';
import { TariffRepository } from '../../../src/billing/tariff-repository.ts';
import { migrate } from '../../../src/db/migrate.ts';
import { createPool } from '../../../src/db/pool.ts';
import { testSettings } from '../../../test/api/api-harness.ts';
import { deleteNamespace } from '../../../test/support/redis-namespace.ts';

const N = Number(process.argv[2] ?? 20_000);
const ROUNDS = Number(process.argv[3] ?? 3);
const id = randomBytes(3).toString('hex');
const schema = `bench_route_${id}`;
const namespace = `benchroute_${id}`;
const pool = createPool(process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/softswitch_test', schema, 4);
const redis = new Redis(process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379');
await migrate(pool, schema);
const store = new BalanceStore(redis, { namespace, shards: 16 });
const accounts = new AccountService(pool, store, randomBytes(24).toString('hex'));
const customerId = await accounts.createCustomer({ name: 'Bench' });
const ids: number[] = [];
for (let i = 0; i < 1000; i++) {
  const a = await accounts.createAccount({ customerId, currency: 'GBP' });
  await store.topUp(a.id, `bench-${a.id}`, 10_000_000, 'bench', 'bench');
  ids.push(a.id);
}
const log = pino({ level: 'info' }, new Writable({ write: (_c, _e, cb) => cb() }));
const { app, ctx } = await buildApi({
  log,
  pool,
  redis,
  balances: store,
  accounts,
  tariffs: new TariffRepository(pool),
  payments: new TestPaymentProvider(),
  settings: testSettings(namespace, { apiKeyCacheMs: 60_000, durableBalanceCacheMs: 5_000, rateLimit: 1_000_000_000 }),
});
await app.ready();
const key = (await ctx.keys.create('bench', ['read'], 'bench')).key;
await redis.set(`${namespace}:bare`, '{"balance":10000000}');
const bare = Fastify({ logger: false });
bare.get('/v1/accounts/:accountId/balance', async () => ({ value: await redis.get(`${namespace}:bare`) }));
await bare.ready();

async function pass(target: FastifyInstance, headers: Record<string, string>, n: number): Promise<number> {
  const t = process.cpuUsage();
  const inFlight = 32;
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < n) {
        const i = next++;
        const r = await target.inject({ method: 'GET', url: `/v1/accounts/${ids[i % ids.length]}/balance`, headers });
        if (r.statusCode !== 200) throw new Error(`status ${r.statusCode}: ${r.body}`);
      }
    }),
  );
  const u = process.cpuUsage(t);
  return (u.user + u.system) / n;
}

const auth = { authorization: `Bearer ${key}` };
await pass(app, auth, 3000);
await pass(bare, {}, 3000);
const rows: { api: number; bare: number }[] = [];
for (let r = 0; r < ROUNDS; r++) rows.push({ api: await pass(app, auth, N), bare: await pass(bare, {}, N) });
const med = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const api = med(rows.map((r) => r.api));
const ref = med(rows.map((r) => r.bare));
process.stdout.write(
  `${JSON.stringify({ requests: N, rounds: rows.map((r) => ({ api: Number(r.api.toFixed(1)), bare: Number(r.bare.toFixed(1)) })), cpu_us_per_request: { api: Number(api.toFixed(1)), bare: Number(ref.toFixed(1)) }, difference_us: Number((api - ref).toFixed(1)), ratio: Number((api / ref).toFixed(2)) })}\n`,
);
await app.close();
await bare.close();
await deleteNamespace(redis, namespace);
await pool.query(`drop schema "${schema}" cascade`);
await pool.end();
redis.disconnect();
