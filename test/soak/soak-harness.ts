/**
 * Fault and soak harness: the SIP application as production runs it, as child processes
 * (`node --import tsx src/main.ts`, each with its ledger writer and stale-call sweeper), connected
 * to one embedded edge, sharing one Postgres schema and one Redis namespace. Postgres is reached
 * through a TCP proxy the test can take down. sipp plays devices and a carrier gateway.
 *
 *   sipp devices ──▶ edge ◀── drachtio wire ── app 1, app 2 (child processes) ──▶ Redis
 *                     │                                     └──── TCP proxy ──▶ Postgres
 *                     └──▶ sipp carrier gateway (trusted address)
 *
 * Used by test/soak/*.test.ts (short, bounded, in CI) and scripts/soak/soak.ts (long, by hand).
 */
import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { AccountService } from '../../src/accounts/account-service.ts';
import { BalanceStore } from '../../src/billing/balance/balance-store.ts';
import { TariffRepository } from '../../src/billing/tariff-repository.ts';
import { listLiveCalls } from '../../src/calls/live-calls.ts';
import type { LiveCall } from '../../src/calls/live-calls.ts';
import { buildEdgeConfig } from '../../src/edge/config/edge-config.ts';
import { EdgeServer } from '../../src/edge/core/edge-server.ts';
import { FAST_TIMERS } from '../support/edge-apps/edge-harness.ts';
import { randomLoopback, randomPort } from '../support/edge-apps/ports.ts';
import { moneyReport } from '../support/money-report.ts';
import type { MoneyReport } from '../support/money-report.ts';
import { PrivateRedis } from '../support/private-redis.ts';
import { deleteNamespace } from '../support/redis-namespace.ts';
import { spawnSipp } from '../support/sipp-process.ts';
import { setupServices, TEST_DATABASE_URL, TEST_PEPPER, TEST_REDIS_URL } from '../support/services.ts';
import type { TestServices } from '../support/services.ts';
import { TcpProxy } from '../support/tcp-proxy.ts';

const ROOT = resolve(import.meta.dirname, '../..');
export const SCENARIOS = resolve(import.meta.dirname, 'scenarios');
export const CARRIER_SCENARIO = resolve(ROOT, 'test/sipp/app/uas-answer-recv-bye.xml');
export const REALM = 'soak.test';
export const UK = '00441632960001';
/** Rate of UK (44): 0.60 per minute, per-second billing → 10 000 micro-units per second. */
export const RATE_PER_SECOND = 10_000;
const TARIFF_CSV = [
  'prefix,description,price_per_minute,connection_fee,minimum_seconds,initial_increment,subsequent_increment,effective_from,effective_until,connection_fee_policy',
  '44,UK,0.6,0,0,1,1,2020-01-01T00:00:00.000Z,,answered',
].join('\n');

/** The app's configuration wants a secret of at least 8 characters. */
export const SECRET = 'soak-edge-secret';

export interface SoakEdge {
  readonly ip: string;
  readonly sipPort: number;
  readonly adminPort: number;
  readonly sipHostport: string;
  stop(): Promise<void>;
}

/**
 * An edge on a random loopback address and free ports, short transaction timers; or, to restart
 * one, on the address and ports of the one before (the apps reconnect to the same control port).
 */
export async function startSoakEdge(at?: { ip: string; sipPort: number; adminPort: number }): Promise<SoakEdge> {
  const ip = at?.ip ?? randomLoopback();
  let lastError: unknown;
  for (let attempt = 0; attempt < (at ? 50 : 20); attempt++) {
    const port = at?.sipPort ?? randomPort();
    const edge = new EdgeServer(
      buildEdgeConfig({
        sip: [
          { protocol: 'udp', host: ip, port },
          { protocol: 'tcp', host: ip, port },
        ],
        admin: { host: ip, port: at?.adminPort ?? 0, secret: SECRET },
        timers: FAST_TIMERS,
        rateLimitPerSource: 0,
        logLevel: 'silent',
      }),
    );
    try {
      const addresses = await edge.start();
      return { ip, sipPort: port, adminPort: addresses.admin.port, sipHostport: `${ip}:${port}`, stop: () => edge.stop() };
    } catch (err) {
      lastError = err;
      await edge.stop().catch(() => undefined);
      if (at) await new Promise((r) => setTimeout(r, 100)); // the old sockets may take a moment to go
    }
  }
  throw new Error(`could not start the edge: ${String(lastError)}`);
}

