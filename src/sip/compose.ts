/**
 * The SIP application's composition: builds its collaborators (repositories, guards, the digest
 * authenticator, the registrar, call control, the three call types, durability) from the
 * process's connections and settings. The entry point (src/main.ts) calls it and hands the result
 * to createSipApp (sip-app.ts), which only mounts the middleware lists.
 */
import Srf from 'drachtio-srf';
import { hostname } from 'node:os';
import { randomBytes, randomUUID } from 'node:crypto';
import type { RedisClient } from '../common/redis-connection.ts';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { AccountService } from '../accounts/account-service.ts';
import { CallbackConsumer, CallbackQueue } from '../accounts/callback-queue.ts';
import { CallbackRequests } from '../accounts/callbacks.ts';
import { CliRequests } from '../accounts/cli-requests.ts';
import { SpeedDials } from '../accounts/speed-dials.ts';
import { VoucherThrottle } from '../accounts/voucher-throttle.ts';
import { Vouchers } from '../accounts/vouchers.ts';
import type { BalanceStore } from '../billing/balance/balance-store.ts';
import type { CallCredit } from '../billing/credit/call-credit.ts';
import { settleOpenCallAt, settleUnreservedCallAt } from '../billing/credit/open-call-settlement.ts';
import type { TariffRepository } from '../billing/tariff-repository.ts';
import { realClock } from '../common/clock.ts';
import type { Clock } from '../common/clock.ts';
import { RefreshingCache } from '../common/refreshing-cache.ts';
import type { MediaServer, UasFactory } from '../media/media-port.ts';
import { CallRateCounter } from '../observability/call-rate.ts';
import { recordingKey } from '../recordings/recording-store.ts';
import { RecordingFailures, Recordings } from '../recordings/recordings.ts';
import { authenticateInvite } from './auth/authenticate-invite.ts';
import { createDigestAuthenticator } from './auth/create-digest-authenticator.ts';
import type { DigestAlgorithm } from './auth/digest-algorithm.ts';
import type { CallEvents } from './call-events.ts';
import { CallbackCall } from './call/callback-call.ts';
import type { CallbackSrf } from './call/callback-call.ts';
import { CallbackIntake } from './call/callback-intake.ts';
import { CallControl } from './call/call-control.ts';
import { normaliseDialled, readDialled } from './call/dialled-number.ts';
import { DidCall } from './call/did-call.ts';
import type { ForkSrf } from './call/did-call.ts';
import type { OutOfDialogSender } from './call/leg-ender.ts';
import { LiveCallRegistry } from './call/live-call-registry.ts';
import { OrphanReaper } from './call/orphan-reaper.ts';
import { OutboundCall } from './call/outbound-call.ts';
import type { B2bSrf } from './call/outbound-call.ts';
import type { PrepaidCall } from './call/prepaid-call.ts';
import { AuthFailureGuard } from './guards/auth-failure-guard.ts';
import { CallRateGuard } from './guards/call-rate-guard.ts';
import { ScannerGuard } from './guards/scanner-guard.ts';
import { AccessNumberCall } from './ivr/access-number-call.ts';
import type { AccessNumberDeps } from './ivr/access-number-call.ts';
import { CallRecorder } from './call/call-recording.ts';
import type { RecordingDeps } from './call/call-recording.ts';
import { DEFAULT_IVR_SETTINGS } from './ivr/ivr-settings.ts';
import type { IvrSettings } from './ivr/ivr-settings.ts';
import type { IvrState } from './ivr/ivr-state.ts';
import { PinBudget } from './ivr/pin-budget.ts';
import { PinLockout } from './ivr/pin-lockout.ts';
import { accessNumberCallType } from './invite/access-number-call-type.ts';
import { InviteAdmission } from './invite/admit-invite.ts';
import type { CallTypes } from './invite/call-type.ts';
import type { ClassifyPorts } from './invite/classify-invite.ts';
import { deviceCallType } from './invite/device-call-type.ts';
import { personalNumberCallType } from './invite/personal-number-call-type.ts';
import { callbackNumberCallType } from './invite/callback-number-call-type.ts';
import type { RatePorts } from './invite/rate-calls.ts';
import { BindingStore } from './registrar/binding-store.ts';
import { createRegisterHandler } from './registrar/register-handler.ts';
import { Blocklist } from './routing/blocklist.ts';
import { CarrierRepository } from './routing/carrier-repository.ts';
import { refusalRecorder } from './guards/refusal-record.ts';
import type { RoutingCaches } from './routing/routing-changes.ts';
import type { GatewayAttempt } from './call/call-control.ts';
import { GatewayHealth, optionsProbe } from './routing/gateway-health.ts';
import { NumberDirectory } from './routing/number-directory.ts';
import { onNetCallee } from './routing/on-net-callee.ts';
import { OnNetCall, onNetRate } from './call/on-net-call.ts';
import type { RoutingMode } from './routing/route-plan.ts';
import type { SipMiddleware, SipRequest, SipResponse } from './sip-types.ts';

