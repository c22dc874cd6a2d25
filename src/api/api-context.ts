import { DurableBalances } from '../accounts/durable-balances.ts';
import type { FastifyRequest } from 'fastify';
import type { RedisClient } from '../common/redis-connection.ts';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { AccountPorts } from '../accounts/account-ports.ts';
import { ApiKeyStore } from '../accounts/api-keys.ts';
import type { Scope } from '../accounts/api-keys.ts';
import { AutoTopUp } from '../accounts/auto-topup.ts';
import type { AutoTopUpLimits } from '../accounts/auto-topup.ts';
import { CallRecords } from '../accounts/call-records.ts';
import { CliRequests } from '../accounts/cli-requests.ts';
import { Consents } from '../accounts/consents.ts';
import { RecordingConsents } from '../accounts/recording-consent.ts';
import { limitsOf } from '../accounts/account-service.ts';
import { DirectoryRecordingStore } from '../recordings/recording-store.ts';
import type { RecordingStore } from '../recordings/recording-store.ts';
import { RecordingFailures, Recordings } from '../recordings/recordings.ts';
import { CustomerDirectory } from '../accounts/customer-directory.ts';
import { EmailVerification } from '../accounts/email-verification.ts';
import type { VerificationMailer } from '../accounts/email-verification.ts';
import { IvrSessionRecords } from '../accounts/ivr-session-records.ts';
import { LowBalances } from '../accounts/low-balances.ts';
import { AccountNotices } from '../accounts/account-notices.ts';
import { LowBalanceAlerts } from '../accounts/low-balance-alerts.ts';
import { Mailer } from '../mail/mailer.ts';
import { Vouchers } from '../accounts/vouchers.ts';
import { SpeedDials } from '../accounts/speed-dials.ts';
import { normaliseDialled, readDialled } from '../sip/call/dialled-number.ts';
import { Blocklist } from '../sip/routing/blocklist.ts';
import { CallbackRequests, callbackKeyOf } from '../accounts/callbacks.ts';
import { CallbackQueue } from '../accounts/callback-queue.ts';
import { MailingLists } from '../accounts/mailing-lists.ts';
import { PasswordLinks } from '../accounts/password-links.ts';
import { createHmac } from 'node:crypto';
import { VoucherThrottle } from '../accounts/voucher-throttle.ts';
import { MailOutbox } from '../mail/outbox.ts';
import type { RetryPolicy } from '../mail/outbox.ts';
import { DEFAULT_RETRY } from '../mail/mail-settings.ts';
import type { CheckoutProvider, PaymentProvider } from '../accounts/payments/payment-provider.ts';
import { Orders } from '../accounts/orders.ts';
import type { OrderSettings } from '../accounts/orders.ts';
import { OrderThrottle } from './order-throttle.ts';
import type { BalanceStore } from '../billing/balance/balance-store.ts';
import type { TariffRepository } from '../billing/tariff-repository.ts';
import { LedgerBacklog } from '../ledger/ledger-backlog.ts';
import { CallRateCounter } from '../observability/call-rate.ts';
import { AuditLog } from '../privacy/audit-log.ts';
import { exportPersonalData } from '../privacy/data-export.ts';
import type { PersonalDataExport } from '../privacy/data-export.ts';
import { ChangeNotices, notifier } from '../common/change-notices.ts';
import { RoutingData } from '../provisioning/routing-data.ts';
import { GatewayHealthView } from '../provisioning/gateway-health-view.ts';
import { Restriction } from '../privacy/restriction.ts';
import type { RetentionPolicy } from '../privacy/retention.ts';
import { BindingStore } from '../sip/registrar/binding-store.ts';
import { LiveCalls } from '../calls/live-calls.ts';
import { CustomerSessions } from './customer-sessions.ts';
import { OperatorSessions } from './operator-sessions.ts';
import { RateLimiter } from './rate-limiter.ts';
import { lastRetentionRun } from '../privacy/retention-scheduler.ts';
import type { RetentionRunStatus } from '../privacy/retention-scheduler.ts';