export interface AppProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly log: string[];
  /** Resolves once connected to the SIP server. */
  readonly connected: Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export interface Device {
  accountId: number;
  username: string;
  password: string;
}

export interface Sipp {
  readonly done: Promise<{ code: number | null; stdout: string; errors: string }>;
  kill(): void;
}

export type MoneyCheck = MoneyReport;

function loopbackNot(taken: string[]): string {
  for (;;) {
    const ip = `127.0.0.${2 + Math.floor(Math.random() * 248)}`;
    if (!taken.includes(ip)) return ip;
  }
}

export class SoakHarness {
  readonly apps: AppProcess[] = [];
  readonly gatewayPort = randomPort();
  readonly store: BalanceStore;
  readonly accounts: AccountService;
  private seq = 0;

  private constructor(
    readonly s: TestServices,
    private currentEdge: SoakEdge,
    readonly pgProxy: TcpProxy,
    readonly namespace: string,
    readonly carrierIp: string,
    readonly appEnv: Record<string, string>,
    readonly redisServer: PrivateRedis | undefined,
  ) {
    this.store = new BalanceStore(s.redis, { namespace, shards: 4 });
    this.accounts = new AccountService(s.pool, this.store, TEST_PEPPER);
  }

  get edge(): SoakEdge {
    return this.currentEdge;
  }