export interface SipSettings {
  drachtio: { host: string; port: number; secret: string };
  realm: string;
  nonceKey: string;
  /** Digest challenge order (default SHA-256, MD5); see DigestAuthenticatorOptions.algorithms. */
  digestAlgorithms?: readonly DigestAlgorithm[];
  /** User-Agent substrings of clients also offered SHA-256 (SIP_DIGEST_SHA256_USER_AGENTS). */
  digestSha256UserAgents?: readonly string[];
  /** SIP proxies in front of the SIP server (addresses or CIDR networks): see guards/client-address.ts. */
  trustedProxies?: readonly string[];
  namespace: string;
  /** Voucher top-up at the access numbers (key 9): the code hash key and the attempt limits shared with self-care; none: not offered. */
  vouchers?: { key: string; maxPerAccount: number; maxPerSource: number; windowSeconds: number };
  /** What a device dials before a speed dial's position (SPEED_DIAL_PREFIX; default `*`: `*1` … `*99`). */
  speedDialPrefix?: string;
  routingMode: RoutingMode;
  noAnswerTimeoutSeconds: number;
  maxCallSeconds: number;
  extendLeadSeconds: number;
  warnSeconds: number;
  /** CREDIT_MIN_CALL_SECONDS: calls the credit cannot carry this long are refused (default 0: any). */
  minCallSeconds?: number;
  /** How a device is warned before a cut for lack of credit (DEVICE_CREDIT_WARNING; default an in-dialog MESSAGE). */
  deviceCreditWarning?: 'message' | 'off';
  /** The on-net rate (ON_NET_PRICE_PER_MINUTE micro-units, billed in ON_NET_INCREMENT_SECONDS); default free. */
  onNet?: { pricePerMinute: number; incrementSeconds: number };
  registrar: { minExpires: number; maxExpires: number; maxContacts: number };
  /** Larger header sections are refused with 400 (default 8192 bytes). */
  maxHeaderBytes?: number;
  guards: { failureThreshold: number; banSeconds: number; action: 'reject' | 'drop'; accountCps: number };
  /** The access-number IVR (defaults: DEFAULT_IVR_SETTINGS). */
  ivr?: Partial<IvrSettings>;
  /** Gateway health probes (routing/gateway-health.ts); none: every gateway is taken as up. */
  gatewayHealth?: { intervalSeconds: number; probeTimeoutSeconds: number; downAfter: number };
  /**
   * Call-state durability: answered calls are kept in Redis with their legs' dialog state and a
   * keep-alive every `keepAliveSeconds`; a call whose keep-alive is `orphanAfterKeepAlives` times
   * that old has lost its process and is ended by this one (OrphanReaper). Needs `store`.
   */
  /**
   * Callback placing (CALLBACK_ENABLED): this process reads the request stream as one consumer of
   * its group (on `SipAppDeps.callbackRedis`) and places each request it takes (CallbackCall).
   */
  callback?: {
    blockMs: number;
    claimIdleMs: number;
    maxAgeMs: number;
    /** Requests placed at once by this process (CALLBACK_CONCURRENCY; default 10). */
    concurrency?: number;
    /** A call to a callback access number from a registered caller ID queues a request, counted as the API's are (callbackKeyOf). */
    limits?: { key: string; maxPerHour: number; maxPerNumberPerHour: number };
  };
  /** CALLBACK_ACCESS_NUMBERS: carriers' calls to these (E.164 with '+') are callback-number calls. */
  callbackAccessNumbers?: readonly string[];
  /**
   * Call recording (docs/privacy.md › Call recording): access-number calls of accounts whose holder
   * consented are recorded by the media server into its recording store; `announce`: the party
   * called hears "this call may be recorded" first (RECORDING_ANNOUNCEMENT). None: never recorded.
   */
  recording?: { announce: boolean };
  durability?: {
    keepAliveSeconds: number;
    orphanAfterKeepAlives: number;
    /**
     * How long the connection to the SIP server may stay lost before this process gives its calls
     * up (CallControl.serverLost; default 10): the server's dialogs died with it, or can no longer
     * be reached from here.
     */
    serverLostSeconds?: number;
  };
}