/** How long an operator console session lasts. */
export const OPERATOR_SESSION_SECONDS = 8 * 3600;

/** Who may call a route: anyone, a customer session, or an API key with this scope. */
export type Access = 'public' | 'customer' | Scope;

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    principal?: Principal;
  }
}

/** What the composition root hands the API. */
export interface ApiDeps {
  log: Logger;
  pool: pg.Pool;
  redis: RedisClient;
  balances: BalanceStore;
  accounts: AccountPorts;
  tariffs: TariffRepository;
  payments: PaymentProvider;
  /** The checkout of online orders (PAYMENT_PROVIDER=stripe or test); none: orders are refused. */
  checkout?: CheckoutProvider | undefined;
  settings: ApiSettings;
  /** Sends e-mail verification codes; until the mail path exists, operators send them (docs/privacy.md). */
  mailer?: VerificationMailer;
}

export interface ApiSettings {
  namespace: string;
  realm: string;
  rateLimit: number;
  apiKeyCacheMs: number;
  durableBalanceCacheMs: number;
  trustProxy: boolean;
  session: { ttlSeconds: number; maxFailures: number; maxFailuresPerSource: number; windowSeconds: number };
  retention: RetentionPolicy;
  /** How often the retention jobs run by themselves (0: only by hand). */
  retentionIntervalHours?: number;
  autoTopUp: AutoTopUpLimits;
  /** Call recordings: the store's directory (RECORDINGS_DIR; default .data/recordings). */
  recordings?: { dir: string };
  balanceStreamIntervalMs?: number; // how often the balance event stream looks for a change (default 1000)
  /** E-mail: where the links in mails point, and the outbox's retry policy (defaults: local pages, DEFAULT_RETRY). */
  mail?: { linkBaseUrl: string; retry: RetryPolicy; sending?: boolean };
  // sending: an SMTP server is configured, so e-mail verification codes go out by mail (else operators send them)
  /** Vouchers: the key of the code hashes (derived from PIN_PEPPER) and the redemption throttle. */
  vouchers: { key: string; maxPerAccount: number; maxPerSource: number; windowSeconds: number };
  /** Online orders: currency, amount range, expiry, and the per-address throttle (defaults: DEFAULT_ORDERS). */
  orders?: OrderSettings & { maxPerSource: number; windowSeconds: number };
  /**
   * Callback requests: accepted at all (default no), and how many per account and per number an
   * hour (defaults 10 and 3); the callback access numbers (CALLBACK_ACCESS_NUMBERS) self-care shows.
   */
  callbacks?: { enabled: boolean; maxPerHour: number; maxPerNumberPerHour: number; accessNumbers?: readonly string[] };
}

export const DEFAULT_ORDERS = { currency: 'GBP', minAmount: 5_000_000, maxAmount: 100_000_000, expiryMinutes: 60, maxPerSource: 10, windowSeconds: 3600 };

export type Principal =
  | { kind: 'operator'; keyId: string; scopes: Scope[]; actor: string }
  | { kind: 'customer'; accountId: number; customerId: number; token: string; actor: string; authAt: number };