  /**
   * `ownRedis`: the run gets a Redis of its own (AOF, appendfsync always) that restartRedis() can
   * crash and restart; otherwise the machine's shared test Redis.
   */
  static async start(label: string, env: Record<string, string> = {}, opts: { ownRedis?: boolean; cluster?: boolean } = {}): Promise<SoakHarness> {
    const redisServer = opts.ownRedis ? new PrivateRedis('always') : undefined;
    await redisServer?.start();
    const s = await setupServices(label, {
      shards: 4,
      ...(redisServer ? { redisUrl: redisServer.url } : {}),
      ...(opts.cluster ? { redis: 'cluster' as const } : {}),
    });
    // on a cluster every process is given the nodes (REDIS_CLUSTER_NODES); REDIS_URL then names only credentials
    const redisUrl = s.cluster?.target.redisUrl ?? redisServer?.url ?? TEST_REDIS_URL;
    const namespace = s.namespace.replace(/[^A-Za-z0-9_-]/g, '_');
    const edge = await startSoakEdge();
    const pg = new URL(TEST_DATABASE_URL);
    const proxy = new TcpProxy(pg.hostname, Number(pg.port || 5432));
    await proxy.up();
    const proxied = new URL(TEST_DATABASE_URL);
    proxied.hostname = '127.0.0.1';
    proxied.port = String(proxy.port);
    const carrierIp = loopbackNot([edge.ip]);
    const appEnv = {
      DATABASE_URL: proxied.toString(),
      DATABASE_SCHEMA: s.schema,
      REDIS_URL: redisUrl,
      REDIS_CLUSTER_NODES: s.cluster?.nodes ?? '',
      REDIS_NAMESPACE: namespace,
      REDIS_SHARDS: '4',
      PIN_PEPPER: TEST_PEPPER,
      SIP_NONCE_KEY: 'soak-nonce-key-0123456789-abcdefghijkl',
      SIP_REALM: REALM,
      SIP_DIGEST_ALGORITHMS: 'MD5,SHA-256',
      DRACHTIO_HOST: edge.ip,
      DRACHTIO_PORT: String(edge.adminPort),
      DRACHTIO_SECRET: SECRET,
      SIP_ENABLED: 'true',
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: '0',
      LOG_LEVEL: 'info',
      // the tests find each process's calls by the Call-IDs it logs; masked, they name no call
      LOG_PERSONAL_DATA: 'full',
      // the carriers are sipp call scenarios started per test: an OPTIONS probe would be an unexpected
      // message that ends one (gateway health has its own test, test/e2e/sip-gateway-health.test.ts)
      GATEWAY_PROBE_INTERVAL_SECONDS: '0',
      ROUTING_MODE: 'priority',
      NO_ANSWER_TIMEOUT_SECONDS: '5',
      RESERVATION_SLICE_SECONDS: '6',
      CREDIT_EXTEND_LEAD_SECONDS: '2',
      CREDIT_WARN_SECONDS: '0',
      MAX_CALL_SECONDS: '600',
      SWEEPER_INTERVAL_SECONDS: '1',
      LEDGER_CLAIM_IDLE_MS: '2000',
      LEDGER_BLOCK_MS: '200',
      ACCOUNT_CPS_LIMIT: '1000',
      AUTH_FAILURE_THRESHOLD: '10000',
      ...env,
    };
    const h = new SoakHarness(s, edge, proxy, namespace, carrierIp, appEnv, redisServer);
    const imported = await new TariffRepository(s.pool).importCsv('retail', 'Retail', 'GBP', TARIFF_CSV);
    if (!('imported' in imported)) throw new Error(`tariff import failed: ${JSON.stringify(imported)}`);
    await s.pool.query(`insert into carriers (id, name) values ('carrier-a', 'Carrier A')`);
    await s.pool.query(`insert into carrier_prefixes (carrier_id, prefix) values ('carrier-a', '')`);
    await s.pool.query(`insert into carrier_addresses (carrier_id, network) values ('carrier-a', $1)`, [`${carrierIp}/32`]);
    await s.pool.query('insert into gateways (carrier_id, address, port, priority) values ($1, $2, $3, $4)', ['carrier-a', carrierIp, h.gatewayPort, 10]);
    return h;
  }

  /** Starts one SIP application process and waits until it is connected to the edge. */
  async startApp(name: string, env: Record<string, string> = {}): Promise<AppProcess> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: ROOT,
      env: { ...process.env, ...this.appEnv, LEDGER_CONSUMER: name, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const log: string[] = [];
    const logFile = process.env.SOAK_LOG_DIR ? join(process.env.SOAK_LOG_DIR, `${name}.log`) : undefined;
    const keep = (line: string) => {
      log.push(line);
      if (log.length > 2000) log.splice(0, 1000);
      if (logFile) appendFileSync(logFile, `${line}\n`);
    };
    createInterface({ input: child.stdout! }).on('line', keep);
    createInterface({ input: child.stderr! }).on('line', keep);
    const exited = new Promise<void>((res) => child.once('exit', () => res()));
    const connected = new Promise<void>((res, rej) => {
      const t = setTimeout(() => rej(new Error(`${name} did not connect within 45 s:\n${log.slice(-20).join('\n')}`)), 45_000);
      const check = (line: string) => {
        if (line.includes('connected to the SIP server')) {
          clearTimeout(t);
          res();
        }
      };
      createInterface({ input: child.stdout! }).on('line', check);
      void exited.then(() => {
        clearTimeout(t);
        rej(new Error(`${name} exited:\n${log.slice(-20).join('\n')}`));
      });
    });
    connected.catch(() => undefined);
    const app: AppProcess = {
      name,
      child,
      log,
      connected,
      async kill(signal: NodeJS.Signals = 'SIGKILL') {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill(signal);
        await exited;
      },
    };
    this.apps.push(app);
    await connected;
    return app;
  }