export interface SipAppDeps {
  settings: SipSettings;
  log: Logger;
  pool: pg.Pool;
  redis: RedisClient;
  accounts: AccountService;
  tariffs: TariffRepository;
  credit: CallCredit;
  /** The time source of the guards, caches and call flows (default: the process clock). */
  clock?: Clock;
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
  /** The callback intake's own connection (its stream reads block); with `settings.callback`. */
  callbackRedis?: RedisClient;
}

/** The part of drachtio-srf's Srf this app uses (its bundled typings are incomplete). */
export interface SrfApi {
  use(verb: string, mw: SipMiddleware | SipErrorMiddleware | readonly (SipMiddleware | SipErrorMiddleware)[]): void;
  connect(opts: { host: string; port: number; secret: string }): void;
  disconnect(): void;
  on(event: string, fn: (...a: never[]) => void): void;
  once(event: string, fn: (...a: never[]) => void): void;
  removeListener(event: string, fn: (...a: never[]) => void): void;
}

/** A drachtio-srf error middleware (four arguments): where a step's next(err) lands. */
export type SipErrorMiddleware = (err: unknown, req: SipRequest, res: SipResponse, next: (err?: unknown) => void) => void;

/** Everything createSipApp mounts and runs, built by composeSipApp. */
export interface SipComponents {
  settings: SipSettings;
  log: Logger;
  srf: SrfApi;
  /** The SIP server this process is connected to (its hostport list, set on connect). */
  server: { current: string | undefined };
  bindings: BindingStore;
  carriers: CarrierRepository;
  blocklist: Blocklist;
  numbers: ClassifyPorts;
  /** Every cache an operator change can make stale (routing/routing-changes.ts). */
  routingCaches: RoutingCaches;
  /** Gateway probes, when configured; started with the SIP server connection. */
  gatewayHealth: GatewayHealth | undefined;
  scanners: ScannerGuard;
  failures: AuthFailureGuard;
  /** The REGISTER handler (digest 401, bindings). */
  registrar: SipMiddleware;
  admission: InviteAdmission;
  rate: RatePorts;
  callTypes: CallTypes;
  control: CallControl;
  outbound: OutboundCall;
  /** The IVR's media server (when one was given). */
  media: MediaServer | undefined;
  /** The ending of other processes' orphaned calls (when durability is on). */
  reaper: OrphanReaper | undefined;
  /** The callback request reader and placer (when callbacks are on); started with the SIP server connection. */
  callbacks: CallbackIntake | undefined;
  /** How long the SIP server connection may stay lost before this process gives its calls up (when durability is on). */
  serverLostMs: number | undefined;
}

const ACCOUNT_CACHE_MS = 5_000;

function observers(e: CallEvents | undefined) {
  return {
    ...(e?.answered ? { onAnswered: (c: PrepaidCall) => e.answered!(c) } : {}),
    ...(e?.settled ? { onSettled: (c: PrepaidCall, r: unknown) => e.settled!(c, r) } : {}),
    ...(e?.bLegSent ? { onBLegSent: (c: PrepaidCall, ms: number) => e.bLegSent!(c, ms) } : {}),
    ...(e?.gatewayAttempt ? { onGatewayAttempt: (a: GatewayAttempt) => e.gatewayAttempt!(a) } : {}),
    ...(e?.gatewayCallEnded ? { onGatewayCallEnded: (a: { gatewayId: number; carrierId: string; seconds: number }) => e.gatewayCallEnded!(a) } : {}),
  };
}

