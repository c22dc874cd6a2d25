/**
 * The SIP application end to end: an isolated Postgres schema and Redis namespace, a seeded
 * tariff, carriers whose gateways are sipp UAS instances on their own loopback address, an
 * embedded edge, and createSipApp connected to it, with short credit timers (6 s slices,
 * extend 2 s before the cover runs out). sipp plays devices and carriers.
 *
 *   sipp device ──▶ edge (127.0.0.a) ◀── drachtio wire ── createSipApp ──▶ Redis / Postgres
 *                       │
 *                       └──▶ sipp carrier gateways (127.0.0.c, trusted carrier address)
 *
 * Every wait is for an event (a call answered or settled, sipp exiting), bounded by a deadline.
 */
import type { Logger } from 'pino';
import { expect } from 'vitest';
import { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AccountService } from '../../src/accounts/account-service.ts';
import type { Account, NewAccount } from '../../src/accounts/account-service.ts';
import { CallCredit } from '../../src/billing/credit/call-credit.ts';
import { StaleCallSweeper } from '../../src/billing/credit/stale-call-sweeper.ts';
import { TariffRepository } from '../../src/billing/tariff-repository.ts';
import { LedgerWriter } from '../../src/ledger/ledger-writer.ts';
import { PostgresLedgerSink } from '../../src/ledger/postgres-ledger-sink.ts';
import { EmbeddedMediaServer } from '../../src/media/embedded/embedded-media-server.ts';
import { DirectoryRecordingStore } from '../../src/recordings/recording-store.ts';
import type { PrepaidCall } from '../../src/sip/call/prepaid-call.ts';
import type { GatewayAttempt } from '../../src/sip/call/call-control.ts';
import type { IvrState } from '../../src/sip/ivr/ivr-state.ts';
import type { IvrSettings } from '../../src/sip/ivr/ivr-settings.ts';
import { composeSipApp, createSipApp } from '../../src/sip/sip-app.ts';
import type { SipSettings } from '../../src/sip/sip-app.ts';
import { EdgeServer } from '../../src/edge/core/edge-server.ts';
import type { EdgeTimers } from '../../src/edge/config/edge-config.ts';
import { startEdge } from './edge-apps/edge-harness.ts';
import type { TestEdge } from './edge-apps/edge-harness.ts';
import { spawnEdgeProcess } from './edge-apps/edge-process.ts';
import { randomPort } from './edge-apps/ports.ts';
import { moneyReport } from './money-report.ts';
import type { MoneyReport } from './money-report.ts';
import { spawnSipp } from './sipp-process.ts';
import type { SippRun } from './sipp-process.ts';
import { setupServices, TEST_PEPPER } from './services.ts';
import type { RedisKind } from './services.ts';
import { TcpProxy } from './tcp-proxy.ts';
import type { TestServices } from './services.ts';

/** A sipp run ended cleanly: exit 0 and nothing in its error log (the tail of its output on failure). */
export function clean(...runs: SippRun[]): void {
  for (const r of runs) {
    expect(r.errors, r.stdout.slice(-2000)).toBe('');
    expect(r.code).toBe(0);
  }
}

/**
 * As clean(), but a BYE that reaches sipp after its call ended is allowed: with the short test
 * timers (T1 = 50 ms) a loaded machine makes the SIP server retransmit a BYE whose 200 is still on
 * its way, and sipp reports the copy as an event on a dead call. Anything else still fails.
 */
