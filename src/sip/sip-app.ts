/**
 * The SIP application on drachtio-srf. It never speaks SIP on a socket: the SIP server
 * (drachtio-server in production, the embedded edge otherwise) does. The call flows read as
 * middleware lists per verb:
 *
 *   REGISTER: refuse oversized → refuse scanners → refuse banned sources → registrar (digest 401, bindings)
 *   INVITE:   refuse oversized → refuse scanners → refuse banned sources → from a carrier address?
 *               yes: access number (IVR in the media server) | personal number (fork to devices) | unknown number 404
 *               no:  to an access number 403 (they are reached through carriers only)
 *                    | digest 407 → call rate → outbound prepaid call (rate, reserve, route, supervise, settle)
 *   OPTIONS:  200 (keep-alive)
 *   failures: Redis or Postgres unreachable → 503 with Retry-After; a bug → 500
 */
import Srf from 'drachtio-srf';
import { e164FromUser } from '../accounts/e164.ts';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { BalanceStore } from '../billing/balance/balance-store.ts';
import type { AccountService } from '../accounts/account-service.ts';
import { CliRequests } from '../accounts/cli-requests.ts';
import type { CallCredit } from '../billing/credit/call-credit.ts';
import type { TariffRepository } from '../billing/tariff-repository.ts';
import { authenticateInvite } from './auth/authenticate-invite.ts';
import { createDigestAuthenticator } from './auth/create-digest-authenticator.ts';
import type { DigestAlgorithm } from './auth/digest-algorithm.ts';
import type { MediaServer, UasFactory } from '../media/media-port.ts';
import { CallControl } from './call/call-control.ts';
import { DidCall } from './call/did-call.ts';
import type { ForkSrf } from './call/did-call.ts';
import { OutboundCall } from './call/outbound-call.ts';
import type { B2bRequest, B2bResponse, B2bSrf } from './call/outbound-call.ts';
import type { PrepaidCall } from './call/prepaid-call.ts';
import { AuthFailureGuard, refuseBannedSources } from './guards/auth-failure-guard.ts';
import { CallRateGuard } from './guards/call-rate-guard.ts';
import { refuseScanners, ScannerGuard } from './guards/scanner-guard.ts';
import { DEFAULT_MAX_HEADER_BYTES, refuseOversized } from './guards/size-guard.ts';
import { BindingStore } from './registrar/binding-store.ts';
import { createRegisterHandler } from './registrar/register-handler.ts';
import { Blocklist } from './routing/blocklist.ts';
import { CarrierRepository } from './routing/carrier-repository.ts';
import type { RoutingMode } from './routing/route-plan.ts';
import { AccessNumberCall } from './ivr/access-number-call.ts';
import type { AccessNumberDeps } from './ivr/access-number-call.ts';
import { callerIdentity } from './ivr/caller-identity.ts';
import type { IvrState } from './ivr/ivr-state.ts';
import { DEFAULT_IVR_SETTINGS } from './ivr/ivr-settings.ts';
import type { IvrSettings } from './ivr/ivr-settings.ts';
import { PinBudget } from './ivr/pin-budget.ts';
import type { PinBudgetName } from './ivr/pin-budget.ts';
import { PinLockout } from './ivr/pin-lockout.ts';
import { answerFailure, answerMiddlewareFailures } from './dependency-failure.ts';
import { callIdOf } from './sip-types.ts';
import { parseSipCommand, sipCommandsChannel } from './sip-commands.ts';
import type { SipMiddleware, SipRequest, SipResponse } from './sip-types.ts';
import { RefreshingCache } from '../common/refreshing-cache.ts';
import { CallRateCounter } from '../observability/call-rate.ts';
import { NumberDirectory } from './routing/number-directory.ts';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { settleOpenCallAt } from '../billing/credit/open-call-settlement.ts';
import type { OutOfDialogSender } from './call/leg-ender.ts';
import { LiveCallRegistry } from './call/live-call-registry.ts';
import { OrphanReaper } from './call/orphan-reaper.ts';

