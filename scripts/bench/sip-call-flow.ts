/**
 * Full prepaid call flow benchmark: SIPp devices → edge (own process) → SIP app (this process:
 * digest 407, account, rating, reservation, B2BUA) → edge → SIPp carrier; the device hangs up
 * after --hold ms; the call settles (Redis) and the ledger writer (this process, as in main.ts)
 * moves the CDR to Postgres.
 *
 * For each rate: -m rate·duration calls from one device account, bounded by -timeout.
 * Records SIPp success/failure, call setup time as SIPp sees it (INVITE with credentials sent →
 * 200 received), the app's INVITE-in → B-leg INVITE-out time, event-loop delay of the app, CPU of
 * edge / app / Redis / Postgres, Redis commands and Postgres transactions. Afterwards checks the
 * money invariant per account and that every call has exactly one CDR.
 *
 * Redis is counted twice: round trips the app makes (on its own client: a script call or a pipeline
 * is one), the ledger writer's apart, and the server's INFO commandstats (every command, those
 * scripts run included, and every client's). With --profile=DIR each rate's run is CPU-profiled
 * (V8 sampling profiler through node:inspector, as `--cpu-prof` does, but only while calls run):
 * DIR/sip-app-<rate>cps.cpuprofile, summarised by group into the JSON.
 *
 * Usage: tsx scripts/bench/sip-call-flow.ts [--rates 50,100,150] [--duration 30] [--hold 1000]
 *          [--profile DIR] [--log-level warn] [--reference 1] [--out bench-results/sip-call-flow.json]
 * --reference 1 (default) runs, after each rate, the same calls through a bare drachtio-srf B2BUA
 * (see reference()), the floor the app's CPU per call is compared with; 0 skips it.
 * Writes the JSON named by --out. Needs Redis and Postgres as for the tests.
 */
import { spawn, execSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join, resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { AccountService } from '../../src/accounts/account-service.ts';
import { BalanceStore } from '../../src/billing/balance/balance-store.ts';
import { CallCredit } from '../../src/billing/credit/call-credit.ts';
import { TariffRepository } from '../../src/billing/tariff-repository.ts';
import { migrate } from '../../src/db/migrate.ts';
import { createPool } from '../../src/db/pool.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { LedgerWriter } from '../../src/ledger/ledger-writer.ts';
import { PostgresLedgerSink } from '../../src/ledger/postgres-ledger-sink.ts';
import { composeSipApp, createSipApp } from '../../src/sip/sip-app.ts';
import {
  args,
  commandStats,
  CpuMeter,
  deleteNamespace,
  intArg,
  listArg,
  machine,
  processCpuSeconds,
  redisServer,
  round,
  statsDelta,
  summarise,
  writeJson,
} from './lib/measure.ts';
import { summariseProfile } from './lib/profile-summary.ts';
import { countRoundTrips } from './lib/round-trips.ts';
import { runSipp, waitLine } from './lib/sipp.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const a = args();
const rates = listArg(a, 'rates', [50, 100, 150]);
const duration = intArg(a, 'duration', 30);
const hold = intArg(a, 'hold', 1000);
const profileDir = a.get('profile');
const logLevel = a.get('log-level') ?? 'warn';
const withReference = (a.get('reference') ?? '1') !== '0';
const outFile = resolve(a.get('out') ?? 'bench-results/sip-call-flow.json');
const accountCount = 1; // sipp 3.6 cannot take digest credentials from an -inf file: one device account
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/softswitch_test';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const IP = '127.0.0.1';
const CARRIER_IP = '127.0.0.3';
const SIP_PORT = 26000 + Math.floor(Math.random() * 1000);
const ADMIN_PORT = SIP_PORT + 1000;
const CARRIER_PORT = SIP_PORT + 2000;
const SECRET = 'bench';
const REALM = 'bench.sip';
// never the limit here: 1000 GBP, or 0.10 GBP per planned call for long runs (a call costs about 0.02)
const CREDIT = Math.max(1_000_000_000, rates.reduce((n, r) => n + r * duration, 0) * 100_000);
const TARIFF = [
  'prefix,description,price_per_minute,connection_fee,minimum_seconds,initial_increment,subsequent_increment,effective_from,effective_until,connection_fee_policy',
  '44,UK,0.6,0,0,1,1,2020-01-01T00:00:00.000Z,,answered',
].join('\n');

function postgresPids(): number[] {
  try {
    return execSync('ps -C postgres -o pid=', { encoding: 'utf8' })
      .split('\n')
      .map((s) => Number(s.trim()))
      .filter((n) => n > 0);
  } catch {
    return [];
  }
}
const cpuOf = (pids: number[]) => pids.reduce((s, p) => s + (processCpuSeconds(p) ?? 0), 0);

function startEdge(sipPort: number, adminPort: number): ChildProcess {
  return spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/edge/bin/main.ts',
      '--sip',
      `udp/${IP}:${sipPort}`,
      '--admin-host',
      IP,
      '--admin-port',
      String(adminPort),
      '--secret',
      SECRET,
      '--log-level',
      'error',
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
}

function deviceCall(rate: number, calls: number, sipPort: number, user: { user: string; password: string }) {
  return runSipp('device-call.xml', {
    rate,
    calls,
    timeoutSec: duration + 60,
    ip: IP,
    port: SIP_PORT + 3000,
    remote: `${IP}:${sipPort}`,
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
      `00441632960001@${IP}:${sipPort}`,
      '-d',
      String(hold),
    ],
  });
}

