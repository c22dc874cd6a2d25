/**
 * Live-balance query benchmark: the account API started as in production (src/api/api-main.ts,
 * with API_PROCESSES = 1 and then 2) against local Redis and Postgres, loaded with autocannon from
 * this process for a bounded time; beside each, in the same run and with the same autocannon
 * settings, the reference: a bare Fastify route doing one ioredis GET (scripts/bench/lib/bare-fastify.ts,
 * with the same number of processes), measured before and after the API. Writes
 * bench-results/api-balance.json with the ratios (req/s of the API ÷ the reference's higher
 * figure; p99 of the API ÷ the reference's lower p99).
 *
 *   npx tsx scripts/bench/api-balance.ts [--seconds=10] [--connections=64] [--accounts=1000] [--processes=1,2]
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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
import { processCpuSeconds, redisServer } from './lib/measure.ts';

const arg = (name: string, def: number) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? def);
const seconds = arg('seconds', 10),
  connections = arg('connections', 64),
  nAccounts = arg('accounts', 1000);
const processCounts = (process.argv.find((a) => a.startsWith('--processes='))?.split('=')[1] ?? '1,2').split(',').map(Number);
const DB = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/softswitch_test';
const REDIS = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const id = randomBytes(3).toString('hex');
const schema = `bench_api_${id}`,
  namespace = `benchapi_${id}`,
  pepper = randomBytes(24).toString('hex');

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

await redis.set(`${namespace}:bare`, '{"balance":10000000}');

/** Starts a server process; resolves with it and its port once `workers` lines announced it listening. */
async function startProcess(
  args: string[],
  env: Record<string, string>,
  workers: number,
  portOf: (line: string) => number | undefined,
): Promise<{ child: ReturnType<typeof spawn>; port: number }> {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  let seen = 0;
  const port = await new Promise<number>((resolve) => {
    createInterface({ input: child.stdout! }).on('line', (l) => {
      const p = portOf(l);
      if (p !== undefined && ++seen === workers) resolve(p);
    });
  });
  return { child, port };
}

async function stopProcess(child: ReturnType<typeof spawn>): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

let n = 0;
const load = async (port: number, duration: number, headers: Record<string, string>) =>
  autocannon({
    url: `http://127.0.0.1:${port}`,
    connections,
    duration,
    headers,
    requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: `/v1/accounts/${ids[n++ % ids.length]}/balance` }) }],
  });

/** The pid and its descendants (the server's cluster workers). */
function processTree(pid: number): number[] {
  const out = [pid];
  try {
    for (const tid of readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)) out.push(...processTree(Number(tid)));
  } catch {
    // gone, or no /proc
  }
  return out;
}
const treeCpuSeconds = (pid: number): number => processTree(pid).reduce((sum, p) => sum + (processCpuSeconds(p) ?? 0), 0);
const redisPid = (await redisServer(redis)).pid;

/**
 * 2 s warm-up, then `seconds` measured. CPU per request: the server's processes (all of them) and
 * redis-server over the measured run (redis-server's is server-wide: any other client's work counts).
 */
async function measure(port: number, headers: Record<string, string>, serverPid: number) {
  await load(port, 2, headers);
  const load1m = loadavg()[0]!;
  const cpu0 = treeCpuSeconds(serverPid);
  const redis0 = redisPid === undefined ? undefined : processCpuSeconds(redisPid);
  const r = await load(port, seconds, headers);
  const cpu1 = treeCpuSeconds(serverPid);
  const redis1 = redisPid === undefined ? undefined : processCpuSeconds(redisPid);
  const per = (s: number) => Number(((s * 1e6) / Math.max(r.requests.total, 1)).toFixed(1));
  return {
    loadavg1mBefore: Number(load1m.toFixed(2)),
    cpuUsPerRequest: { server: per(cpu1 - cpu0), redis: redis0 === undefined || redis1 === undefined ? null : per(redis1 - redis0) },
    requestsPerSecond: { mean: r.requests.average, p50: r.requests.p50, min: r.requests.min },
    latencyMs: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, max: r.latency.max },
    totalRequests: r.requests.total,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
  };
}