export function composeSipApp(deps: SipAppDeps): SipComponents {
  const { settings: s, log, pool, redis } = deps;
  const clock = deps.clock ?? realClock;
  const now = () => clock.now();
  const srf = new Srf() as unknown as SrfApi;
  const server: { current: string | undefined } = { current: undefined };
  const currentServer = () => server.current;
  const carriers = new CarrierRepository(pool, deps.tariffs);
  const blocklist = new Blocklist(pool);
  const authenticator = createDigestAuthenticator({
    redis,
    pool,
    namespace: s.namespace,
    realm: s.realm,
    key: s.nonceKey,
    now,
    ...(s.digestAlgorithms ? { algorithms: s.digestAlgorithms } : {}),
    ...(s.digestSha256UserAgents ? { sha256UserAgents: s.digestSha256UserAgents } : {}),
  });
  const bindings = new BindingStore(redis, { namespace: s.namespace, now });
  const callCounter = new CallRateCounter(redis, s.namespace);
  const failures = new AuthFailureGuard(redis, {
    namespace: s.namespace,
    windowMs: 60_000,
    sourceThreshold: s.guards.failureThreshold,
    usernameThreshold: 0,
    banMs: s.guards.banSeconds * 1000,
    now,
    ...(deps.events?.authFailure ? { onFailure: () => deps.events!.authFailure!() } : {}),
  });
  const callRate = new CallRateGuard(redis, { namespace: s.namespace, limit: s.guards.accountCps, now });

  const { onBLegSent, ...settledAnswered } = observers(deps.events);
  // call-state durability: this process's answered calls in Redis, and the ending of other processes' orphans
  const self = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  const durability = s.durability && deps.store ? s.durability : undefined;
  const registry = durability ? new LiveCallRegistry(redis, { namespace: s.namespace, maxCallSeconds: s.maxCallSeconds }) : undefined;
  const store = deps.store;
  const reaper =
    registry && durability && store
      ? new OrphanReaper({
          registry,
          srf: srf as unknown as OutOfDialogSender,
          server: currentServer,
          self,
          log: log.child({ component: 'sip.call.reaper' }),
          settle: async (call, endAt) => {
            const outcome = { disposition: 'orphaned', sipReason: 'ended for a process that died' };
            const r =
              call.cdr === undefined
                ? await settleOpenCallAt(store, call.accountId, call.callId, endAt, outcome)
                : await settleUnreservedCallAt(store, call.accountId, call.callId, call.cdr, endAt, outcome);
            return r !== undefined && r.ok && !r.duplicate;
          },
          staleAfterMs: durability.keepAliveSeconds * durability.orphanAfterKeepAlives * 1000,
          intervalMs: durability.keepAliveSeconds * 1000,
        })
      : undefined;
  const gatewayHealth = s.gatewayHealth
    ? new GatewayHealth(() => carriers.carriers(), optionsProbe(srf as unknown as Parameters<typeof optionsProbe>[0]), redis, {
        namespace: s.namespace,
        intervalMs: s.gatewayHealth.intervalSeconds * 1000,
        probeTimeoutMs: s.gatewayHealth.probeTimeoutSeconds * 1000,
        downAfter: s.gatewayHealth.downAfter,
        clock,
        log: log.child({ component: 'sip.routing.health' }),
      })
    : undefined;
  // one rating / authorisation / routing / supervision / settling path for device and access-number calls
  const control = new CallControl({
    credit: deps.credit,
    log: log.child({ component: 'sip.call' }),
    clock,
    ...(registry && durability ? { durable: { registry, owner: self, keepAliveMs: durability.keepAliveSeconds * 1000 } } : {}),
    tariff: (id) => deps.tariffs.load(id),
    carriers: async () => (gatewayHealth ? gatewayHealth.usable(await carriers.carriers()) : carriers.carriers()),
    isBlocked: (d) => blocklist.isBlocked(d),
    ...settledAnswered,
    settings: {
      routingMode: s.routingMode,
      noAnswerTimeoutMs: s.noAnswerTimeoutSeconds * 1000,
      maxCallSeconds: s.maxCallSeconds,
      extendLeadSeconds: s.extendLeadSeconds,
      warnSeconds: s.warnSeconds,
      ...(s.minCallSeconds ? { minCallSeconds: s.minCallSeconds } : {}),
    },
  });
  const media = deps.media?.(srf as unknown as UasFactory);
  const recording = s.recording && deps.store ? recordingDeps(s.recording, deps.store, pool, redis, s.namespace, log, deps.events) : undefined;
  const outbound = new OutboundCall({
    ...(recording && media?.open ? { recording: { media, recorder: new CallRecorder(recording) } } : {}),
    srf: srf as unknown as B2bSrf & OutOfDialogSender,
    warnByMessage: s.deviceCreditWarning !== 'off',
    control,
    log: log.child({ component: 'sip.call.outbound' }),
    ...(onBLegSent ? { onBLegSent } : {}),
    server: currentServer,
    clock,
  });
  // Account facts (tariff, country, status) change rarely and the reservation script checks the
  // status atomically in Redis anyway, so the per-call Postgres read is cached for a few seconds.
  const accounts = new RefreshingCache((accountId: number) => deps.accounts.get(accountId), { ttlMs: ACCOUNT_CACHE_MS, now });
  const numbers = new NumberDirectory(pool, { cacheMs: ACCOUNT_CACHE_MS, now });
  // Who owns a caller ID (PIN-less login): read every time (a CLI just registered must work on the
  // next call), but the last answer still serves while Postgres is unreachable. PINs are not kept.
  const cliOwners = new RefreshingCache((cli: string) => deps.accounts.findAccountByCli(cli), { ttlMs: 0, now });
  const cliRequests = new CliRequests(pool, deps.accounts);
  // A speed dial just set must work on the next call: read every time, the last answer serving while Postgres is away.
  const speedDialStore = new SpeedDials(pool, normaliseDialled);
  const speedDials = new RefreshingCache(
    async (key: string) => {
      const [accountId, position] = key.split('/').map(Number);
      return (await speedDialStore.get(accountId!, position!))?.number;
    },
    { ttlMs: 0, now },
  );
  const speedDialNumber = (accountId: number, position: number): Promise<string | undefined> => speedDials.get(`${accountId}/${position}`);
  const ivrAccounts: AccessNumberDeps['accounts'] = {
    findAccountByPin: (pin) => deps.accounts.findAccountByPin(pin),
    findAccountByCli: (cli) => cliOwners.get(cli),
    get: (id) => accounts.get(id),
    listClis: (id) => deps.accounts.listClis(id),
    requestCli: async (id, cli) => {
      await cliRequests.request(id, cli, 'ivr');
    },
  };
  const ivrVouchers = ((): AccessNumberDeps['vouchers'] => {
    if (!s.vouchers || !deps.store) return undefined;
    const vouchers = new Vouchers(pool, deps.store, s.vouchers.key);
    const throttle = new VoucherThrottle(redis, { namespace: s.namespace, ...s.vouchers });
    return {
      attempt: (accountId, source) => throttle.attempt(accountId, source),
      succeeded: (accountId, source) => throttle.succeeded(accountId, source),
      redeem: (account, code) => vouchers.redeem(account, code),
    };
  })();
  const ivrSettings: IvrSettings = { ...DEFAULT_IVR_SETTINGS, ...s.ivr };
  const accessNumbers =
    media === undefined
      ? undefined
      : new AccessNumberCall({
          srf: srf as unknown as ForkSrf,
          media,
          control,
          accounts: ivrAccounts,
          balances: deps.balances ?? { get: () => Promise.resolve(undefined) },
          ...(deps.balances ? { sessions: deps.balances } : {}),
          speedDial: speedDialNumber,
          ...(ivrVouchers ? { vouchers: ivrVouchers } : {}),
          lockout: new PinLockout(redis, {
            namespace: s.namespace,
            threshold: ivrSettings.lockThreshold,
            anonymousThreshold: ivrSettings.anonymousLockThreshold,
            windowMs: ivrSettings.lockWindowMs,
            lockMs: ivrSettings.lockMs,
          }),
          budget: new PinBudget(redis, {
            namespace: s.namespace,
            perAccessNumber: ivrSettings.pinBudgetPerAccessNumber,
            perSource: ivrSettings.pinBudgetPerSource,
            windowMs: ivrSettings.pinBudgetWindowMs,
            now,
          }),
          settings: ivrSettings,
          log: log.child({ component: 'sip.ivr' }),
          server: currentServer,
          sender: srf as unknown as OutOfDialogSender,
          ...(recording ? { recording } : {}),
          ...(deps.events?.ivrState ? { onState: (id: string, st: IvrState) => deps.events!.ivrState!(id, st) } : {}),
          ...(deps.events?.wrongPin ? { onWrongPin: deps.events.wrongPin.bind(deps.events) } : {}),
          ...(deps.events?.pinBudgetExhausted ? { onPinBudgetExhausted: deps.events.pinBudgetExhausted.bind(deps.events) } : {}),
          ...(deps.events?.pinBudgetRefusal ? { onPinBudgetRefusal: deps.events.pinBudgetRefusal.bind(deps.events) } : {}),
        });
  const didCall = new DidCall({
    srf: srf as unknown as ForkSrf,
    control,
    sender: srf as unknown as OutOfDialogSender,
    server: currentServer,
    ...(registry && durability ? { durable: { registry, owner: self, keepAliveMs: durability.keepAliveSeconds * 1000 } } : {}),
    credit: deps.credit,
    log: log.child({ component: 'sip.call.did' }),
    ringTimeoutMs: s.noAnswerTimeoutSeconds * 1000,
    clock,
    ...observers(deps.events),
    bindingsFor: async (accountId, sipUsername) => {
      const users = await numbers.devicesOf(accountId, sipUsername);
      return (await Promise.all(users.map((r) => bindings.bindingsOf(`${r.username}@${r.realm}`)))).flat();
    },
  });

  const onNet = new OnNetCall({
    control,
    did: didCall,
    rate: onNetRate(s.onNet?.pricePerMinute ?? 0, s.onNet?.incrementSeconds ?? 60),
    warnByMessage: s.deviceCreditWarning !== 'off',
    log: log.child({ component: 'sip.call.onnet' }),
    clock,
  });

  // requests are made here only by calls to a callback access number (with `limits`); the intake takes them and records their progress
  const limits = s.callback?.limits;
  const requests = new CallbackRequests(
    pool,
    redis,
    new CallbackQueue(redis, s.namespace),
    { read: readDialled, isBlocked: (d) => blocklist.isBlocked(d) },
    {
      enabled: limits !== undefined,
      namespace: s.namespace,
      key: limits?.key ?? '',
      maxPerHour: limits?.maxPerHour ?? 0,
      maxPerNumberPerHour: limits?.maxPerNumberPerHour ?? 0,
    },
  );
  const callbackNumbers = new Set(s.callbackAccessNumbers ?? []);
  const callbacks = ((): CallbackIntake | undefined => {
    if (!s.callback || !deps.callbackRedis) return undefined;
    const placer = new CallbackCall({
      srf: srf as unknown as CallbackSrf,
      control,
      account: (id) => accounts.get(id),
      requests,
      log: log.child({ component: 'sip.call.callback' }),
      server: currentServer,
      sender: srf as unknown as OutOfDialogSender,
      clock,
      // menu requests run the access-number menu on leg A (prompts in the media server's default language)
      ...(accessNumbers && media ? { menu: { media, run: (session, account, caller) => accessNumbers.menu(session, account, caller), language: 'en' } } : {}),
    });
    return new CallbackIntake({
      consumer: new CallbackConsumer(deps.callbackRedis, s.namespace, self, { claimIdleMs: s.callback.claimIdleMs }),
      requests,
      place: (r) => placer.place(r),
      log: log.child({ component: 'sip.call.callback' }),
      blockMs: s.callback.blockMs,
      maxAgeMs: s.callback.maxAgeMs,
      ...(s.callback.concurrency === undefined ? {} : { concurrency: s.callback.concurrency }),
      now,
    });
  })();

  return {
    settings: s,
    log,
    srf,
    server,
    bindings,
    carriers,
    blocklist,
    routingCaches: { carriers, blocklist, numbers, tariffs: deps.tariffs },
    gatewayHealth,
    numbers: {
      carrierForAddress: (address) => carriers.carrierForAddress(address),
      accessNumber: (e164) => numbers.accessNumber(e164),
      callbackNumber: (e164) => callbackNumbers.has(e164),
    },
    scanners: new ScannerGuard(),
    failures,
    registrar: createRegisterHandler({
      authenticator,
      bindings,
      failures,
      now,
      logger: log.child({ component: 'sip.registrar' }),
      minExpires: s.registrar.minExpires,
      maxExpires: s.registrar.maxExpires,
      maxContacts: s.registrar.maxContacts,
    }),
    admission: new InviteAdmission(deps.events?.invite ? { onInvite: () => deps.events!.invite!() } : {}),
    rate: {
      record: () => callCounter.record(),
      check: (accountId) => callRate.check(accountId),
      refused: refusalRecorder({
        currency: async (id) => (await accounts.get(id)).currency,
        control,
        clock,
        log: log.child({ component: 'sip.guards' }),
      }),
    },
    callTypes: {
      device: deviceCallType({
        authenticate: (req, res) => authenticateInvite(req, res, authenticator, failures, callRate),
        account: (id) => accounts.get(id),
        outbound,
        speedDials: { prefix: s.speedDialPrefix ?? '*', number: speedDialNumber },
        onNet: {
          callee: (dialled, account) => onNetCallee(numbers, dialled, account.country),
          personalNumberOf: (accountId) => numbers.personalNumberOf(accountId),
          call: onNet,
        },
      }),
      'access-number': accessNumberCallType({ ivr: accessNumbers }),
      'personal-number': personalNumberCallType({ personalNumber: (e164) => numbers.personalNumber(e164), did: didCall }),
      'callback-number': callbackNumberCallType({
        enabled: s.callback !== undefined && deps.callbackRedis !== undefined && limits !== undefined,
        accountOfCli: (cli) => cliOwners.get(cli),
        account: (id) => accounts.get(id),
        destination: (id) => requests.destination(id),
        request: (account, callMe, connectTo) => requests.request(account, callMe, connectTo, 'caller-id'),
        control,
        clock,
        log: log.child({ component: 'sip.call.callback' }),
      }),
    },
    control,
    outbound,
    media,
    reaper,
    callbacks,
    serverLostMs: registry && durability ? (durability.serverLostSeconds ?? 10) * 1000 : undefined,
  };
}

/** What the IVR records with: the consent flag in Redis, the records in Postgres, failures counted for the console and the metrics. */
function recordingDeps(
  settings: { announce: boolean },
  store: Pick<BalanceStore, 'recordingConsent'>,
  pool: pg.Pool,
  redis: RedisClient,
  namespace: string,
  log: Logger,
  events: CallEvents | undefined,
): RecordingDeps {
  const records = new Recordings(pool);
  const failures = new RecordingFailures(redis, namespace);
  return {
    consented: (accountId) => store.recordingConsent(accountId),
    announce: settings.announce,
    keyFor: (at) => recordingKey(at, randomUUID()),
    saved: async (r) => {
      await records.add(r);
      events?.recording?.({ callId: r.callId, outcome: 'stored' });
    },
    failed: (callId, cause) => {
      // reported once the console's count has it (or could not be given it)
      void failures
        .record(cause)
        .catch((err: unknown) => log.warn({ err: (err as Error).message }, 'recording failure not counted in Redis'))
        .finally(() => events?.recording?.({ callId, outcome: 'failed', cause }));
    },
  };
}