export interface SipSettings {
  drachtio: { host: string; port: number; secret: string };
  realm: string;
  nonceKey: string;
  /** Digest challenge order (default SHA-256, MD5); see DigestAuthenticatorOptions.algorithms. */
  digestAlgorithms?: readonly DigestAlgorithm[];
  namespace: string;
  routingMode: RoutingMode;
  noAnswerTimeoutSeconds: number;
  maxCallSeconds: number;
  extendLeadSeconds: number;
  warnSeconds: number;
  registrar: { minExpires: number; maxExpires: number; maxContacts: number };
  /** Larger header sections are refused with 400 (default 8192 bytes). */
  maxHeaderBytes?: number;
  guards: { failureThreshold: number; banSeconds: number; action: 'reject' | 'drop'; accountCps: number };
  /** The access-number IVR (defaults: DEFAULT_IVR_SETTINGS). */
  ivr?: Partial<IvrSettings>;
  /**
   * Call-state durability: answered calls are kept in Redis with their legs' dialog state and a
   * keep-alive every `keepAliveSeconds`; a call whose keep-alive is `orphanAfterKeepAlives` times
   * that old has lost its process and is ended by this one (OrphanReaper). Needs `store`.
   */
  durability?: { keepAliveSeconds: number; orphanAfterKeepAlives: number };
}

export interface SipAppDeps {
  settings: SipSettings;
  log: Logger;
  pool: pg.Pool;
  redis: Redis;
  accounts: AccountService;
  tariffs: TariffRepository;
  credit: CallCredit;
  now?: () => number;
  /**
   * The media server for the access-number IVR, made from the app's drachtio-srf (the embedded
   * endpoint answers callers with its createUAS). Without one, access-number calls get 503.
   */
  media?: (srf: UasFactory) => MediaServer;
  /** The balance store: live available credit for the IVR's balance announcement, and the record of each access-number session. */
  balances?: Pick<BalanceStore, 'get' | 'recordIvrSession'>;
  /** Observers of call progress (metrics, tests); optional. */
  events?: CallEvents;
  /** The balance store: orphaned calls are settled from what it holds beside their reservation. */
  store?: BalanceStore;
}

export interface CallEvents {
  answered?(call: PrepaidCall): void;
  settled?(call: PrepaidCall, result: unknown): void;
  /** An outbound INVITE was handed to the SIP server `sinceInviteMs` after the caller's INVITE reached the app. */
  bLegSent?(call: PrepaidCall, sinceInviteMs: number): void;
  /** An access-number caller's IVR entered a state. */
  ivrState?(callId: string, state: IvrState): void;
  /** A new INVITE reached the app (calls per second). */
  invite?(): void;
  /** A SIP digest authentication failed (wrong password or unknown user). */
  authFailure?(): void;
  /** A wrong PIN was keyed at an access number. */
  wrongPin?(e: { callId: string; accessNumber: string; sourceIp: string }): void;
  /** A wrong-PIN budget (per access number or per carrier source) has just been spent: the alert. */
  pinBudgetExhausted?(e: { budget: PinBudgetName; accessNumber: string; sourceIp: string }): void;
  /** A caller was refused PIN login because a wrong-PIN budget is spent. */
  pinBudgetRefusal?(e: { budget: PinBudgetName; accessNumber: string; sourceIp: string }): void;
}

type FullRequest = SipRequest & B2bRequest & { readonly callingNumber?: string };
type FullResponse = SipResponse & B2bResponse;

/** The part of drachtio-srf's Srf this app uses (its bundled typings are incomplete). */
interface SrfApi {
  use(verb: string, mw: SipMiddleware): void;
  register(handler: SipMiddleware): void;
  options(handler: (req: SipRequest, res: SipResponse) => void): void;
  invite(handler: (req: FullRequest, res: FullResponse) => void): void;
  connect(opts: { host: string; port: number; secret: string }): void;
  disconnect(): void;
  on(event: string, fn: (...a: never[]) => void): void;
  once(event: string, fn: (...a: never[]) => void): void;
  removeListener(event: string, fn: (...a: never[]) => void): void;
}

/** User part of a SIP/tel URI (the dialled number), or undefined. */
export function userOf(uri: string): string | undefined {
  const m = /^(?:sips?:([^@;?]+)@|tel:([^;?]+))/i.exec(uri);
  const user = m?.[1] ?? m?.[2];
  if (user === undefined) return undefined;
  try { return decodeURIComponent(user); } catch { return undefined; }   // a malformed escape: no usable number
}


const ACCOUNT_CACHE_MS = 5_000;

function observers(e: CallEvents | undefined) {
  return {
    ...(e?.answered ? { onAnswered: (c: PrepaidCall) => e.answered!(c) } : {}),
    ...(e?.settled ? { onSettled: (c: PrepaidCall, r: unknown) => e.settled!(c, r) } : {}),
    ...(e?.bLegSent ? { onBLegSent: (c: PrepaidCall, ms: number) => e.bLegSent!(c, ms) } : {}),
  };
}

