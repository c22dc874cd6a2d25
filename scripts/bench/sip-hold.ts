/**
 * Memory and concurrency benchmark: N concurrent established prepaid calls through the edge and
 * the SIP app, held long. SIPp devices (digest, one account) call at a low rate and hang up after
 * --hold seconds, so every call is up at once between the end of the ramp (N / rate seconds) and
 * the first hang-up (--hold seconds). The app runs as src/main.ts runs it: call-state durability
 * on (keep-alives of every answered call every CALL_KEEPALIVE_SECONDS), credit slices of 60 s
 * (each call extends its reservation while held), the ledger writer in the same process.
 *
 * Measured while every call is up (the plateau):
 *   - RSS of the edge and of the app process, against their RSS after a warm-up before the ramp:
 *     bytes per established call;
 *   - the app's event-loop delay p50/p99/max;
 *   - credit-timer drift: how late each timer of the call flows fired (extensions, keep-alives),
 *     over the whole run, and the extensions made;
 * and after the run: every call one CDR, the money invariant, no call cut for credit.
 *
 * Usage: tsx --expose-gc scripts/bench/sip-hold.ts [--calls 10000] [--rate 100] [--hold 170]
 *          [--out bench-results/sip-hold.json] [--heap-snapshot FILE]
 * --heap-snapshot writes the app's heap (v8.writeHeapSnapshot) in the middle of the plateau: what
 * each held call keeps (the snapshot of 10,000 calls is large; 1,000 tell the same).
 * Loopback only; every SIPp run bounded by -m and -timeout. Needs Redis and Postgres as for the tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { writeHeapSnapshot } from 'node:v8';
import { Redis } from 'ioredis';
import { AccountService } from '../../src/accounts/account-service.ts';
import { BalanceStore } from '../../src/billing/balance/balance-store.ts';
import { CallCredit } from '../../src/billing/credit/call-credit.ts';
import { TariffRepository } from '../../src/billing/tariff-repository.ts';
import type { Clock } from '../../src/common/clock.ts';
import { realClock } from '../../src/common/clock.ts';
import { migrate } from '../../src/db/migrate.ts';
import { createPool } from '../../src/db/pool.ts';
import { LedgerWriter } from '../../src/ledger/ledger-writer.ts';
import { PostgresLedgerSink } from '../../src/ledger/postgres-ledger-sink.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { composeSipApp, createSipApp } from '../../src/sip/sip-app.ts';
import { args, CpuMeter, deleteNamespace, intArg, machine, redisServer, round, summarise, writeJson } from './lib/measure.ts';
import { runSipp, waitLine } from './lib/sipp.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const a = args();
const target = intArg(a, 'calls', 10_000);
const rate = intArg(a, 'rate', 100);
const holdS = intArg(a, 'hold', Math.ceil(target / rate) + 70);
const outFile = resolve(a.get('out') ?? 'bench-results/sip-hold.json');
const heapSnapshot = a.get('heap-snapshot');
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/softswitch_test';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const IP = '127.0.0.1';
const CARRIER_IP = '127.0.0.3';
const SIP_PORT = 23000 + Math.floor(Math.random() * 1000);
const ADMIN_PORT = SIP_PORT + 1000;
const CARRIER_PORT = SIP_PORT + 2000;
const SECRET = 'bench';
const REALM = 'bench.sip';
const SLICE_S = 60;
const KEEPALIVE_S = 5;
const TARIFF = [
  'prefix,description,price_per_minute,connection_fee,minimum_seconds,initial_increment,subsequent_increment,effective_from,effective_until,connection_fee_policy',
  '44,UK,0.6,0,0,1,1,2020-01-01T00:00:00.000Z,,answered',
].join('\n');

const gc = (globalThis as { gc?: () => void }).gc;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function rssOf(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

function memoryNow(edgePid: number): { app_rss: number; app_heap: number; edge_rss: number } {
  const m = process.memoryUsage();
  return { app_rss: m.rss, app_heap: m.heapUsed, edge_rss: rssOf(edgePid) };
}

/** Keys under the namespace and the bytes Redis holds for them (MEMORY USAGE of each, all samples). */
async function namespaceMemory(redis: Redis, namespace: string): Promise<{ keys: number; bytes: number }> {
  let cursor = '0',
    keys = 0,
    bytes = 0;
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${namespace}:*`, 'COUNT', 1000);
    cursor = next;
    if (batch.length === 0) continue;
    const p = redis.pipeline();
    for (const k of batch) p.memory('USAGE', k, 'SAMPLES', 0);
    for (const [, v] of (await p.exec()) ?? []) bytes += Number(v ?? 0);
    keys += batch.length;
  } while (cursor !== '0');
  return { keys, bytes };
}

/** The process clock, with how late each timer fired (ms past its due time) recorded. */
function latenessClock(late: number[]): Clock {
  return {
    ...realClock,
    setTimeout: (fn, ms) => {
      const due = performance.now() + ms;
      return setTimeout(() => {
        late.push(performance.now() - due);
        fn();
      }, ms);
    },
    setInterval: (fn, ms) => {
      let due = performance.now() + ms;
      return setInterval(() => {
        const now = performance.now();
        late.push(now - due);
        due = now + ms;
        fn();
      }, ms).unref();
    },
  };
}

function device(calls: number, callRate: number, holdMs: number, user: { user: string; password: string }) {
  return runSipp('device-call.xml', {
    rate: callRate,
    calls,
    timeoutSec: Math.ceil(calls / callRate + holdMs / 1000 + 120),
    ip: IP,
    port: SIP_PORT + 3000,
    remote: `${IP}:${SIP_PORT}`,
    extra: [
      '-key',
      'user',
      user.user,
      '-au',
      user.user,
      '-ap',
      user.password,
      '-s',
      '00441632960001',
      '-auth_uri',
      `00441632960001@${IP}:${SIP_PORT}`,
      '-d',
      String(holdMs),
    ],
  });
}

async function main(): Promise<void> {
  const id = `siphold_${process.pid}`;
  const schema = `b_${id}`;
  const namespace = `bench:${id}`;
  const log = createLogger('info', 'softswitch', { dest: '/dev/null' });
  const pool = createPool(DATABASE_URL, schema, 10);
  await migrate(pool, schema);
  const redis = new Redis(REDIS_URL);
  const writerRedis = new Redis(REDIS_URL);
  const store = new BalanceStore(redis, { namespace, shards: 16 });
  const accounts = new AccountService(pool, store, 'bench-pepper-0123456789-abcdefghijkl');
  const tariffs = new TariffRepository(pool);
  await tariffs.importCsv('retail', 'Retail', 'GBP', TARIFF);
  await pool.query(`insert into carriers (id, name) values ('bench', 'Bench carrier')`);
  await pool.query(`insert into carrier_prefixes (carrier_id, prefix) values ('bench', '')`);
  await pool.query('insert into gateways (carrier_id, address, port) values ($1, $2, $3)', ['bench', CARRIER_IP, CARRIER_PORT]);
  const customerId = await accounts.createCustomer({ name: 'Bench hold' });
  const acct = await accounts.createAccount({ customerId, currency: 'GBP', tariffId: 'retail', maxConcurrentCalls: 1000, country: 'GB' });
  // one account holds every call (SIPp takes one set of digest credentials): its limit in Redis, where reserve.lua checks it, is lifted
  await store.syncAccount({ accountId: acct.id, creditFloor: 0, maxConcurrentCalls: target * 2, dailySpendCap: null, status: 'active' });
  await store.topUp(acct.id, `bench-${acct.id}`, 1_000_000_000_000, 'bench', `bench-${acct.id}`);
  const user = { user: `bench${acct.id}`, password: `pw-bench${acct.id}-0123456789` };
  await accounts.setSipPassword(acct.id, user.user, REALM, user.password);

  const edge: ChildProcess = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/edge/bin/main.ts',
      '--sip',
      `udp/${IP}:${SIP_PORT}`,
      '--admin-host',
      IP,
      '--admin-port',
      String(ADMIN_PORT),
      '--secret',
      SECRET,
      '--log-level',
      'error',
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await waitLine(edge, 'edge-ready');

  const late: number[] = [];
  const clock = latenessClock(late);
  let extensions = 0;
  let extensionsRefused = 0;
  const credit = new CallCredit(store, { sliceSeconds: SLICE_S, maxCallSeconds: 14_400, clock });
  const extend = credit.extend.bind(credit);
  credit.extend = async (...x: Parameters<CallCredit['extend']>) => {
    const r = await extend(...x);
    if (r.ok) extensions++;
    else extensionsRefused++;
    return r;
  };
  let settled = 0;
  const dispositions = new Map<string, number>();
  const app = createSipApp(
    composeSipApp({
      log,
      pool,
      redis,
      accounts,
      tariffs,
      credit,
      store,
      clock,
      settings: {
        drachtio: { host: IP, port: ADMIN_PORT, secret: SECRET },
        realm: REALM,
        nonceKey: 'bench-nonce-key-0123456789abcdefghijkl',
        digestAlgorithms: ['MD5', 'SHA-256'],
        namespace,
        routingMode: 'priority',
        noAnswerTimeoutSeconds: 30,
        maxCallSeconds: 14_400,
        extendLeadSeconds: 15,
        warnSeconds: 0,
        registrar: { minExpires: 60, maxExpires: 3600, maxContacts: 5 },
        guards: { failureThreshold: 1000, banSeconds: 60, action: 'reject', accountCps: 10_000 },
        durability: { keepAliveSeconds: KEEPALIVE_S, orphanAfterKeepAlives: 3 },
      },
      events: {
        settled: (c) => {
          settled++;
          const d = (c as { disposition?: string }).disposition ?? '?';
          dispositions.set(d, (dispositions.get(d) ?? 0) + 1);
        },
      },
    }),
  );
  await app.connect();
  const writer = new LedgerWriter(writerRedis, new PostgresLedgerSink(pool), {
    streams: store.keys.allStreams(),
    deadLetterStream: `${namespace}:deadletter`,
    consumer: 'bench',
    logger: log,
  });
  writer.start();
  const redisInfo = await redisServer(redis);

  // warm-up: the code paths compiled and the pools filled before the idle figure is taken
  const warmCalls = Math.min(500, rate * 5);
  const warmCarrier = runSipp('uas-answer-recv-bye.xml', { calls: warmCalls, timeoutSec: 120, ip: CARRIER_IP, port: CARRIER_PORT });
  const warm = await device(warmCalls, rate, 1000, user).done;
  warmCarrier.child.kill('SIGTERM');
  await warmCarrier.done;
  while (settled < warm.successful + warm.failed) await sleep(100);
  await writer.drain();
  await sleep(2000);
  gc?.();
  const idle = { app_rss: process.memoryUsage().rss, app_heap: process.memoryUsage().heapUsed, edge_rss: rssOf(edge.pid!) };
  const redisIdle = await namespaceMemory(redis, namespace);
  console.log(JSON.stringify({ warmup: warm.successful, idle, redisIdle }));

  // the run: `target` calls at `rate`, each held `holdS` seconds
  late.length = 0;
  dispositions.clear();
  const settledBefore = settled;
  const eld = monitorEventLoopDelay({ resolution: 1 });
  const started = Date.now();
  const carrier = runSipp('uas-answer-recv-bye.xml', { calls: target, timeoutSec: Math.ceil(target / rate + holdS + 180), ip: CARRIER_IP, port: CARRIER_PORT });
  const run = device(target, rate, holdS * 1000, user);
  const rampCpu = new CpuMeter({ edge: edge.pid });
  // the plateau begins when every call is answered (or the ramp is long over) and ends before the first hang-up
  const plateauEnd = started + holdS * 1000 - 12_000;
  let peak = 0;
  while (Date.now() < plateauEnd && app.callsInProgress < target) {
    peak = Math.max(peak, app.callsInProgress);
    await sleep(250);
  }
  const ramp = { s: round((Date.now() - started) / 1000, 1), cpu: rampCpu.stop() };
  const samples: { at_s: number; calls: number; app_rss: number; app_heap: number; edge_rss: number }[] = [];
  eld.enable();
  // garbage-collection pauses while holding (what a long event-loop stall usually is)
  const gcPauses: number[] = [];
  const gcObserver = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcPauses.push(e.duration);
  });
  gcObserver.observe({ entryTypes: ['gc'] });
  const plateauCpu = new CpuMeter({ edge: edge.pid, redis: redisInfo.pid });
  while (Date.now() < plateauEnd) {
    await sleep(5_000);
    if (samples.length === 3 && heapSnapshot) writeHeapSnapshot(heapSnapshot);
    const m = process.memoryUsage();
    samples.push({
      at_s: round((Date.now() - started) / 1000, 1),
      calls: app.callsInProgress,
      app_rss: m.rss,
      app_heap: m.heapUsed,
      edge_rss: rssOf(edge.pid!),
    });
    console.log(JSON.stringify(samples.at(-1)));
  }
  eld.disable();
  gcObserver.disconnect();
  const plateau = { s: samples.length * 5, cpu: plateauCpu.stop() };
  // what the held calls keep: memory after a full collection, still before the first hang-up (the
  // samples above include garbage not yet collected, as much as V8 lets the heap grow)
  gc?.();
  const afterGc = { at_s: round((Date.now() - started) / 1000, 1), calls: app.callsInProgress, ...memoryNow(edge.pid!) };
  const redisHeld = await namespaceMemory(redis, namespace);
  console.log(JSON.stringify({ afterGc, redisHeld }));
  const out = await run.done;
  carrier.child.kill('SIGTERM');
  await carrier.done;
  const deadline = Date.now() + 120_000;
  while (settled - settledBefore < out.successful + out.failed && Date.now() < deadline) await sleep(200);
  await writer.drain();
  await writer.stop();

  const held = Math.min(afterGc.calls, ...samples.map((s) => s.calls));
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? 0;
  const perCall = (bytes: number) => round(bytes / Math.max(1, held) / 1024, 2);
  const {
    rows: [cdr],
  } = await pool.query<{ n: string; distinct_calls: string }>('select count(*) as n, count(distinct call_id) as distinct_calls from cdrs');
  const live = await store.get(acct.id);
  const {
    rows: [m],
  } = await pool.query<{ topups: string; costs: string; balance: string }>(
    `select (select coalesce(sum(amount), 0) from topups where account_id = $1) as topups,
            (select coalesce(sum(cost - unrecovered), 0) from cdrs where account_id = $1) as costs,
            (select balance from accounts where id = $1) as balance`,
    [acct.id],
  );
  const expected = Number(m!.topups) - Number(m!.costs);
  const allCalls = warm.successful + warm.failed + out.successful + out.failed;
  const result = {
    benchmark: 'sip-hold',
    at: new Date(started).toISOString(),
    machine: machine(),
    redis: redisInfo,
    settings: {
      calls: target,
      rate,
      hold_s: holdS,
      slice_s: SLICE_S,
      keepalive_s: KEEPALIVE_S,
      durability: 'on (as src/main.ts)',
      log_level: 'info (to /dev/null)',
      edge: 'own process, UDP',
      app: 'this process (SIP app + ledger writer)',
    },
    sipp: {
      successful: out.successful,
      failed: out.failed,
      retransmissions: out.retransmissions,
      setup_ms: summarise(out.setupMs, 1),
      errors: out.errors.slice(0, 500),
    },
    peak_calls_in_progress: Math.max(peak, ...samples.map((s) => s.calls)),
    held_through_plateau: held,
    ramp,
    plateau,
    idle,
    samples,
    after_gc: afterGc,
    // after a full collection: what the held calls keep (the edge is not collected by us: its RSS as it is)
    memory_per_call_kb: {
      app_rss: perCall(afterGc.app_rss - idle.app_rss),
      app_heap: perCall(afterGc.app_heap - idle.app_heap),
      edge_rss: perCall(afterGc.edge_rss - idle.edge_rss),
    },
    // Redis: the keys of this run's namespace (account, reservations, live-call records, open-call
    // indexes, streams) while every call is held, against after the warm-up
    redis_per_call: {
      kb: perCall(redisHeld.bytes - redisIdle.bytes),
      keys: round((redisHeld.keys - redisIdle.keys) / Math.max(held, 1), 2),
      idle: redisIdle,
      held: redisHeld,
    },
    // while holding, collections left to V8: the median sample, garbage included
    memory_per_call_kb_uncollected: {
      app_rss: perCall(median(samples.map((s) => s.app_rss)) - idle.app_rss),
      app_heap: perCall(median(samples.map((s) => s.app_heap)) - idle.app_heap),
      edge_rss: perCall(median(samples.map((s) => s.edge_rss)) - idle.edge_rss),
    },
    gc_pauses_ms_plateau: {
      ...summarise(gcPauses, 2),
      total: round(
        gcPauses.reduce((x, y) => x + y, 0),
        1,
      ),
    },
    event_loop_delay_ms_plateau: { p50: round(eld.percentile(50) / 1e6, 2), p99: round(eld.percentile(99) / 1e6, 2), max: round(eld.max / 1e6, 2) },
    timer_lateness_ms: summarise(late, 2),
    extensions: { ok: extensions, refused: extensionsRefused },
    checks: {
      settled: settled - settledBefore,
      dispositions: Object.fromEntries(dispositions),
      cdrs: Number(cdr!.n),
      every_call_one_cdr: Number(cdr!.n) === allCalls && Number(cdr!.distinct_calls) === allCalls,
      money_invariant_holds:
        live !== undefined && live.balance === expected && Number(m!.balance) === expected && live.reserved === 0 && live.callsInProgress === 0,
    },
  };
  console.log(JSON.stringify({ ...result, samples: undefined }));
  writeJson(outFile, result);

  app.stop();
  edge.kill('SIGTERM');
  await deleteNamespace(redis, namespace);
  redis.disconnect();
  writerRedis.disconnect();
  await pool.query(`drop schema if exists "${schema}" cascade`);
  await pool.end();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