/** The services the routes use, built once per API instance. */
export interface ApiContext extends ApiDeps {
  /** The last scheduled retention run (src/privacy/retention-scheduler.ts). */
  lastRetentionRun: () => Promise<RetentionRunStatus | undefined>;
  keys: ApiKeyStore;
  directory: CustomerDirectory;
  records: CallRecords;
  cliRequests: CliRequests;
  consents: Consents;
  recordingConsents: RecordingConsents; // call recording at the account holder's wish
  recordings: Recordings; // call recordings' records (Postgres)
  recordingStore: RecordingStore; // the recordings' files (RECORDINGS_DIR)
  recordingFailures: RecordingFailures; // recordings the SIP app processes could not store (console)
  emailVerification: EmailVerification;
  autoTopUp: AutoTopUp;
  restriction: Restriction;
  sessions: CustomerSessions;
  operatorSessions: OperatorSessions; // operator console sessions
  audit: AuditLog;
  limiter: RateLimiter;
  ledgerBacklog: LedgerBacklog; // unwritten ledger events and their age (dashboard, metrics)
  callRate: CallRateCounter; // new calls per second, counted by the SIP processes
  lowBalances: LowBalances;
  outbox: MailOutbox; // the durable mail outbox (figures for the console and metrics)
  mailer: Mailer; // every mail the service sends: template + enqueue
  notices: AccountNotices; // an account's events as mails to its customer
  lowBalanceAlerts: LowBalanceAlerts; // per-account low-balance thresholds and their warnings
  vouchers: Vouchers; // voucher batches and redemption
  callbacks: CallbackRequests; // callback requests: screened, limited, queued for one SIP app process
  speedDials: SpeedDials; // an account's speed dials (numbers read with its dialling plan)
  passwordLinks: PasswordLinks; // one-time links to choose the self-care password (welcome mail)
  mailingLists: MailingLists; // messages to a list's consenting recipients; one-click unsubscribe
  voucherThrottle: VoucherThrottle; // redemption attempts per account and per address
  orders: Orders; // online orders: e-mail code, checkout, the provider's confirmation
  orderThrottle: OrderThrottle; // orders and code attempts per address
  ivrSessions: IvrSessionRecords;
  personalData: { export(customerId: number): Promise<PersonalDataExport> };
  dependencies: Record<'postgres' | 'redis', () => Promise<unknown>>; // readiness checks
  liveCalls: LiveCalls; // calls in progress; hang-up commands to the SIP applications
  routing: RoutingData; // carriers, gateways, access numbers, DIDs
  gatewayHealth: GatewayHealthView; // gateway probes as the SIP app processes recorded them
  durableBalances: DurableBalances; // the ledger's balance beside the live one, cached briefly
  registrations: Pick<BindingStore, 'bindingsOf' | 'forget'>; // SIP registrations: read, and dropped at erasure
  keyCache: Map<string, { id: string; scopes: Scope[]; until: number }>;
}