/**
 * The same-run reference: the same sipp device and carrier, through an edge of its own, to a bare
 * drachtio-srf B2BUA in a process of its own (lib/bare-b2bua-app.ts): drachtio-srf's floor for
 * this call flow. Its CPU per call is what the project's app is compared with.
 */
async function reference(rate: number): Promise<Record<string, unknown>> {
  const sipPort = SIP_PORT + 4000;
  const adminPort = SIP_PORT + 5000;
  const edge = startEdge(sipPort, adminPort);
  await waitLine(edge, 'edge-ready');
  const app = spawn(
    process.execPath,
    ['--import', 'tsx', 'scripts/bench/lib/bare-b2bua-app.ts', IP, String(adminPort), SECRET, `sip:${CARRIER_IP}:${CARRIER_PORT}`],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await waitLine(app, 'app-ready');
  const calls = rate * duration;
  const cpu = new CpuMeter({ app: app.pid, edge: edge.pid });
  const carrier = runSipp('uas-answer-recv-bye.xml', { calls, timeoutSec: duration + 60, ip: CARRIER_IP, port: CARRIER_PORT });
  const dev = await deviceCall(rate, calls, sipPort, { user: 'bench', password: 'bench' }).done;
  carrier.child.kill('SIGTERM');
  await carrier.done;
  await new Promise((r) => setTimeout(r, 500)); // the last BYEs' answers
  const use = cpu.stop();
  app.kill('SIGTERM');
  edge.kill('SIGTERM');
  const appCpu = (use.app as { cpu_s: number } | null)?.cpu_s ?? 0;
  const r = {
    what: 'bare drachtio-srf B2BUA (lib/bare-b2bua-app.ts): 407, createB2BUA, BYE; no Redis, Postgres or logging',
    rate,
    calls,
    successful: dev.successful,
    failed: dev.failed,
    cpu: { wall_s: use.wall_s, app: use.app, edge: use.edge },
    app_cpu_ms_per_call: round((1000 * appCpu) / Math.max(1, dev.successful + dev.failed), 2),
    setup_ms_sipp: summarise(dev.setupMs, 1),
  };
  console.log(JSON.stringify({ reference: r }));
  return r;
}

async function main(): Promise<void> {
  const id = `sipbench_${process.pid}`;
  const schema = `b_${id}`;
  const namespace = `bench:${id}`;
  // the app's own logger (src/main.ts's), its lines to /dev/null: their cost is measured, not the terminal's
  const log = createLogger(logLevel, 'softswitch', { dest: '/dev/null' });
  const pool = createPool(DATABASE_URL, schema, 10);
  await migrate(pool, schema);
  const redis = new Redis(REDIS_URL);
  const writerRedis = new Redis(REDIS_URL);
  const appTrips = countRoundTrips(redis);
  const writerTrips = countRoundTrips(writerRedis);
  const store = new BalanceStore(redis, { namespace, shards: 16 });
  const accounts = new AccountService(pool, store, 'bench-pepper-0123456789-abcdefghijkl');
  const tariffs = new TariffRepository(pool);
  await tariffs.importCsv('retail', 'Retail', 'GBP', TARIFF);
  await pool.query(`insert into carriers (id, name) values ('bench', 'Bench carrier')`);
  await pool.query(`insert into carrier_prefixes (carrier_id, prefix) values ('bench', '')`);
  await pool.query('insert into gateways (carrier_id, address, port) values ($1, $2, $3)', ['bench', CARRIER_IP, CARRIER_PORT]);
  const users: { user: string; password: string }[] = [];
  const accountIds: number[] = [];
  for (let i = 0; i < accountCount; i++) {
    const customerId = await accounts.createCustomer({ name: `Bench ${i}` });
    const acct = await accounts.createAccount({ customerId, currency: 'GBP', tariffId: 'retail', maxConcurrentCalls: 1000, country: 'GB' });
    await store.topUp(acct.id, `bench-${acct.id}`, CREDIT, 'bench', `bench-${acct.id}`);
    const user = `bench${acct.id}`;
    const password = `pw-${user}-0123456789`;
    await accounts.setSipPassword(acct.id, user, REALM, password);
    users.push({ user, password });
    accountIds.push(acct.id);
  }

  const edge = startEdge(SIP_PORT, ADMIN_PORT);
  await waitLine(edge, 'edge-ready');

  const credit = new CallCredit(store, { sliceSeconds: 60, maxCallSeconds: 14_400 });
  const bLeg: number[] = [];
  let settled = 0;
  const app = createSipApp(
    composeSipApp({
      log,
      pool,
      redis,
      accounts,
      tariffs,
      credit,
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
      },
      events: {
        bLegSent: (_c, ms) => {
          bLeg.push(ms);
        },
        settled: () => {
          settled++;
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
  const pgPids = postgresPids();
  const eld = monitorEventLoopDelay({ resolution: 1 });
  eld.enable();

  const results: Record<string, unknown>[] = [];
  let expectedCalls = 0;
  for (const rate of rates) {
    const calls = rate * duration;
    bLeg.length = 0;
    const settledBefore = settled;
    eld.reset();
    const cmd0 = await commandStats(redis);
    const pg0 = (
      await pool.query<{ xact_commit: string; tup_inserted: string }>(
        'select xact_commit, tup_inserted from pg_stat_database where datname = current_database()',
      )
    ).rows[0]!;
    const pgCpu0 = cpuOf(pgPids);
    appTrips.reset();
    writerTrips.reset();
    const profiler = profileDir ? new Session() : undefined;
    if (profiler) {
      profiler.connect();
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.setSamplingInterval', { interval: 500 });
      await profiler.post('Profiler.start');
    }
    const cpu = new CpuMeter({ edge: edge.pid, redis: redisInfo.pid });
    const carrier = runSipp('uas-answer-recv-bye.xml', { calls, timeoutSec: duration + 60, ip: CARRIER_IP, port: CARRIER_PORT });
    const device = deviceCall(rate, calls, SIP_PORT, users[0]!);
    const dev = await device.done;
    carrier.child.kill('SIGTERM');
    await carrier.done;
    expectedCalls += dev.successful + dev.failed;
    const deadline = Date.now() + 30_000;
    while (settled - settledBefore < dev.successful + dev.failed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const cpuUse = cpu.stop();
    let profile: unknown;
    if (profiler && profileDir) {
      const { profile: p } = await profiler.post('Profiler.stop');
      profiler.disconnect();
      mkdirSync(profileDir, { recursive: true });
      const file = join(profileDir, `sip-app-${rate}cps.cpuprofile`);
      writeFileSync(file, JSON.stringify(p));
      const summary = summariseProfile(p as Parameters<typeof summariseProfile>[0], 20);
      profile = { file, ...summary };
    }
    const trips = { app: appTrips.total, ledger_writer: writerTrips.total, app_commands: Object.fromEntries(appTrips.commands) };
    const pgCpu = cpuOf(pgPids) - pgCpu0;
    const pg1 = (
      await pool.query<{ xact_commit: string; tup_inserted: string }>(
        'select xact_commit, tup_inserted from pg_stat_database where datname = current_database()',
      )
    ).rows[0]!;
    const cmds = statsDelta(cmd0, await commandStats(redis));
    const redisCalls = Object.values(cmds).reduce((s, c) => s + c.calls, 0);
    const r = {
      rate,
      calls,
      successful: dev.successful,
      failed: dev.failed,
      success_pct: round((100 * dev.successful) / calls, 3),
      retransmissions: dev.retransmissions,
      wall_s: round(dev.wallSec, 1),
      settled: settled - settledBefore,
      setup_ms_sipp: summarise(dev.setupMs, 1),
      invite_in_to_bleg_out_ms_app: summarise(bLeg, 3),
      event_loop_delay_ms: { p50: round(eld.percentile(50) / 1e6, 2), p99: round(eld.percentile(99) / 1e6, 2), max: round(eld.max / 1e6, 2) },
      cpu: { ...cpuUse, postgres: { cpu_s: round(pgCpu), cores: round(pgCpu / cpuUse.wall_s) } },
      // the app process also runs the ledger writer (as src/main.ts does); the profile splits them
      app_cpu_ms_per_call: round((1000 * (cpuUse.node?.cpu_s ?? 0)) / Math.max(1, dev.successful + dev.failed), 2),
      redis_round_trips_per_call: {
        app: round(trips.app / Math.max(1, dev.successful + dev.failed), 2),
        ledger_writer: round(trips.ledger_writer / Math.max(1, dev.successful + dev.failed), 2),
        app_commands_per_call: Object.fromEntries(
          Object.entries(trips.app_commands)
            .sort((x, y) => y[1] - x[1])
            .map(([k, v]) => [k, round(v / Math.max(1, dev.successful + dev.failed), 2)]),
        ),
      },
      ...(profile ? { profile } : {}),
      redis: {
        commands: redisCalls,
        per_call: round(redisCalls / Math.max(1, dev.successful), 1),
        top: Object.fromEntries(
          Object.entries(cmds)
            .sort((x, y) => y[1].total_s - x[1].total_s)
            .slice(0, 8),
        ),
      },
      postgres: { transactions: Number(pg1.xact_commit) - Number(pg0.xact_commit), rows_inserted: Number(pg1.tup_inserted) - Number(pg0.tup_inserted) },
      errors: dev.errors
        .split('\n')
        .filter((l) => /^\d{4}-/.test(l))
        .slice(0, 5),
    };
    console.log(JSON.stringify(r));
    if (withReference) {
      const ref = await reference(rate);
      const refMs = ref.app_cpu_ms_per_call as number;
      Object.assign(r, { reference: ref, app_cpu_ratio_to_reference: round(r.app_cpu_ms_per_call / Math.max(0.001, refMs), 2) });
    }
    results.push(r);
  }

  await writer.drain();
  await writer.stop();
  const {
    rows: [cdr],
  } = await pool.query<{ n: string; distinct_calls: string; cost: string }>(
    'select count(*) as n, count(distinct call_id) as distinct_calls, coalesce(sum(cost), 0) as cost from cdrs',
  );
  const mismatches: unknown[] = [];
  for (const accountId of accountIds) {
    const live = await store.get(accountId);
    const {
      rows: [m],
    } = await pool.query<{ topups: string; costs: string; balance: string }>(
      `select (select coalesce(sum(amount), 0) from topups where account_id = $1) as topups,
              (select coalesce(sum(cost - unrecovered), 0) from cdrs where account_id = $1) as costs,
              (select balance from accounts where id = $1) as balance`,
      [accountId],
    );
    const expected = Number(m!.topups) - Number(m!.costs);
    if (!live || live.balance !== expected || Number(m!.balance) !== expected || live.reserved !== 0 || live.callsInProgress !== 0) {
      mismatches.push({ accountId, redis: live?.balance, postgres: Number(m!.balance), expected, reserved: live?.reserved, calls: live?.callsInProgress });
    }
  }
  const checks = {
    calls_attempted: expectedCalls,
    cdrs: Number(cdr!.n),
    distinct_call_ids: Number(cdr!.distinct_calls),
    total_cost: Number(cdr!.cost),
    every_call_one_cdr: Number(cdr!.n) === expectedCalls && Number(cdr!.distinct_calls) === expectedCalls,
    money_invariant_holds: mismatches.length === 0,
    mismatches: mismatches.slice(0, 5),
  };
  console.log(JSON.stringify(checks));
  writeJson(outFile, {
    benchmark: 'sip-call-flow',
    at: new Date().toISOString(),
    machine: machine(),
    redis: redisInfo,
    settings: {
      rates,
      duration_s: duration,
      hold_ms: hold,
      accounts: accountCount,
      log_level: logLevel,
      edge: 'own process (src/edge/bin/main.ts), UDP',
      app: 'this process (SIP app + ledger writer)',
    },
    results,
    checks,
  });

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