  /** An account on the retail tariff with SIP credentials, funded by a top-up of `credit` micro-units. */
  async device(credit: number, maxConcurrentCalls = 10): Promise<Device> {
    const customerId = await this.accounts.createCustomer({ name: 'Soak Customer' });
    const a = await this.accounts.createAccount({ customerId, currency: 'GBP', tariffId: 'retail', maxConcurrentCalls, country: 'GB' });
    const r = await this.store.topUp(a.id, `opening-${a.id}`, credit, 'test', `ref-${a.id}`);
    if (!r.ok) throw new Error(`top-up failed: ${r.reason}`);
    const username = `soak${a.id}x${++this.seq}`;
    const password = `pw-${username}-0123456789`;
    await this.accounts.setSipPassword(a.id, username, REALM, password);
    return { accountId: a.id, username, password };
  }

  /** Device calls to `service`: answered calls talk `holdMs` and hang up; refusals (486) end at once. */
  calls(d: Device, opts: { calls: number; rate?: number; holdMs: number; service?: string; timeoutSec?: number; limit?: number; scenario?: string }): Sipp {
    return this.sipp(join(SCENARIOS, opts.scenario ?? 'device-call-or-busy.xml'), this.edge.ip, undefined, [
      '-s',
      opts.service ?? UK,
      '-auth_uri',
      `${opts.service ?? UK}@${this.edge.sipHostport}`,
      '-au',
      d.username,
      '-ap',
      d.password,
      '-key',
      'user',
      d.username,
      '-m',
      String(opts.calls),
      '-r',
      String(opts.rate ?? 10),
      '-l',
      String(opts.limit ?? opts.calls),
      '-d',
      String(opts.holdMs),
      '-timeout',
      `${opts.timeoutSec ?? 60}s`,
      this.edge.sipHostport,
    ]);
  }

  /** One device call that stays up until the switch sends it a BYE (test/sipp/app/device-call-recv-bye.xml). */
  callUntilBye(d: Device, timeoutSec = 60): Sipp {
    return this.sipp(resolve(ROOT, 'test/sipp/app/device-call-recv-bye.xml'), this.edge.ip, undefined, [
      '-s',
      UK,
      '-auth_uri',
      `${UK}@${this.edge.sipHostport}`,
      '-au',
      d.username,
      '-ap',
      d.password,
      '-key',
      'user',
      d.username,
      '-m',
      '1',
      '-timeout',
      `${timeoutSec}s`,
      this.edge.sipHostport,
    ]);
  }

  /** One INVITE challenged and acknowledged: the SIP server's round-robin moves on by one request. */
  shiftRoundRobin(d: Device): Promise<{ code: number | null; stdout: string; errors: string }> {
    return this.sipp(join(SCENARIOS, 'invite-challenge.xml'), this.edge.ip, undefined, [
      '-s',
      UK,
      '-auth_uri',
      `${UK}@${this.edge.sipHostport}`,
      '-au',
      d.username,
      '-ap',
      d.password,
      '-key',
      'user',
      d.username,
      '-m',
      '1',
      '-timeout',
      '20s',
      this.edge.sipHostport,
    ]).done;
  }

  /** Call-IDs each app process logged as answered. */
  answeredBy(): Map<string, string[]> {
    return new Map(
      this.apps.map((a) => [a.name, a.log.filter((l) => l.includes('"msg":"call answered"')).map((l) => (JSON.parse(l) as { callId: string }).callId)]),
    );
  }

  /** The carrier gateway: answers every call and waits for its BYE. */
  carrier(calls: number, timeoutSec = 120): Sipp {
    return this.sipp(CARRIER_SCENARIO, this.carrierIp, this.gatewayPort, ['-m', String(calls), '-l', '100000', '-timeout', `${timeoutSec}s`]);
  }