export function buildContext(d: ApiDeps): ApiContext {
  const registrations = new BindingStore(d.redis, { namespace: d.settings.namespace, now: () => Date.now() });
  const outbox = new MailOutbox(d.pool, d.settings.mail?.retry ?? DEFAULT_RETRY);
  const mailer = new Mailer(outbox, { linkBaseUrl: d.settings.mail?.linkBaseUrl ?? 'http://127.0.0.1:8081' });
  const notices = new AccountNotices(d.pool, mailer, d.log.child({ component: 'mail' }));
  const consents = new Consents(d.pool);
  const recordingConsents = new RecordingConsents(d.pool, async (id) => d.balances.syncAccount(limitsOf(await d.accounts.get(id))));
  const passwordLinks = new PasswordLinks(d.pool, d.accounts);
  const routing = new RoutingData(
    d.pool,
    d.accounts,
    notifier(new ChangeNotices(d.redis, d.settings.namespace), (err, topic) =>
      d.log.warn({ err: err.message, topic }, 'change notice not published: SIP processes see the change when their cache expires'),
    ),
  );
  const audit = new AuditLog(d.pool);
  const orderSettings = d.settings.orders ?? DEFAULT_ORDERS;
  const orders = new Orders({
    pool: d.pool,
    accounts: d.accounts,
    balances: d.balances,
    checkout: d.checkout,
    settings: orderSettings,
    sendCode: (m) => mailer.sendVerification(m),
    link: (path) => mailer.link(path),
    welcome: async (accountId) => {
      const accessNumbers = (await routing.accessNumbers()).map((n) => n.number);
      await notices.welcome(accountId, accessNumbers, (sentTo) => passwordLinks.issue(accountId, sentTo));
    },
    audit: (e) => audit.write(e),
    log: d.log.child({ component: 'orders' }),
  });
  const blocklist = new Blocklist(d.pool, 0); // read afresh: a callback request is rare, and a prefix blocked a moment ago must hold
  return {
    ...d,
    outbox,
    mailer,
    notices,
    lowBalanceAlerts: new LowBalanceAlerts(d.pool, d.balances, notices),
    vouchers: new Vouchers(d.pool, d.balances, d.settings.vouchers.key),
    passwordLinks,
    orders,
    orderThrottle: new OrderThrottle(d.redis, { namespace: d.settings.namespace, ...orderSettings }),
    speedDials: new SpeedDials(d.pool, normaliseDialled),
    callbacks: new CallbackRequests(
      d.pool,
      d.redis,
      new CallbackQueue(d.redis, d.settings.namespace),
      { read: readDialled, isBlocked: (n) => blocklist.isBlocked(n) },
      {
        enabled: d.settings.callbacks?.enabled ?? false,
        key: callbackKeyOf(d.settings.vouchers.key),
        namespace: d.settings.namespace,
        maxPerHour: d.settings.callbacks?.maxPerHour ?? 10,
        maxPerNumberPerHour: d.settings.callbacks?.maxPerNumberPerHour ?? 3,
      },
    ),
    mailingLists: new MailingLists(consents, mailer, createHmac('sha256', d.settings.vouchers.key).update('unsubscribe links').digest('hex')),
    voucherThrottle: new VoucherThrottle(d.redis, { namespace: d.settings.namespace, ...d.settings.vouchers }),
    lastRetentionRun: () => lastRetentionRun(d.redis, d.settings.namespace),
    keys: new ApiKeyStore(d.pool),
    directory: new CustomerDirectory(d.pool),
    records: new CallRecords(d.pool),
    cliRequests: new CliRequests(d.pool, d.accounts),
    consents,
    recordings: new Recordings(d.pool),
    recordingStore: new DirectoryRecordingStore(d.settings.recordings?.dir ?? '.data/recordings'),
    recordingFailures: new RecordingFailures(d.redis, d.settings.namespace),
    recordingConsents,
    emailVerification: new EmailVerification(d.pool, d.settings.mail?.sending ? mailer : d.mailer),
    autoTopUp: new AutoTopUp(d.pool, d.balances, d.payments, d.settings.autoTopUp, d.log.child({ component: 'auto-topup' }), notices),
    restriction: new Restriction(d.pool, d.accounts, (customerId, actor) => recordingConsents.offForCustomer(customerId, actor)),
    operatorSessions: new OperatorSessions(d.redis, d.settings.namespace, OPERATOR_SESSION_SECONDS),
    sessions: new CustomerSessions(d.redis, { namespace: d.settings.namespace, ...d.settings.session }),
    audit,
    limiter: new RateLimiter(d.settings.rateLimit),
    ledgerBacklog: new LedgerBacklog(d.redis, d.balances.keys),
    callRate: new CallRateCounter(d.redis, d.settings.namespace),
    lowBalances: new LowBalances(d.pool),
    ivrSessions: new IvrSessionRecords(d.pool),
    personalData: { export: (customerId) => exportPersonalData(d.pool, customerId, new Date(), registrations) },
    dependencies: { postgres: () => d.pool.query('select 1'), redis: () => d.redis.ping() },
    liveCalls: new LiveCalls(d.balances, d.redis, d.settings.namespace),
    routing,
    gatewayHealth: new GatewayHealthView(d.redis, d.settings.namespace),
    durableBalances: new DurableBalances(d.pool, d.settings.durableBalanceCacheMs),
    registrations,
    keyCache: new Map(),
  };
}

/** The operator or customer behind a request (set by the access hook). */
export function principalOf(req: FastifyRequest): Principal {
  if (!req.principal) throw new Error('route has no access rule');
  return req.principal;
}

export function customerOf(req: FastifyRequest): Extract<Principal, { kind: 'customer' }> {
  const p = principalOf(req);
  if (p.kind !== 'customer') throw new Error('customer route reached without a customer session');
  return p;
}