export function createSipApp(deps: SipAppDeps) {
  const { settings: s, log, pool, redis } = deps;
  const now = deps.now ?? Date.now;
  const srf = new Srf() as unknown as SrfApi;
  const carriers = new CarrierRepository(pool, deps.tariffs);
  const blocklist = new Blocklist(pool);
  const authenticator = createDigestAuthenticator({ redis, pool, namespace: s.namespace, realm: s.realm, key: s.nonceKey, now,
    ...(s.digestAlgorithms ? { algorithms: s.digestAlgorithms } : {}) });
  const bindings = new BindingStore(redis, { namespace: s.namespace, now });
  const callCounter = new CallRateCounter(redis, s.namespace);
  const failures = new AuthFailureGuard(redis, {
    namespace: s.namespace, windowMs: 60_000, sourceThreshold: s.guards.failureThreshold, usernameThreshold: 0, banMs: s.guards.banSeconds * 1000, now,
    ...(deps.events?.authFailure ? { onFailure: () => deps.events!.authFailure!() } : {}),
  });
  const scanners = new ScannerGuard();
  const callRate = new CallRateGuard(redis, { namespace: s.namespace, limit: s.guards.accountCps, now });
  const onRefused = (req: SipRequest, why: string) => log.info({ source: req.source_address, why }, 'request refused by a guard');
  const guards: SipMiddleware[] = [
    refuseOversized(s.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES, onRefused),
    refuseScanners(scanners, { action: s.guards.action, onRefused }),
    refuseBannedSources(failures, { action: s.guards.action, onRefused }),
  ];

  const { onBLegSent, ...settledAnswered } = observers(deps.events);
  // call-state durability: this process's answered calls in Redis, and the ending of other processes' orphans
  const self = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  let server: string | undefined;
  const durability = s.durability && deps.store ? s.durability : undefined;
  const registry = durability ? new LiveCallRegistry(redis, { namespace: s.namespace, maxCallSeconds: s.maxCallSeconds }) : undefined;
  const store = deps.store;
  const reaper = registry && durability && store ? new OrphanReaper({
    registry, srf: srf as unknown as OutOfDialogSender, server: () => server, self, log: log.child({ component: 'sip.call.reaper' }),
    settle: async (accountId, callId, endAt) => {
      const r = await settleOpenCallAt(store, accountId, callId, endAt, { disposition: 'orphaned', sipReason: 'ended for a process that died' });
      return r !== undefined && r.ok && !r.duplicate;
    },
    staleAfterMs: durability.keepAliveSeconds * durability.orphanAfterKeepAlives * 1000, intervalMs: durability.keepAliveSeconds * 1000,
  }) : undefined;
  // one rating / authorisation / routing / supervision / settling path for device and access-number calls
  const control = new CallControl({
    credit: deps.credit, log: log.child({ component: 'sip.call' }),
    ...(registry && durability ? { durable: { registry, owner: self, keepAliveMs: durability.keepAliveSeconds * 1000 } } : {}),
    tariff: (id) => deps.tariffs.load(id), carriers: () => carriers.carriers(), isBlocked: (d) => blocklist.isBlocked(d),
    ...settledAnswered,
    settings: {
      routingMode: s.routingMode, noAnswerTimeoutMs: s.noAnswerTimeoutSeconds * 1000, maxCallSeconds: s.maxCallSeconds,
      extendLeadSeconds: s.extendLeadSeconds, warnSeconds: s.warnSeconds,
    },
  });
  const outbound = new OutboundCall({
    srf: srf as unknown as B2bSrf & OutOfDialogSender, control, log: log.child({ component: 'sip.call.outbound' }), ...(onBLegSent ? { onBLegSent } : {}),
    server: () => server,
  });
  // Account facts (tariff, country, status) change rarely and the reservation script checks the
  // status atomically in Redis anyway, so the per-call Postgres read is cached for a few seconds.
  const accounts = new RefreshingCache((accountId: number) => deps.accounts.get(accountId), { ttlMs: ACCOUNT_CACHE_MS, now });
  const numbers = new NumberDirectory(pool, { cacheMs: ACCOUNT_CACHE_MS, now });
  // Who owns a caller ID (PIN-less login): read every time (a CLI just registered must work on the
  // next call), but the last answer still serves while Postgres is unreachable. PINs are not kept.
  const cliOwners = new RefreshingCache((cli: string) => deps.accounts.findAccountByCli(cli), { ttlMs: 0, now });
  const cliRequests = new CliRequests(pool, deps.accounts);
  const ivrAccounts: AccessNumberDeps['accounts'] = {
    findAccountByPin: (pin) => deps.accounts.findAccountByPin(pin),
    findAccountByCli: (cli) => cliOwners.get(cli),
    get: (id) => accounts.get(id),
    listClis: (id) => deps.accounts.listClis(id),
    requestCli: async (id, cli) => { await cliRequests.request(id, cli, 'ivr'); },
  };
  const media = deps.media?.(srf as unknown as UasFactory);
  const ivrSettings: IvrSettings = { ...DEFAULT_IVR_SETTINGS, ...s.ivr };
  const accessNumbers = media === undefined ? undefined : new AccessNumberCall({
    srf: srf as unknown as ForkSrf, media, control, accounts: ivrAccounts,
    balances: deps.balances ?? { get: () => Promise.resolve(undefined) },
    ...(deps.balances ? { sessions: deps.balances } : {}),
    lockout: new PinLockout(redis, { namespace: s.namespace, threshold: ivrSettings.lockThreshold, anonymousThreshold: ivrSettings.anonymousLockThreshold, windowMs: ivrSettings.lockWindowMs, lockMs: ivrSettings.lockMs }),
    budget: new PinBudget(redis, {
      namespace: s.namespace, perAccessNumber: ivrSettings.pinBudgetPerAccessNumber, perSource: ivrSettings.pinBudgetPerSource, windowMs: ivrSettings.pinBudgetWindowMs, now,
    }),
    settings: ivrSettings, log: log.child({ component: 'sip.ivr' }),
    server: () => server, sender: srf as unknown as OutOfDialogSender,
    ...(deps.events?.ivrState ? { onState: (id: string, st: IvrState) => deps.events!.ivrState!(id, st) } : {}),
    ...(deps.events?.wrongPin ? { onWrongPin: deps.events.wrongPin.bind(deps.events) } : {}),
    ...(deps.events?.pinBudgetExhausted ? { onPinBudgetExhausted: deps.events.pinBudgetExhausted.bind(deps.events) } : {}),
    ...(deps.events?.pinBudgetRefusal ? { onPinBudgetRefusal: deps.events.pinBudgetRefusal.bind(deps.events) } : {}),
  });
  const didCall = new DidCall({
    srf: srf as unknown as ForkSrf, credit: deps.credit, log: log.child({ component: 'sip.call.did' }), ringTimeoutMs: s.noAnswerTimeoutSeconds * 1000,
    ...observers(deps.events),
    bindingsFor: async (accountId, sipUsername) => {
      const users = await numbers.devicesOf(accountId, sipUsername);
      return (await Promise.all(users.map((r) => bindings.bindingsOf(`${r.username}@${r.realm}`)))).flat();
    },
  });

  for (const g of guards) { srf.use('register', g); srf.use('invite', g); }
  srf.register(createRegisterHandler({
    authenticator, bindings, failures, now, logger: log.child({ component: 'sip.registrar' }),
    minExpires: s.registrar.minExpires, maxExpires: s.registrar.maxExpires, maxContacts: s.registrar.maxContacts,
  }));

  srf.options((_req, res) => res.send(200));

  // graceful shutdown: once draining, new calls are refused (503 with Retry-After) so that the SIP
  // server or the caller tries elsewhere; calls in progress go on until they end or the deadline
  let draining = false;
  let inflight = 0;
  srf.invite((req, res) => {
    deps.events?.invite?.();
    if (draining) { res.send(503, 'Service Unavailable', { headers: { 'Retry-After': '5' } }); return; }
    inflight++;
    // Redis or Postgres unreachable: 503 with Retry-After; anything else: 500, logged at error
    handleInvite(req, res).finally(() => { inflight--; }).catch((err: unknown) => answerFailure(req, res, err, log));
  });
  // a guard that could not reach Redis passes its error on: the same answer instead of drachtio-srf's default 500
  const onGuardError = answerMiddlewareFailures(log) as unknown as SipMiddleware;
  srf.use('register', onGuardError);
  srf.use('invite', onGuardError);

  async function handleInvite(req: FullRequest, res: FullResponse): Promise<void> {
    const receivedAt = performance.now();
    const callId = callIdOf(req);
    if (!callId) { res.send(400, 'Bad Call-ID'); return; }
    const carrier = await carriers.carrierForAddress(req.source_address);
    const called = e164FromUser(userOf(req.uri) ?? '');
    const access = called === undefined ? undefined : await numbers.accessNumber(called);
    if (access && !carrier) { res.send(403, 'Access Number Only Via Carrier'); return; }
    if (access && carrier) {
      if (!accessNumbers) { res.send(503, 'No Media Server'); return; }
      callCounter.record();
      await accessNumbers.handle(req, res, {
        callId, accessNumber: access.number, language: access.language, sourceIp: req.source_address, carrierId: carrier,
        identity: callerIdentity((name) => req.get(name)),
      });
      return;
    }
    if (carrier) {
      const number = called;
      const owner = number === undefined ? undefined : await numbers.personalNumber(number);
      if (!number || !owner) { res.send(404, 'Number Not Found'); return; }
      callCounter.record();
      await didCall.handle(req, res, { number, ...owner }, { callId, cli: userOf(req.get('From') ?? '')?.replace(/^([^+])/, '+$1') ?? null, sourceIp: req.source_address, carrier });
      return;
    }
    const id = await authenticateInvite(req, res, authenticator, failures);
    if (!id) return;
    callCounter.record();
    const rate = await callRate.check(id.accountId);
    if (rate.kind !== 'allowed') { res.send(503, 'Call Rate Limit Exceeded', { headers: { 'Retry-After': '1' } }); return; }
    const dialled = userOf(req.uri);
    if (!dialled) { res.send(400, 'Bad Request-URI'); return; }
    const account = await accounts.get(id.accountId);
    await outbound.handle(req, res, account, {
      callId, kind: 'device', cli: e164FromUser(req.callingNumber ?? '') ?? null, sourceIp: req.source_address, accessNumber: null, device: id.username, dialledNumber: dialled,
    }, dialled, receivedAt);
  }

  return {
    srf,
    bindings,
    carriers,
    blocklist,
    /** The IVR's media server (when one was given). */
    media,
    /** Connects to the SIP server; drachtio-srf reconnects by itself when the connection drops. */
    connect(): Promise<void> {
      return new Promise((resolve, reject) => {
        const onError = (err: Error) => { srf.removeListener('connect', onConnect); reject(err); };
        const onConnect = () => { srf.removeListener('error', onError); log.info({ server: `${s.drachtio.host}:${s.drachtio.port}` }, 'connected to the SIP server'); resolve(); };
        srf.once('connect', onConnect);
        srf.once('error', onError);
        // every later 'connect' is drachtio-srf's reconnect: the server may have restarted and lost our dialogs
        let connectedBefore = false;
        srf.on('connect', (_err: unknown, hostport: unknown) => {
          if (typeof hostport === 'string' && hostport !== '') server = hostport;
          if (connectedBefore) {
            log.info('reconnected to the SIP server; checking the calls in progress');
            void control.checkAfterReconnect(log).catch((err: Error) => log.warn({ err: err.message }, 'checking calls after a reconnect failed'));
          }
          connectedBefore = true;
        });
        srf.connect({ host: s.drachtio.host, port: s.drachtio.port, secret: s.drachtio.secret });
        reaper?.start();
        srf.on('error', (err: Error) => log.warn({ err: err.message }, 'SIP server connection error'));
      });
    },
    /** Hang-up commands from the API (Redis pub/sub); every instance listens, the one holding the call acts. */
    async listenForCommands(subscriber: Redis): Promise<void> {
      const channel = sipCommandsChannel(s.namespace);
      subscriber.on('message', (ch: string, message: string) => {
        if (ch !== channel) return;
        const cmd = parseSipCommand(message);
        if (!cmd) { log.warn({ channel }, 'unknown SIP command ignored'); return; }
        const done = outbound.hangup(cmd.callId, cmd.accountId);
        if (done) log.info({ callId: cmd.callId, accountId: cmd.accountId, requestedBy: cmd.requestedBy }, 'call hung up on request');
      });
      await subscriber.subscribe(channel);
    },
    /**
     * Stops taking calls and lets those in progress finish; at the deadline the rest are hung up
     * (BYE to both legs) and settled. Resolves with how many had to be cut.
     */
    async drain(deadlineMs: number): Promise<{ cut: number }> {
      draining = true;
      const busy = () => control.liveCount > 0 || inflight > 0;
      const until = Date.now() + deadlineMs;
      while (busy() && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
      const cut = control.hangupAll();
      const settleUntil = Date.now() + 5000;
      while (busy() && Date.now() < settleUntil) await new Promise((r) => setTimeout(r, 50));
      if (cut > 0) log.warn({ cut }, 'calls still up at the shutdown deadline were hung up and settled');
      return { cut };
    },
    get callsInProgress(): number { return control.liveCount + inflight; },
    /** The ending of other processes' orphaned calls (when durability is on), for tests and operations. */
    reaper,
    stop(): void {
      reaper?.stop();
      control.stop();
      // drachtio-srf throws when the connection is down (reconnecting): there is nothing to close then
      try { srf.disconnect(); } catch { /* not connected */ }
      void media?.close();
    },
  };
}