  /**
   * One device call (test/sipp/app/device-call.xml) whose caller hangs up `holdMs` after the answer
   * and expects `byeStatus` to its BYE (481 when the process holding the call is gone).
   */
  callHangingUp(d: Device, holdMs: number, byeStatus: number, timeoutSec = 60): Sipp {
    const expectBye = (xml: string) => {
      const at = xml.lastIndexOf('<recv response="200"/>');
      return `${xml.slice(0, at)}<recv response="${byeStatus}"/>${xml.slice(at + '<recv response="200"/>'.length)}`;
    };
    return this.sipp(
      resolve(ROOT, 'test/sipp/app/device-call.xml'),
      this.edge.ip,
      undefined,
      ['-s', UK, '-auth_uri', `${UK}@${this.edge.sipHostport}`, '-au', d.username, '-ap', d.password, '-key', 'user', d.username, '-m', '1'].concat([
        '-d',
        String(holdMs),
        '-timeout',
        `${timeoutSec}s`,
        this.edge.sipHostport,
      ]),
      expectBye,
    );
  }

  private sipp(scenario: string, ip: string, port: number | undefined, args: string[], edit: (xml: string) => string = (x) => x): Sipp {
    const dir = mkdtempSync(join(tmpdir(), 'soak-sipp-'));
    const file = join(dir, 'scenario.xml');
    writeFileSync(file, edit(readFileSync(scenario, 'utf8')));
    const child = spawnSipp({ ip, port, args: ['-sf', file, '-timeout_error', ...args], cwd: dir, rawErrors: true });
    return { done: child.done, kill: () => child.kill() };
  }

  live(accountId?: number): Promise<LiveCall[]> {
    return listLiveCalls(this.store, accountId);
  }

  /** Waits until `predicate` holds, polling every `everyMs`; throws with `what` after `timeoutMs`. */
  async until(predicate: () => Promise<boolean>, timeoutMs: number, what: string, everyMs = 250): Promise<number> {
    const start = Date.now();
    while (!(await predicate())) {
      if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, everyMs));
    }
    return Date.now() - start;
  }

  /** Events not yet in Postgres: stream entries (written ones are deleted) plus any still pending. */
  async unwritten(): Promise<number> {
    let n = 0;
    for (const stream of this.store.keys.allStreams()) n += await this.s.redis.xlen(stream);
    return n;
  }

  /** The money invariant of one account, read without writing anything: the apps' ledger writers must have done it. */
  async money(accountId: number): Promise<MoneyCheck> {
    return moneyReport(this.s.pool, this.store, accountId);
  }

  /** Resident set size of each app process (kB), from /proc. */
  rss(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const a of this.apps) {
      if (a.child.exitCode !== null || a.child.signalCode !== null || !a.child.pid) continue;
      try {
        const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${a.child.pid}/status`, 'utf8'));
        if (m) out[a.name] = Number(m[1]);
      } catch {
        /* exited meanwhile */
      }
    }
    return out;
  }

  /** Crashes the run's own Redis (SIGKILL) and starts it again from its AOF. */
  async restartRedis(): Promise<void> {
    if (!this.redisServer) throw new Error('restartRedis needs SoakHarness.start(..., { ownRedis: true })');
    await this.redisServer.crash();
    await this.redisServer.start();
  }

  /** Stops the SIP server and starts a new one on the same address and ports; the apps reconnect by themselves. */
  async restartEdge(): Promise<void> {
    const { ip, sipPort, adminPort } = this.currentEdge;
    await this.currentEdge.stop();
    this.currentEdge = await startSoakEdge({ ip, sipPort, adminPort });
  }

  async stop(): Promise<void> {
    for (const a of this.apps) await a.kill('SIGTERM').catch(() => undefined);
    await this.edge.stop();
    await this.pgProxy.down();
    await deleteNamespace(this.s.redis, this.namespace);
    await this.s.teardown();
    await this.redisServer?.stop();
  }
}