async function reference(processes: number) {
  const { child, port } = await startProcess(
    [
      ...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir=bench-results/profiles/reference'] : []),
      '--import',
      'tsx',
      'scripts/bench/lib/bare-fastify.ts',
    ],
    { REDIS_URL: REDIS, BARE_KEY: `${namespace}:bare`, BARE_PROCESSES: String(processes) },
    processes,
    (l) => {
      const m = /^\{"port":(\d+)/.exec(l);
      return m ? Number(m[1]) : undefined;
    },
  );
  try {
    return await measure(port, {}, child.pid!);
  } finally {
    await stopProcess(child);
  }
}

async function project(processes: number) {
  const { child, port } = await startProcess(
    [...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir=bench-results/profiles/api'] : []), '--import', 'tsx', 'src/api/api-main.ts'],
    {
      DATABASE_URL: DB,
      DATABASE_SCHEMA: schema,
      REDIS_URL: REDIS,
      REDIS_NAMESPACE: namespace,
      REDIS_SHARDS: '16',
      PIN_PEPPER: pepper,
      DRACHTIO_SECRET: 'bench-secret',
      SIP_NONCE_KEY: 'n'.repeat(32),
      API_PORT: '0',
      LOG_LEVEL: 'info',
      API_RATE_LIMIT: '1000000',
      AUTO_TOPUP_INTERVAL_MS: '0',
      API_PROCESSES: String(processes),
    },
    processes,
    (l) => {
      const m = /"port":(\d+).*account API listening/.exec(l);
      return m ? Number(m[1]) : undefined;
    },
  );
  try {
    return await measure(port, { authorization: `Bearer ${key}` }, child.pid!);
  } finally {
    await stopProcess(child);
  }
}

const runs = [];
for (const processes of processCounts) {
  const before = await reference(processes);
  const api = await project(processes);
  const after = await reference(processes);
  const refRps = Math.max(before.requestsPerSecond.mean, after.requestsPerSecond.mean);
  const refP99 = Math.min(before.latencyMs.p99, after.latencyMs.p99);
  const run = {
    processes,
    api,
    reference: { before, after, requestsPerSecond: refRps, p99Ms: refP99 },
    ratio: {
      requestsPerSecond: Number((api.requestsPerSecond.mean / refRps).toFixed(3)),
      p99: Number((api.latencyMs.p99 / Math.max(refP99, 1)).toFixed(2)),
      // server CPU per request against the reference's lower figure: what the route's own work costs, load aside
      cpuPerRequest: Number((api.cpuUsPerRequest.server / Math.max(Math.min(before.cpuUsPerRequest.server, after.cpuUsPerRequest.server), 0.1)).toFixed(2)),
    },
  };
  runs.push({ ...run, goalMet: run.ratio.requestsPerSecond >= 0.8 && run.ratio.p99 <= 1.5 && api.non2xx === 0 && api.errors === 0 });
  process.stdout.write(
    `${processes} process(es): API ${api.requestsPerSecond.mean} req/s p99 ${api.latencyMs.p99} ms; bare Fastify + GET ${refRps} req/s p99 ${refP99} ms; ` +
      `ratio ${run.ratio.requestsPerSecond} req/s, ${run.ratio.p99}x p99; CPU µs/request server ${api.cpuUsPerRequest.server} (reference ${before.cpuUsPerRequest.server}, ${after.cpuUsPerRequest.server}); load ${api.loadavg1mBefore}\n`,
  );
}

const result = {
  benchmark: 'api-balance',
  date: new Date().toISOString(),
  command: `npx tsx scripts/bench/api-balance.ts ${process.argv.slice(2).join(' ')}`.trim(),
  method: `GET /v1/accounts/:id/balance over ${nAccounts} accounts round-robin, API key auth, autocannon in the benchmark process on the same host, ${connections} connections, ${seconds} s after a 2 s warm-up; reference: bare Fastify + one ioredis GET, same settings, before and after`,
  machine: { cpus: cpus().length, model: cpus()[0]?.model ?? '', loadavgAtEnd: loadavg().map((v) => Number(v.toFixed(2))) },
  goal: { ratioRequestsPerSecond: 0.8, ratioP99: 1.5 },
  runs,
};
mkdirSync('bench-results', { recursive: true });
writeFileSync('bench-results/api-balance.json', `${JSON.stringify(result, null, 2)}\n`);

await deleteNamespace(redis, namespace);
await pool.query(`drop schema "${schema}" cascade`);
await pool.end();
redis.disconnect();
