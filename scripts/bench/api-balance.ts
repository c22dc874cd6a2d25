/**
 * Live-balance query benchmark: the account API started as in production (its own process,
 * src/api/api-main.ts) against local Redis and Postgres, loaded with autocannon from this
 * process for a bounded time. Writes bench-results/api-balance.json.
 *
 *   npx tsx scripts/bench/api-balance.ts [--seconds=10] [--connections=64] [--accounts=1000]
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import { AccountService } from '../../src/accounts/account-service.ts';
import { ApiKeyStore } from '../../src/accounts/api-keys.ts';
import { BalanceStore } from '../../src/billing/balance/balance-store.ts';
import { migrate } from '../../src/db/migrate.ts';
import { createPool } from '../../src/db/pool.ts';
import { deleteNamespace } from '../../test/support/redis-namespace.ts';

const arg = (name: string, def: number) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? def);
const seconds = arg('seconds', 10), connections = arg('connections', 64), nAccounts = arg('accounts', 1000);
const DB = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/softswitch_test';
const REDIS = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const id = randomBytes(3).toString('hex');
const schema = `bench_api_${id}`, namespace = `benchapi_${id}`, pepper = randomBytes(24).toString('hex');

const pool = createPool(DB, schema, 4);
const redis = new Redis(REDIS);
await migrate(pool, schema);
const store = new BalanceStore(redis, { namespace, shards: 16 });
const svc = new AccountService(pool, store, pepper);
const ids: number[] = [];
const customerId = await svc.createCustomer({ name: 'Bench' });
for (let i = 0; i < nAccounts; i++) {
  const a = await svc.createAccount({ customerId, currency: 'GBP' });
  await store.topUp(a.id, `bench-${a.id}`, 10_000_000, 'bench', 'bench');
  ids.push(a.id);
}
const key = (await new ApiKeyStore(pool).create('bench', ['read'], 'bench')).key;

const child = spawn(process.execPath, [...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir=bench-results/profiles'] : []), '--import', 'tsx', 'src/api/api-main.ts'], {
  env: {
    ...process.env, DATABASE_URL: DB, DATABASE_SCHEMA: schema, REDIS_URL: REDIS, REDIS_NAMESPACE: namespace, REDIS_SHARDS: '16', PIN_PEPPER: pepper,
    DRACHTIO_SECRET: 'bench-secret', SIP_NONCE_KEY: 'n'.repeat(32), API_PORT: '0', LOG_LEVEL: 'info', API_RATE_LIMIT: '1000000', AUTO_TOPUP_INTERVAL_MS: '0',
  },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const port = await new Promise<number>((resolve) => {
  createInterface({ input: child.stdout! }).on('line', (l) => { const m = /"port":(\d+).*account API listening/.exec(l); if (m) resolve(Number(m[1])); });
});

let n = 0;
const run = (duration: number) => autocannon({
  url: `http://127.0.0.1:${port}`, connections, duration, headers: { authorization: `Bearer ${key}` },
  requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: `/v1/accounts/${ids[n++ % ids.length]}/balance` }) }],
});
await run(2);                                   // warm-up (JIT, connection pools, caches)
const load0 = loadavg()[0];
const r = await run(seconds);
child.kill('SIGTERM');

const result = {
  benchmark: 'api-balance', date: new Date().toISOString(),
  method: `GET /v1/accounts/:id/balance over ${nAccounts} accounts round-robin, API key auth, one API process, autocannon in the benchmark process on the same host, ${connections} connections, ${seconds} s after a 2 s warm-up`,
  machine: { cpus: cpus().length, model: cpus()[0]?.model ?? '', loadavg1mBefore: load0 },
  requestsPerSecond: { mean: r.requests.average, p50: r.requests.p50, min: r.requests.min },
  latencyMs: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, max: r.latency.max },
  totalRequests: r.requests.total, non2xx: r.non2xx, errors: r.errors, timeouts: r.timeouts,
  goal: { requestsPerSecond: 15_000, p99Ms: 10 },
};
mkdirSync('bench-results', { recursive: true });
writeFileSync('bench-results/api-balance.json', `${JSON.stringify(result, null, 2)}\n`);
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);

await deleteNamespace(redis, namespace);
await pool.query(`drop schema "${schema}" cascade`);
await pool.end();
redis.disconnect();