export function cleanButLateByes(...runs: SippRun[]): void {
  for (const r of runs) {
    const events = r.errors.split(/(?=\d{4}-\d\d-\d\d\t)/).filter((e) => /^\d{4}-\d\d-\d\d\t/.test(e));
    expect(
      events.filter((e) => !/Dead call .* received 'BYE /.test(e)),
      r.stdout.slice(-2000),
    ).toEqual([]);
    expect(r.code).toBe(0);
  }
}

export const APP_SCENARIO_DIR = resolve(import.meta.dirname, '../sipp/app');
export const REALM = 'sip.test';
export const NONCE_KEY = 'sip-app-harness-nonce-key-0123456789abcdef';

/**
 * The retail tariff (prices in currency units per minute, converted to micro-units on import):
 *   44    UK          0.60/min, per second        → 10 000 µ/s
 *   4477  UK mobile   0.60/min, per minute (60/60) → a started minute costs 600 000 µ
 *   4490  UK premium  3.00/min (blocklisted)
 */
export const RATE_PER_SECOND = 10_000;
/** The voucher code key of the harness's app (a test makes batches with the same key). */
export const VOUCHER_KEY = 'sip-app-harness-voucher-key-0123456789abcdef';
/** The key of the callback number counters' hashes (callbackKeyOf in production). */
export const CALLBACK_KEY = 'sip-app-harness-callback-key-0123456789abcdef';
export const MINUTE_RATE = 600_000;
const TARIFF_CSV = [
  'prefix,description,price_per_minute,connection_fee,minimum_seconds,initial_increment,subsequent_increment,effective_from,effective_until,connection_fee_policy',
  '44,UK,0.6,0,0,1,1,2020-01-01T00:00:00.000Z,,answered',
  '4477,UK mobile,0.6,0,0,60,60,2020-01-01T00:00:00.000Z,,answered',
  '4490,UK premium,3,0,0,1,1,2020-01-01T00:00:00.000Z,,answered',
].join('\n');

export interface HarnessOptions {
  /** The Redis the app and the test use: the shared single server (default) or a local Redis Cluster of the file's own. */
  redis?: RedisKind;
  /** SIP_DIGEST_SHA256_USER_AGENTS (default none: MD5 alone for every client). */
  digestSha256UserAgents?: string[];
  sliceSeconds?: number;
  extendLeadSeconds?: number;
  /** Slack on every reservation deadline (RESERVATION_GRACE_SECONDS; default 15). */
  graceSeconds?: number;
  /** Run a stale-call sweeper in the app this often (default: none). */
  sweeperIntervalMs?: number;
  maxCallSeconds?: number;
  noAnswerTimeoutSeconds?: number;
  failureThreshold?: number;
  banSeconds?: number;
  accountCps?: number;
  /** Seconds before a cut for lack of credit at which the caller is warned (default 0: no warning). */
  warnSeconds?: number;
  minCallSeconds?: number;
  /** The on-net rate (default: free, per minute). */
  onNet?: { pricePerMinute: number; incrementSeconds: number };
  /** The embedded media server for access-number calls (none: access numbers get 503). */
  media?: { portMin: number; portMax: number; rtpTimeoutMs?: number };
  /** Call recording into this directory (with `media`); `announce`: RECORDING_ANNOUNCEMENT (default false here). */
  recording?: { dir: string; announce?: boolean };
  ivr?: Partial<IvrSettings>;
  /** Redis to use instead of the shared one (e.g. through a TcpProxy a test takes down). */
  redisUrl?: string;
  /** Gateways of the one carrier, in priority order (lower first). Default two. */
  gateways?: number;
  logLevel?: string;
  /** The app's logger instead of the services' (e.g. the production logger writing to a file a test reads). */
  log?: Logger;
  /**
   * The app reaches the SIP server through a proxy that passes the server's frames on in batches
   * every this many ms, so that the app reads several at once (an app whose event loop is busy).
   */
  appLinkBatchMs?: number;
  /** The app reaches the SIP server through a proxy that delays what the app sends by this many ms (the app's answers reach the server late). */
  appLinkSendDelayMs?: number;
  /** Call-state durability (answered calls' legs in Redis, orphans ended): keep-alive every this many seconds. */
  keepAliveSeconds?: number;
  /** With durability: SIP_SERVER_LOST_SECONDS (default 10). */
  sipServerLostSeconds?: number;
  /** SIP_TRUSTED_PROXIES. */
  trustedProxies?: string[];
  /** Timers of the embedded SIP server instead of the short test ones (FAST_TIMERS: T1 = 50 ms). */
  edgeTimers?: Partial<EdgeTimers>;
  /** Voucher top-up at the access numbers (key 9) with this many attempts per account and caller in the window (default: not offered). */
  voucherAttempts?: number;
  /** Gateway health probes (default: none). */
  gatewayHealth?: SipSettings['gatewayHealth'];
  /** Place callback requests (CALLBACK_ENABLED): the intake reads the request stream on its own connection. */
  callback?: boolean;
  /** CALLBACK_ACCESS_NUMBERS (callback by call; with `callback`, requests counted with `callbackLimits`). */
  callbackAccessNumbers?: string[];
  /** CALLBACK_MAX_PER_HOUR / CALLBACK_MAX_PER_NUMBER_PER_HOUR of the requests made by calls (default 100 each). */
  callbackLimits?: { maxPerHour: number; maxPerNumberPerHour: number };
}

export type { SippRun };

export interface SippProc {
  readonly port: number;
  readonly done: Promise<SippRun>;
  kill(): void;
}

export interface SippArgs {
  /** File in test/sipp/app; `{{name}}` placeholders are replaced from `vars` (for attributes, which sipp never substitutes). */
  scenario: string;
  ip: string;
  port?: number;
  /** `host:port` to send to (UAC scenarios). */
  remote?: string;
  /** Request-URI user part ([service]). */
  service?: string;
  /** Digest credentials sipp answers a 401/407 with. */
  user?: string;
  password?: string;
  calls?: number;
  rate?: number;
  /** Default pause length (ms) of `<pause/>` in the scenario. */
  pauseMs?: number;
  timeoutSec?: number;
  /** `-key name value`: [name] in message text. */
  keys?: Record<string, string>;
  vars?: Record<string, string>;
  extra?: string[];
}

/** Runs one sipp scenario, bounded by -m and -timeout, errors collected with -trace_err. */
export function startAppSipp(a: SippArgs): SippProc {
  const dir = mkdtempSync(join(tmpdir(), 'sip-app-sipp-'));
  let xml = readFileSync(join(APP_SCENARIO_DIR, a.scenario), 'utf8');
  for (const [k, v] of Object.entries(a.vars ?? {})) xml = xml.replaceAll(`{{${k}}}`, v);
  const file = join(dir, a.scenario);
  writeFileSync(file, xml);
  const args = [
    '-sf',
    file,
    '-m',
    String(a.calls ?? 1),
    '-timeout',
    `${a.timeoutSec ?? 20}s`,
    '-timeout_error',
    '-s',
    a.service ?? 'service',
    '-au',
    a.user ?? 'nobody',
    '-ap',
    a.password ?? 'nothing',
    '-d',
    String(a.pauseMs ?? 1000),
  ];
  if (a.rate !== undefined) args.push('-r', String(a.rate));
  for (const [k, v] of Object.entries({ user: a.user ?? 'nobody', expires: '3600', ...a.keys })) args.push('-key', k, v);
  // sipp computes the digest over `remote_ip:remote_port` unless told the Request-URI; the app checks the digest's uri against it
  if (a.remote) args.push('-auth_uri', `${a.service ?? 'service'}@${a.remote}`);
  if (a.extra) args.push(...a.extra);
  if (a.remote) args.push(a.remote);
  const child = spawnSipp({ ip: a.ip, port: a.port, args, cwd: dir });
  return {
    get port() {
      return child.port;
    },
    done: child.done,
    kill: () => child.kill(),
  };
}

export function runAppSipp(a: SippArgs): Promise<SippRun> {
  return startAppSipp(a).done;
}

/** A loopback address not equal to any of `taken`. */
function otherLoopback(taken: readonly string[]): string {
  for (;;) {
    const ip = `127.0.0.${2 + Math.floor(Math.random() * 248)}`;
    if (!taken.includes(ip)) return ip;
  }
}

export interface Device {
  account: Account;
  username: string;
  password: string;
}

export type { MoneyReport };

export class SipAppHarness {
  readonly events = new EventEmitter();
  readonly answered: PrepaidCall[] = [];
  readonly settled: PrepaidCall[] = [];
  /** Call recordings stored or failed, as the IVR reported them. */
  readonly recordings: { callId: string; outcome: 'stored' | 'failed'; cause?: string }[] = [];
  /** Every gateway attempt and every answered call's seconds per gateway, in order. */
  readonly gatewayEvents: (({ kind: 'attempt' } & GatewayAttempt) | { kind: 'ended'; gatewayId: number; carrierId: string; seconds: number })[] = [];
  /** Every IVR state entered, in order. */
  readonly ivrStates: { callId: string; state: IvrState }[] = [];
  /** Every wrong PIN keyed at an access number, with the time it was found wrong. */
  readonly wrongPins: { callId: string; accessNumber: string; sourceIp: string; at: number }[] = [];
  /** Every time a wrong-PIN budget ran out. */
  readonly pinBudgetExhausted: { budget: string; accessNumber: string; sourceIp: string }[] = [];
  readonly accountsSvc: AccountService;
  readonly tariffs: TariffRepository;
  readonly credit: CallCredit;
  readonly writer: LedgerWriter;
  /** Gateway ports of the carrier 'carrier-a' on carrierIp, in priority order. */
  readonly gatewayPorts: number[] = [];
  readonly accountIds: number[] = [];
  private app!: ReturnType<typeof createSipApp>;
  private appDeps!: Parameters<typeof composeSipApp>[0];
  private readonly extraApps: ReturnType<typeof createSipApp>[] = [];
  private readonly extraServers: (() => Promise<void>)[] = [];
  private sweeper: StaleCallSweeper | undefined;
  private edgeRef!: TestEdge;
  private appLink: TcpProxy | undefined;
  private seq = 0;

  private constructor(
    readonly s: TestServices,
    readonly opts: HarnessOptions,
    readonly carrierIp: string,
  ) {
    this.accountsSvc = new AccountService(s.pool, s.store, TEST_PEPPER);
    this.tariffs = new TariffRepository(s.pool);
    this.credit = new CallCredit(s.store, {
      sliceSeconds: opts.sliceSeconds ?? 6,
      maxCallSeconds: opts.maxCallSeconds ?? 60,
      ...(opts.graceSeconds !== undefined ? { graceSeconds: opts.graceSeconds } : {}),
    });
    this.writer = new LedgerWriter(s.newRedis(), new PostgresLedgerSink(s.pool), {
      streams: s.store.keys.allStreams(),
      deadLetterStream: `${s.namespace}:deadletter`,
      logger: s.logger,
    });
  }

  static async start(label: string, opts: HarnessOptions = {}): Promise<SipAppHarness> {
    const s = await setupServices(label, { ...(opts.redisUrl ? { redisUrl: opts.redisUrl } : {}), ...(opts.redis ? { redis: opts.redis } : {}) });
    const edge = await startEdge(opts.edgeTimers ? { timers: opts.edgeTimers } : {});
    const h = new SipAppHarness(s, opts, otherLoopback([edge.ip]));
    h.edgeRef = edge;
    const imported = await h.tariffs.importCsv('retail', 'Retail', 'GBP', TARIFF_CSV);
    if (!('imported' in imported)) throw new Error(`tariff import failed: ${JSON.stringify(imported)}`);
    await s.pool.query(`insert into carriers (id, name) values ('carrier-a', 'Carrier A')`);
    await s.pool.query(`insert into carrier_prefixes (carrier_id, prefix) values ('carrier-a', '')`);
    await s.pool.query(`insert into carrier_addresses (carrier_id, network) values ('carrier-a', $1)`, [`${h.carrierIp}/32`]);
    for (let i = 0; i < (opts.gateways ?? 2); i++) {
      const port = randomPort();
      h.gatewayPorts.push(port);
      await s.pool.query('insert into gateways (carrier_id, address, port, priority) values ($1, $2, $3, $4)', ['carrier-a', h.carrierIp, port, 10 * (i + 1)]);
    }
    await s.pool.query(`insert into destination_blocklist (prefix, reason) values ('4490', 'premium rate')`);
    const logger = opts.log ?? (opts.logLevel ? s.logger.child({}, { level: opts.logLevel }) : s.logger);
    let drachtio = { host: edge.ip, port: edge.adminPort, secret: edge.secret };
    if (opts.appLinkBatchMs !== undefined || opts.appLinkSendDelayMs !== undefined) {
      h.appLink = new TcpProxy(edge.ip, edge.adminPort, {
        ...(opts.appLinkBatchMs !== undefined ? { batchMs: opts.appLinkBatchMs } : {}),
        ...(opts.appLinkSendDelayMs !== undefined ? { clientDelayMs: opts.appLinkSendDelayMs } : {}),
      });
      drachtio = { host: '127.0.0.1', port: await h.appLink.up(0), secret: edge.secret };
    }
    const settings: SipSettings = {
      drachtio,
      // the default challenge (MD5 alone), as a fresh install has it; sipp knows only MD5, SHA-256
      // is tested with precomputed credentials (accepted whatever was offered)
      realm: REALM,
      nonceKey: NONCE_KEY,
      ...(opts.digestSha256UserAgents ? { digestSha256UserAgents: opts.digestSha256UserAgents } : {}),
      namespace: s.namespace,
      ...(opts.trustedProxies ? { trustedProxies: opts.trustedProxies } : {}),
      routingMode: 'priority',
      noAnswerTimeoutSeconds: opts.noAnswerTimeoutSeconds ?? 5,
      maxCallSeconds: opts.maxCallSeconds ?? 60,
      extendLeadSeconds: opts.extendLeadSeconds ?? 2,
      warnSeconds: opts.warnSeconds ?? 0,
      ...(opts.minCallSeconds ? { minCallSeconds: opts.minCallSeconds } : {}),
      ...(opts.onNet ? { onNet: opts.onNet } : {}),
      ...(opts.ivr ? { ivr: opts.ivr } : {}),
      ...(opts.gatewayHealth ? { gatewayHealth: opts.gatewayHealth } : {}),
      ...(opts.voucherAttempts
        ? { vouchers: { key: VOUCHER_KEY, maxPerAccount: opts.voucherAttempts, maxPerSource: opts.voucherAttempts, windowSeconds: 3600 } }
        : {}),
      ...(opts.keepAliveSeconds
        ? {
            durability: {
              keepAliveSeconds: opts.keepAliveSeconds,
              orphanAfterKeepAlives: 3,
              ...(opts.sipServerLostSeconds ? { serverLostSeconds: opts.sipServerLostSeconds } : {}),
            },
          }
        : {}),
      ...(opts.callback
        ? {
            callback: {
              blockMs: 200,
              claimIdleMs: 60_000,
              maxAgeMs: 120_000,
              limits: { key: CALLBACK_KEY, maxPerHour: 100, maxPerNumberPerHour: 100, ...opts.callbackLimits },
            },
          }
        : {}),
      ...(opts.callbackAccessNumbers ? { callbackAccessNumbers: opts.callbackAccessNumbers } : {}),
      ...(opts.recording ? { recording: { announce: opts.recording.announce ?? false } } : {}),
      registrar: { minExpires: 60, maxExpires: 3600, maxContacts: 3 },
      guards: { failureThreshold: opts.failureThreshold ?? 5, banSeconds: opts.banSeconds ?? 60, action: 'reject', accountCps: opts.accountCps ?? 100 },
    };
    h.appDeps = {
      settings,
      log: logger,
      pool: s.pool,
      redis: s.redis,
      accounts: h.accountsSvc,
      tariffs: h.tariffs,
      credit: h.credit,
      balances: s.store,
      store: s.store,
      ...(opts.callback ? { callbackRedis: s.newRedis() } : {}),
      ...(opts.media
        ? {
            media: (uas) =>
              new EmbeddedMediaServer({
                uas,
                soundsDir: resolve(import.meta.dirname, '../../freeswitch/sounds'),
                ...opts.media!,
                ...(opts.recording ? { recordings: new DirectoryRecordingStore(opts.recording.dir) } : {}),
              }),
          }
        : {}),
      events: {
        ivrState: (callId, state) => {
          h.ivrStates.push({ callId, state });
          h.events.emit('ivr', callId, state);
        },
        wrongPin: (e) => {
          h.wrongPins.push({ ...e, at: Date.now() });
          h.events.emit('wrong-pin');
        },
        pinBudgetExhausted: (e) => {
          h.pinBudgetExhausted.push(e);
        },
        answered: (c) => {
          h.answered.push(c);
          h.events.emit('answered', c);
        },
        gatewayAttempt: (a) => h.gatewayEvents.push({ kind: 'attempt', ...a }),
        gatewayCallEnded: (e) => h.gatewayEvents.push({ kind: 'ended', ...e }),
        settled: (c) => {
          h.settled.push(c);
          h.events.emit('settled', c);
        },
        recording: (e) => {
          h.recordings.push(e);
          h.events.emit('recording', e);
        },
      },
    };
    h.app = createSipApp(composeSipApp(h.appDeps));
    await h.app.connect();
    if (opts.sweeperIntervalMs !== undefined) {
      h.sweeper = new StaleCallSweeper(s.store, logger, { intervalMs: opts.sweeperIntervalMs });
      h.sweeper.start();
    }
    return h;
  }

  get edge(): TestEdge {
    return this.edgeRef;
  }

  /**
   * Stops the SIP server and starts a new one on its address and ports (it knows none of the old
   * dialogs); resolves once the app has reconnected to it.
   */
  async restartEdge(): Promise<void> {
    const old = this.edgeRef;
    const srf = this.app.srf as unknown as { once(event: 'connect', fn: () => void): void };
    const reconnected = new Promise<void>((resolve) => srf.once('connect', () => resolve()));
    const config = old.config;
    if (config === undefined) throw new Error('restarting the SIP server needs the embedded edge');
    await old.stop();
    const edge = new EdgeServer({ ...config, admin: { ...config.admin, port: old.adminPort } });
    await edge.start();
    this.edgeRef = { ...old, edge, stop: () => edge.stop() };
    await reconnected;
  }
  get sip(): ReturnType<typeof createSipApp> {
    return this.app;
  }
  /** Loopback address devices send from (the edge's own; not a carrier address). */
  get deviceIp(): string {
    return this.edgeRef.ip;
  }
  get remote(): string {
    return this.edgeRef.sipHostport;
  }

  /** An account on the retail tariff with SIP credentials, funded by a top-up of `credit` micro-units. */
  async device(credit: number, over: Partial<NewAccount> = {}): Promise<Device> {
    const customerId = await this.accountsSvc.createCustomer({ name: 'SIP Test Customer' });
    const account = await this.accountsSvc.createAccount({ customerId, currency: 'GBP', tariffId: 'retail', maxConcurrentCalls: 10, country: 'GB', ...over });
    if (credit > 0) {
      const r = await this.s.store.topUp(account.id, `opening-${account.id}`, credit, 'test', `ref-${account.id}`);
      if (!r.ok) throw new Error(`top-up failed: ${r.reason}`);
    }
    const username = `dev${account.id}x${++this.seq}`;
    const password = `pw-${username}-0123456789`;
    await this.accountsSvc.setSipPassword(account.id, username, REALM, password);
    this.accountIds.push(account.id);
    return { account, username, password };
  }

  /** Resolves with the `n`th call settled after `from` settlements (from = settled.length before the call). */
  waitSettled(count: number, timeoutMs = 20_000): Promise<PrepaidCall[]> {
    return this.waitFor('settled', this.settled, count, timeoutMs);
  }

  waitAnswered(count: number, timeoutMs = 20_000): Promise<PrepaidCall[]> {
    return this.waitFor('answered', this.answered, count, timeoutMs);
  }

  /** Waits until `count` recordings were stored or failed in all. */
  waitRecordings(count: number, timeoutMs = 20_000): Promise<{ callId: string; outcome: 'stored' | 'failed'; cause?: string }[]> {
    return this.waitFor('recording', this.recordings, count, timeoutMs);
  }

  private waitFor<T>(event: string, list: T[], count: number, timeoutMs: number): Promise<T[]> {
    if (list.length >= count) return Promise.resolve(list.slice());
    return new Promise((res, rej) => {
      const t = setTimeout(() => {
        this.events.off(event, on);
        rej(new Error(`timed out waiting for ${count} ${event} calls (have ${list.length})`));
      }, timeoutMs);
      const on = () => {
        if (list.length < count) return;
        clearTimeout(t);
        this.events.off(event, on);
        res(list.slice());
      };
      this.events.on(event, on);
    });
  }

  /** Moves every settled event into Postgres. */
  async drain(): Promise<void> {
    await this.writer.drain();
  }

  /** Money invariant of one account after draining: top-ups − Σ cost = balance in Redis and Postgres; nothing reserved. */
  async money(accountId: number): Promise<MoneyReport> {
    await this.drain();
    return moneyReport(this.s.pool, this.s.store, accountId);
  }

  /** After each test: for every account made, nothing reserved, no call open, one CDR per call, and top-ups − Σ cost = balance in Redis and in Postgres. */
  async expectMoneyInvariant(): Promise<void> {
    for (const id of this.accountIds) {
      const m = await this.money(id);
      expect(m).toMatchObject({ reserved: 0, callsInProgress: 0, unrecovered: 0, duplicateCdrs: 0 });
      expect(m.topUps - m.costs).toBe(m.redisBalance);
      expect(m.postgresBalance).toBe(m.redisBalance);
    }
  }

  async cdrs(accountId: number): Promise<CdrRow[]> {
    await this.drain();
    const { rows } = await this.s.pool.query<CdrRow>(
      `select call_id as "callId", kind, disposition, sip_code as "sipCode", billed_seconds as "billedSeconds", duration_ms::int as "durationMs",
              cost::bigint as cost, destination, carrier, device, cli, sip_reason as "sipReason", host(source_ip) as "sourceIp", dialled_number as "dialledNumber", rate_prefix as "ratePrefix"
         from cdrs where account_id = $1 order by start_time`,
      [accountId],
    );
    return rows.map((r) => ({ ...r, cost: Number(r.cost) }));
  }

  /** A sipp device (default: on the devices' address, sending to the edge). */
  sipp(a: Omit<SippArgs, 'ip'> & { ip?: string }): SippProc {
    return startAppSipp({ ip: this.deviceIp, remote: this.remote, ...a });
  }

  run(a: Omit<SippArgs, 'ip'> & { ip?: string }): Promise<SippRun> {
    return this.sipp(a).done;
  }

  /** A sipp carrier UAS on gateway `i` (0 = first priority). */

  /**
   * Another carrier for the numbers starting with `prefix`, with one gateway on carrierIp (its
   * port appended to gatewayPorts: sipp answers it as `carrier(gatewayPorts.length - 1, …)`).
   */
  async addCarrier(id: string, name: string, prefix: string): Promise<number> {
    await this.s.pool.query('insert into carriers (id, name) values ($1, $2)', [id, name]);
    await this.s.pool.query('insert into carrier_prefixes (carrier_id, prefix) values ($1, $2)', [id, prefix]);
    const port = randomPort();
    this.gatewayPorts.push(port);
    await this.s.pool.query('insert into gateways (carrier_id, address, port, priority) values ($1, $2, $3, 10)', [id, this.carrierIp, port]);
    return port;
  }
  carrier(i: number, scenario: string, a: Partial<SippArgs> = {}): SippProc {
    return startAppSipp({ scenario, ip: this.carrierIp, port: this.gatewayPorts[i]!, timeoutSec: 20, ...a });
  }

  /** Resolves once `count` wrong PINs of `callId` have been counted. */
  waitWrongPins(callId: string, count: number, timeoutMs = 20_000): Promise<void> {
    const have = () => this.wrongPins.filter((w) => w.callId === callId).length >= count;
    if (have()) return Promise.resolve();
    return new Promise((res, rej) => {
      const t = setTimeout(() => {
        this.events.off('wrong-pin', on);
        rej(new Error(`timed out waiting for ${count} wrong PINs of ${callId}`));
      }, timeoutMs);
      const on = () => {
        if (!have()) return;
        clearTimeout(t);
        this.events.off('wrong-pin', on);
        res();
      };
      this.events.on('wrong-pin', on);
    });
  }

  /** Resolves when the IVR of `callId` enters `state` (or has already). */
  waitIvrState(callId: string, state: IvrState, timeoutMs = 20_000): Promise<void> {
    if (this.ivrStates.some((e) => e.callId === callId && e.state === state)) return Promise.resolve();
    return new Promise((res, rej) => {
      const t = setTimeout(() => {
        this.events.off('ivr', on);
        rej(new Error(`timed out waiting for IVR ${callId} to reach ${state}`));
      }, timeoutMs);
      const on = (id: string, st: IvrState) => {
        if (id !== callId || st !== state) return;
        clearTimeout(t);
        this.events.off('ivr', on);
        res();
      };
      this.events.on('ivr', on);
    });
  }

  /**
   * Another SIP app process on the same SIP server, Postgres and Redis (its own caches and
   * guards): its answered and settled calls count in `answered`/`settled` as well, and in the
   * returned list of its own answered calls.
   */
  async addApp(): Promise<{ answered: PrepaidCall[] }> {
    const answered: PrepaidCall[] = [];
    const app = createSipApp(
      composeSipApp({
        ...this.appDeps,
        // each process's callback intake blocks on its own connection
        ...(this.opts.callback ? { callbackRedis: this.s.newRedis() } : {}),
        events: {
          ...this.appDeps.events,
          answered: (c) => {
            answered.push(c);
            this.appDeps.events!.answered!(c);
          },
        },
      }),
    );
    await app.connect();
    this.extraApps.push(app);
    return { answered };
  }

  /**
   * A second SIP server with an app of its own (same Redis, Postgres and settings), as several
   * servers run behind a SIP load balancer. The server is the edge as its own process, so that
   * `kill()` takes it away the way a server dies (SIGKILL: no BYE, no goodbye on the app
   * connection); its app stays up and keeps trying to reconnect, as a real one would.
   */
  async addServer(): Promise<{
    edge: { ip: string; sipHostport: string };
    sip: ReturnType<typeof createSipApp>;
    answered: PrepaidCall[];
    settled: PrepaidCall[];
    kill(): Promise<void>;
  }> {
    const edge = await spawnEdgeProcess('second-server');
    const answered: PrepaidCall[] = [];
    const settled: PrepaidCall[] = [];
    const app = createSipApp(
      composeSipApp({
        ...this.appDeps,
        settings: { ...this.appDeps.settings, drachtio: { host: edge.ip, port: edge.adminPort, secret: edge.secret } },
        events: {
          ...this.appDeps.events,
          answered: (c) => {
            answered.push(c);
            this.appDeps.events!.answered!(c);
          },
          settled: (c, r) => {
            settled.push(c);
            this.appDeps.events!.settled!(c, r);
          },
        },
      }),
    );
    await app.connect();
    this.extraApps.push(app);
    const kill = async () => {
      if (edge.child.exitCode === null && edge.child.signalCode === null) edge.child.kill('SIGKILL');
      await edge.exited;
    };
    this.extraServers.push(kill);
    return { edge, sip: app, answered, settled, kill };
  }

  async stop(): Promise<void> {
    this.sweeper?.stop();
    await this.app.stopCallbacks();
    for (const app of this.extraApps) app.stop();
    for (const kill of this.extraServers) await kill();
    await this.app.media?.close();
    this.app.stop();
    await this.appLink?.down();
    await this.edgeRef.stop();
    await this.s.teardown();
  }
}

export interface CdrRow {
  callId: string;
  kind: string;
  disposition: string;
  sipCode: number | null;
  billedSeconds: number;
  durationMs: number;
  cost: number;
  destination: string | null;
  carrier: string | null;
  device: string | null;
  cli: string | null;
  sipReason: string | null;
  sourceIp: string | null;
  dialledNumber: string | null;
  ratePrefix: string | null;
}
