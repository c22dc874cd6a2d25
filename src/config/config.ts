/**
 * Configuration: one defaults table, one schema, validated at start-up and frozen.
 * process.env is read here and nowhere else (the composition root passes the result down).
 * A bad or missing variable stops the process with a message naming it.
 */
import { isIP } from 'node:net';

type Kind = 'string' | 'int' | 'url' | 'secret' | 'enum' | 'bool';

interface Setting {
  env: string;
  kind: Kind;
  default?: string;
  min?: number;
  max?: number;
  values?: readonly string[];
  minLength?: number;
  doc: string;
}

const SCHEMA = {
  databaseUrl: { env: 'DATABASE_URL', kind: 'url', default: 'postgres://postgres@127.0.0.1:5432/softswitch', doc: 'PostgreSQL connection string' },
  databaseSchema: { env: 'DATABASE_SCHEMA', kind: 'string', default: 'public', doc: 'PostgreSQL schema holding the tables' },
  redisUrl: { env: 'REDIS_URL', kind: 'url', default: 'redis://127.0.0.1:6379', doc: 'Redis connection string' },
  redisNamespace: { env: 'REDIS_NAMESPACE', kind: 'string', default: 'ss', doc: 'prefix of every Redis key' },
  redisClusterNodes: {
    env: 'REDIS_CLUSTER_NODES',
    kind: 'string',
    default: '',
    doc: 'Redis Cluster seed nodes, host:port,host:port,... (any reachable nodes; the rest are discovered); set: every process uses the cluster client and REDIS_URL supplies only the user, password and TLS; empty: the single Redis of REDIS_URL',
  },
  cliOperator: {
    env: 'SOFTSWITCH_OPERATOR',
    kind: 'string',
    default: '',
    doc: "the operator's name the CLI records in the audit log (`cli:<name>`); unset: the login that ran it",
  },
  sudoUser: { env: 'SUDO_USER', kind: 'string', default: '', doc: 'set by sudo: the login that ran the CLI through it (its audit actor)' },
  redisShards: {
    env: 'REDIS_SHARDS',
    kind: 'int',
    default: '16',
    min: 1,
    max: 1024,
    doc: 'number of balance shards (hash tags); fixed for the life of a deployment',
  },
  httpHost: { env: 'HTTP_HOST', kind: 'string', default: '127.0.0.1', doc: 'address the HTTP server listens on' },
  httpPort: { env: 'HTTP_PORT', kind: 'int', default: '8080', min: 0, max: 65535, doc: 'HTTP port' },
  logPersonalData: {
    env: 'LOG_PERSONAL_DATA',
    kind: 'enum',
    default: 'mask',
    values: ['mask', 'full'],
    doc: 'personal values in log fields (numbers, addresses, user names, addresses inside call ids): masked, or in full for a debugging session',
  },
  logLevel: { env: 'LOG_LEVEL', kind: 'enum', default: 'info', values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], doc: 'pino log level' },
  pinPepper: { env: 'PIN_PEPPER', kind: 'secret', minLength: 32, doc: 'server-side key for PIN HMACs (at least 32 characters); never in the repo' },
  ledgerBatchSize: { env: 'LEDGER_BATCH_SIZE', kind: 'int', default: '1000', min: 1, max: 20000, doc: 'events per ledger-writer batch' },
  ledgerBlockMs: { env: 'LEDGER_BLOCK_MS', kind: 'int', default: '1000', min: 10, max: 60000, doc: 'how long the ledger writer blocks waiting for events' },
  ledgerClaimIdleMs: {
    env: 'LEDGER_CLAIM_IDLE_MS',
    kind: 'int',
    default: '30000',
    min: 100,
    max: 3600000,
    doc: 'pending events idle this long are reclaimed from a dead writer',
  },
  ledgerConsumer: { env: 'LEDGER_CONSUMER', kind: 'string', default: '', doc: 'consumer name of this ledger writer (default: host-pid)' },
  reservationSliceSeconds: { env: 'RESERVATION_SLICE_SECONDS', kind: 'int', default: '60', min: 6, max: 3600, doc: 'seconds of call time reserved per slice' },
  reservationGraceSeconds: {
    env: 'RESERVATION_GRACE_SECONDS',
    kind: 'int',
    default: '15',
    min: 1,
    max: 600,
    doc: 'slack on every call reservation deadline beyond the moment its process next touches it (the sweeper settles a call only after it)',
  },
  maxCallSeconds: { env: 'MAX_CALL_SECONDS', kind: 'int', default: '14400', min: 60, max: 172800, doc: 'hard maximum duration of any call (stale-call guard)' },
  demoSeed: { env: 'DEMO_SEED', kind: 'bool', default: 'false', doc: 'create the demo customer and account at start' },
  demoPin: { env: 'DEMO_PIN', kind: 'string', default: '', doc: 'PIN of the demo account when it is created (random if empty)' },
  demoPassword: { env: 'DEMO_PASSWORD', kind: 'string', default: '', doc: 'self-care password of the demo account when it is created (random if empty)' },
  demoSipPassword: { env: 'DEMO_SIP_PASSWORD', kind: 'string', default: '', doc: 'SIP password of the demo device when it is created (random if empty)' },
  defaultAccountCountry: {
    env: 'DEFAULT_ACCOUNT_COUNTRY',
    kind: 'string',
    default: 'GB',
    doc: "country (ISO 3166 alpha-2) of accounts created without one: how their subscribers' national numbers are read (README: the dialling plan)",
  },
  sipRealm: { env: 'SIP_REALM', kind: 'string', default: 'softswitch.local', doc: 'SIP digest realm' },
  sipDigestAlgorithms: {
    env: 'SIP_DIGEST_ALGORITHMS',
    kind: 'string',
    default: 'MD5',
    doc: 'digest algorithms offered to every client, in order (SHA-256, MD5); MD5 alone by default, as some clients give up on a challenge naming an algorithm they lack and sipp answers only the first',
  },
  sipDigestSha256UserAgents: {
    env: 'SIP_DIGEST_SHA256_USER_AGENTS',
    kind: 'string',
    default: '',
    doc: 'comma-separated User-Agent substrings (case-insensitive) of clients known to answer SHA-256 digest: they are challenged with SHA-256 first, then MD5',
  },
  sipTrustedProxies: {
    env: 'SIP_TRUSTED_PROXIES',
    kind: 'string',
    default: '',
    doc: 'comma-separated addresses or CIDR networks of the SIP proxies in front of the SIP servers (e.g. Kamailio): for requests from them, the address judged by the guards, matched against carriers and recorded in CDRs is the one the proxy received the request from (the Via below its own)',
  },
  sipMaxHeaderBytes: { env: 'SIP_MAX_HEADER_BYTES', kind: 'int', default: '8192', min: 1024, max: 65535, doc: 'requests with a larger header section get 400' },
  sipEnabled: { env: 'SIP_ENABLED', kind: 'bool', default: 'true', doc: 'run the SIP application (connects to the SIP server)' },
  drachtioHost: { env: 'DRACHTIO_HOST', kind: 'string', default: '127.0.0.1', doc: 'SIP server (drachtio-server or the embedded edge) control address' },
  drachtioPort: { env: 'DRACHTIO_PORT', kind: 'int', default: '9022', min: 1, max: 65535, doc: 'SIP server control port' },
  drachtioSecret: { env: 'DRACHTIO_SECRET', kind: 'secret', minLength: 8, doc: 'shared secret of the SIP server control connection' },
  sipNonceKey: { env: 'SIP_NONCE_KEY', kind: 'secret', minLength: 32, doc: 'key that signs digest nonces; the same on every app instance' },
  routingMode: {
    env: 'ROUTING_MODE',
    kind: 'enum',
    default: 'least_cost',
    values: ['least_cost', 'priority'],
    doc: 'carrier order: least cost (by buy rate) or gateway priority',
  },
  noAnswerTimeoutSeconds: {
    env: 'NO_ANSWER_TIMEOUT_SECONDS',
    kind: 'int',
    default: '60',
    min: 5,
    max: 300,
    doc: 'time a gateway may take to answer: one that rang (180/183) that long is a no-answer (480, CDR no_answer); one that did not even ring is a failure and the next is tried',
  },
  gatewayProbeIntervalSeconds: {
    env: 'GATEWAY_PROBE_INTERVAL_SECONDS',
    kind: 'int',
    default: '30',
    min: 0,
    max: 3600,
    doc: 'every gateway is sent an OPTIONS this often; one that answers none of GATEWAY_DOWN_AFTER_PROBES in a row is skipped until it answers again (0: no probes)',
  },
  gatewayProbeTimeoutSeconds: {
    env: 'GATEWAY_PROBE_TIMEOUT_SECONDS',
    kind: 'int',
    default: '5',
    min: 1,
    max: 60,
    doc: 'how long a gateway probe waits for an answer',
  },
  gatewayDownAfterProbes: {
    env: 'GATEWAY_DOWN_AFTER_PROBES',
    kind: 'int',
    default: '2',
    min: 1,
    max: 100,
    doc: 'unanswered probes in a row after which a gateway is down',
  },
  creditExtendLeadSeconds: {
    env: 'CREDIT_EXTEND_LEAD_SECONDS',
    kind: 'int',
    default: '15',
    min: 1,
    max: 600,
    doc: 'extend a call reservation this long before it runs out',
  },
  creditMinCallSeconds: {
    env: 'CREDIT_MIN_CALL_SECONDS',
    kind: 'int',
    default: '0',
    min: 0,
    max: 3600,
    doc: 'a call the credit cannot carry this long is refused (402 Insufficient Credit; the IVR says so) instead of connected; 0: any',
  },
  onNetPricePerMinute: {
    env: 'ON_NET_PRICE_PER_MINUTE',
    kind: 'int',
    default: '0',
    min: 0,
    max: 1_000_000_000,
    doc: "price per minute of on-net calls (a device calling another subscriber), in micro-units of the caller's currency; 0: free",
  },
  onNetIncrementSeconds: {
    env: 'ON_NET_INCREMENT_SECONDS',
    kind: 'int',
    default: '60',
    min: 1,
    max: 3600,
    doc: 'billing increment of on-net calls (initial and subsequent, seconds)',
  },
  creditWarnSeconds: {
    env: 'CREDIT_WARN_SECONDS',
    kind: 'int',
    default: '60',
    min: 0,
    max: 600,
    doc: 'warn a caller this long before credit runs out (0: no warning)',
  },
  registrarMinExpires: { env: 'REGISTRAR_MIN_EXPIRES', kind: 'int', default: '60', min: 1, max: 86400, doc: 'shortest registration accepted (423 below)' },
  registrarMaxExpires: { env: 'REGISTRAR_MAX_EXPIRES', kind: 'int', default: '3600', min: 60, max: 604800, doc: 'longest registration granted' },
  registrarMaxContacts: { env: 'REGISTRAR_MAX_CONTACTS', kind: 'int', default: '5', min: 1, max: 100, doc: 'registered contacts per SIP user' },
  authFailureThreshold: {
    env: 'AUTH_FAILURE_THRESHOLD',
    kind: 'int',
    default: '10',
    min: 1,
    max: 10000,
    doc: 'SIP authentication failures per source per minute before a ban',
  },
  authBanSeconds: { env: 'AUTH_BAN_SECONDS', kind: 'int', default: '900', min: 1, max: 604800, doc: 'how long a banned source is refused' },
  mediaServer: {
    env: 'MEDIA_SERVER',
    kind: 'enum',
    default: 'embedded',
    values: ['embedded', 'freeswitch'],
    doc: 'media for access-number calls: the embedded RTP endpoint or FreeSWITCH through drachtio-fsmrf',
  },
  freeswitchHost: { env: 'FREESWITCH_HOST', kind: 'string', default: '127.0.0.1', doc: 'FreeSWITCH event socket address (MEDIA_SERVER=freeswitch)' },
  freeswitchEslPort: { env: 'FREESWITCH_ESL_PORT', kind: 'int', default: '8021', min: 1, max: 65535, doc: 'FreeSWITCH event socket port' },
  freeswitchEslPassword: {
    env: 'FREESWITCH_ESL_PASSWORD',
    kind: 'string',
    default: '',
    doc: 'FreeSWITCH event socket password (required with MEDIA_SERVER=freeswitch)',
  },
  freeswitchListenAddress: {
    env: 'FREESWITCH_LISTEN_ADDRESS',
    kind: 'string',
    default: '0.0.0.0',
    doc: 'where the app accepts FreeSWITCH outbound event-socket connections (FreeSWITCH is told FREESWITCH_ADVERTISED_ADDRESS, never a wildcard)',
  },
  freeswitchListenPort: {
    env: 'FREESWITCH_LISTEN_PORT',
    kind: 'int',
    default: '8085',
    min: 0,
    max: 65535,
    doc: 'port for FreeSWITCH outbound event-socket connections',
  },
  freeswitchAdvertisedAddress: {
    env: 'FREESWITCH_ADVERTISED_ADDRESS',
    kind: 'string',
    default: '',
    doc: "address FreeSWITCH connects back to (default: the listen address, or when that is a wildcard this process's own address on the route to FreeSWITCH, so each replica advertises itself)",
  },
  freeswitchSoundsDir: {
    env: 'FREESWITCH_SOUNDS_DIR',
    kind: 'string',
    default: '/usr/share/freeswitch/sounds/softswitch',
    doc: 'the prompts folder as FreeSWITCH sees it (holds <language>/prepaid/*.wav; softswitch_sounds in freeswitch/conf/vars.xml); checked at start-up',
  },
  mediaRtpAddress: {
    env: 'MEDIA_RTP_ADDRESS',
    kind: 'string',
    default: '127.0.0.1',
    doc: 'address the embedded media server binds RTP to and advertises in SDP',
  },
  mediaRtpPortMin: {
    env: 'MEDIA_RTP_PORT_MIN',
    kind: 'int',
    default: '20000',
    min: 1024,
    max: 65534,
    doc: 'lowest RTP port of the embedded media server (even ports are used)',
  },
  mediaRtpPortMax: {
    env: 'MEDIA_RTP_PORT_MAX',
    kind: 'int',
    default: '29999',
    min: 1025,
    max: 65535,
    doc: 'highest RTP port of the embedded media server; a full range answers callers 503',
  },
  mediaRtpTimeoutSeconds: {
    env: 'MEDIA_RTP_TIMEOUT_SECONDS',
    kind: 'int',
    default: '30',
    min: 0,
    max: 3600,
    doc: 'no RTP from a side this long hangs an access-number call up and settles it (0: never)',
  },
  mediaSoundsDir: { env: 'MEDIA_SOUNDS_DIR', kind: 'string', default: 'freeswitch/sounds', doc: 'folder holding <language>/prepaid/*.wav prompts' },
  ivrAnnounceBalance: { env: 'IVR_ANNOUNCE_BALANCE', kind: 'bool', default: 'true', doc: 'access numbers: say the balance after login' },
  ivrAnotherCall: {
    env: 'IVR_ANOTHER_CALL',
    kind: 'bool',
    default: 'true',
    doc: 'access numbers: after the far end hangs up, offer another call without logging in again',
  },
  ivrCliRegistration: {
    env: 'IVR_CLI_REGISTRATION',
    kind: 'enum',
    default: 'calling_account',
    values: ['off', 'calling_account', 'all'],
    doc: 'which accounts may register the calling number for PIN-less login from the IVR after a PIN login',
  },
  ivrMaxClis: {
    env: 'IVR_MAX_CLIS',
    kind: 'int',
    default: '5',
    min: 1,
    max: 100,
    doc: 'the IVR offers to register a caller ID only while the account holds fewer than this',
  },
  ivrFirstDigitSeconds: {
    env: 'IVR_FIRST_DIGIT_SECONDS',
    kind: 'int',
    default: '8',
    min: 1,
    max: 60,
    doc: 'access numbers: wait for the first key of a PIN or number',
  },
  ivrInterDigitSeconds: { env: 'IVR_INTER_DIGIT_SECONDS', kind: 'int', default: '4', min: 1, max: 30, doc: 'access numbers: wait between keys' },
  ivrPinLockThreshold: {
    env: 'IVR_PIN_LOCK_THRESHOLD',
    kind: 'int',
    default: '5',
    min: 1,
    max: 1000,
    doc: 'wrong PINs per caller ID (and per account) within the window before the lock',
  },
  ivrPinLockAnonymousThreshold: {
    env: 'IVR_PIN_LOCK_ANONYMOUS_THRESHOLD',
    kind: 'int',
    default: '20',
    min: 1,
    max: 100000,
    doc: 'wrong PINs within the window from callers with no caller ID, per access number, before such callers are locked out',
  },
  ivrPinLockWindowSeconds: {
    env: 'IVR_PIN_LOCK_WINDOW_SECONDS',
    kind: 'int',
    default: '3600',
    min: 1,
    max: 604800,
    doc: 'window in which wrong PINs are counted',
  },
  ivrPinLockSeconds: {
    env: 'IVR_PIN_LOCK_SECONDS',
    kind: 'int',
    default: '1800',
    min: 1,
    max: 604800,
    doc: 'how long a caller ID (or account) stays locked after too many wrong PINs',
  },
  ivrPinBudgetPerAccessNumber: {
    env: 'IVR_PIN_BUDGET_PER_ACCESS_NUMBER',
    kind: 'int',
    default: '200',
    min: 1,
    max: 1000000,
    doc: 'wrong PINs per access number within the budget window (sliding); once spent, PIN login on that number is refused and an alert raised (docs/security.md: the arithmetic)',
  },
  ivrPinBudgetPerSource: {
    env: 'IVR_PIN_BUDGET_PER_SOURCE',
    kind: 'int',
    default: '200',
    min: 1,
    max: 1000000,
    doc: 'wrong PINs per carrier source address within the budget window (sliding); once spent, PIN login for calls from that address is refused and an alert raised',
  },
  ivrPinBudgetWindowSeconds: {
    env: 'IVR_PIN_BUDGET_WINDOW_SECONDS',
    kind: 'int',
    default: '86400',
    min: 60,
    max: 2592000,
    doc: 'sliding window of the wrong-PIN budgets',
  },
  ivrPinTarpitMs: { env: 'IVR_PIN_TARPIT_MS', kind: 'int', default: '2000', min: 0, max: 30000, doc: 'silence after a wrong PIN before the next prompt' },
  deviceCreditWarning: {
    env: 'DEVICE_CREDIT_WARNING',
    kind: 'enum',
    default: 'message',
    values: ['message', 'off'],
    doc: 'device calls: an in-dialog SIP MESSAGE with the time left CREDIT_WARN_SECONDS before the credit runs out, or none',
  },
  ivrMenuHints: {
    env: 'IVR_MENU_HINTS',
    kind: 'bool',
    default: 'true',
    doc: 'access numbers: after the destination prompt, say how to use a speed dial (* n #) and a voucher (9)',
  },
  ivrVoucherTopUp: {
    env: 'IVR_VOUCHER_TOPUP',
    kind: 'bool',
    default: 'true',
    doc: 'access numbers: 9 at the destination prompt tops the account up with a voucher code (counted with VOUCHER_MAX_ATTEMPTS)',
  },
  speedDialPrefix: {
    env: 'SPEED_DIAL_PREFIX',
    kind: 'string',
    default: '*',
    doc: 'what a device dials before a speed dial position (1-99): `*` makes *1 … *99; one to three of * and #, or * and # then digits',
  },
  ivrWarning: {
    env: 'IVR_WARNING',
    kind: 'enum',
    default: 'prompt',
    values: ['prompt', 'beep'],
    doc: 'access numbers: what is played into the call CREDIT_WARN_SECONDS before the credit runs out',
  },
  authBanAction: { env: 'AUTH_BAN_ACTION', kind: 'enum', default: 'reject', values: ['reject', 'drop'], doc: 'banned sources and scanners: 403 or silence' },
  shutdownDrainSeconds: {
    env: 'SHUTDOWN_DRAIN_SECONDS',
    kind: 'int',
    default: '30',
    min: 0,
    max: 86400,
    doc: 'on SIGTERM/SIGINT, how long calls in progress may go on before they are hung up and settled',
  },
  callKeepAliveSeconds: {
    env: 'CALL_KEEPALIVE_SECONDS',
    kind: 'int',
    default: '5',
    min: 1,
    max: 60,
    doc: 'how often a SIP app process marks its answered calls alive in Redis; a call not marked for three times this is ended (BYE on both legs) and settled by another process',
  },
  sipServerLostSeconds: {
    env: 'SIP_SERVER_LOST_SECONDS',
    kind: 'int',
    default: '10',
    min: 1,
    max: 3600,
    doc: 'how long a SIP app process waits for its lost SIP server to come back before it gives its calls up: it settles them up to the moment the connection was lost and leaves their legs to a process connected to a live SIP server, which sends both a BYE',
  },
  sweeperIntervalSeconds: {
    env: 'SWEEPER_INTERVAL_SECONDS',
    kind: 'int',
    default: '15',
    min: 1,
    max: 3600,
    doc: 'how often abandoned calls (their process died) are looked for and settled',
  },
  accountCpsLimit: { env: 'ACCOUNT_CPS_LIMIT', kind: 'int', default: '5', min: 1, max: 10000, doc: 'new calls per second per account' },
  apiHost: { env: 'API_HOST', kind: 'string', default: '127.0.0.1', doc: 'address the account API process listens on' },
  apiPort: { env: 'API_PORT', kind: 'int', default: '8081', min: 0, max: 65535, doc: 'port of the account API process (0: any free port)' },
  apiProcesses: {
    env: 'API_PROCESSES',
    kind: 'int',
    default: '1',
    min: 1,
    max: 64,
    doc: 'account API worker processes sharing API_PORT (node:cluster); each has its own key cache, rate limit and durable-balance cache',
  },
  apiTrustProxy: { env: 'API_TRUST_PROXY', kind: 'bool', default: 'false', doc: 'take the client address from X-Forwarded-For (only behind a trusted proxy)' },
  apiRateLimit: {
    env: 'API_RATE_LIMIT',
    kind: 'int',
    default: '100',
    min: 1,
    max: 1000000,
    doc: 'requests per second per API key (per API process; bursts up to twice this)',
  },
  apiKeyCacheMs: {
    env: 'API_KEY_CACHE_MS',
    kind: 'int',
    default: '5000',
    min: 0,
    max: 300000,
    doc: 'how long a verified API key is cached (a key revoked by the CLI stops working within this time)',
  },
  durableBalanceCacheMs: {
    env: 'DURABLE_BALANCE_CACHE_MS',
    kind: 'int',
    default: '5000',
    min: 0,
    max: 60000,
    doc: 'how long the API caches the Postgres balance shown beside the live one (it may lag the ledger by this long; the live figures never lag)',
  },
  sessionTtlSeconds: { env: 'SESSION_TTL_SECONDS', kind: 'int', default: '900', min: 60, max: 86400, doc: 'lifetime of a self-care session token' },
  loginMaxFailures: {
    env: 'LOGIN_MAX_FAILURES',
    kind: 'int',
    default: '5',
    min: 1,
    max: 1000,
    doc: 'self-care login attempts per username within the window (counted before the password is checked; a success resets it)',
  },
  loginMaxFailuresPerSource: {
    env: 'LOGIN_MAX_FAILURES_PER_SOURCE',
    kind: 'int',
    default: '20',
    min: 1,
    max: 100000,
    doc: 'failed self-care logins per client address within the window before logins are refused (counted before the password is checked)',
  },
  loginWindowSeconds: { env: 'LOGIN_WINDOW_SECONDS', kind: 'int', default: '900', min: 1, max: 86400, doc: 'window of the login throttle' },
  deployment: {
    env: 'DEPLOYMENT',
    kind: 'enum',
    default: 'development',
    values: ['development', 'production'],
    doc: '`production` refuses settings that are only safe on a developer machine (`PAYMENT_PROVIDER=test`); `NODE_ENV=production` (set by the Dockerfile) counts as production too',
  },
  pinLength: {
    env: 'PIN_LENGTH',
    kind: 'int',
    default: '12',
    min: 10,
    max: 12,
    doc: 'digits of a system-assigned PIN (10-12); docs/security.md has the arithmetic against the wrong-PIN budget',
  },
  paymentProvider: {
    env: 'PAYMENT_PROVIDER',
    kind: 'enum',
    default: 'none',
    values: ['none', 'test', 'stripe'],
    doc: 'payment provider for online orders and auto top-up (`none`: neither; `stripe`: Stripe Checkout for orders (auto top-up stays off); `test`: the local test provider, whose tokens and pay page credit money without charging anyone, refused in production)',
  },
  stripeSecretKey: {
    env: 'STRIPE_SECRET_KEY',
    kind: 'string',
    default: '',
    doc: 'Stripe secret API key (`sk_live_…`, or `sk_test_…` against Stripe’s test mode; a restricted `rk_` key with Checkout Sessions write works too); required with PAYMENT_PROVIDER=stripe; never logged',
  },
  stripeWebhookSecret: {
    env: 'STRIPE_WEBHOOK_SECRET',
    kind: 'string',
    default: '',
    doc: 'signing secret (`whsec_…`) of the Stripe webhook endpoint /v1/payments/stripe/webhook; required with PAYMENT_PROVIDER=stripe',
  },
  orderCurrency: { env: 'ORDER_CURRENCY', kind: 'string', default: 'GBP', doc: 'currency (ISO 4217) of accounts ordered online' },
  orderMinAmount: {
    env: 'ORDER_MIN_AMOUNT',
    kind: 'int',
    default: '5000000',
    min: 1,
    max: 1000000000000,
    doc: 'smallest amount of an online order, in micro-units (a whole number of the currency’s minor units)',
  },
  orderMaxAmount: {
    env: 'ORDER_MAX_AMOUNT',
    kind: 'int',
    default: '100000000',
    min: 1,
    max: 1000000000000,
    doc: 'largest amount of an online order, in micro-units',
  },
  orderExpiryMinutes: {
    env: 'ORDER_EXPIRY_MINUTES',
    kind: 'int',
    default: '60',
    min: 30,
    max: 1440,
    doc: 'an order not paid this long after it was placed expires (its checkout closes at the same moment; Stripe allows 30 minutes to 24 hours)',
  },
  orderMaxPerSource: {
    env: 'ORDER_MAX_PER_SOURCE',
    kind: 'int',
    default: '10',
    min: 1,
    max: 100000,
    doc: 'orders (and e-mail code attempts) per client address within ORDER_WINDOW_SECONDS',
  },
  orderWindowSeconds: { env: 'ORDER_WINDOW_SECONDS', kind: 'int', default: '3600', min: 1, max: 604800, doc: 'window of the order throttle' },
  autoTopUpMaxAmount: {
    env: 'AUTO_TOPUP_MAX_AMOUNT',
    kind: 'int',
    default: '100000000',
    min: 1,
    max: 1000000000000,
    doc: 'largest auto top-up charge a customer may set, in micro-units',
  },
  autoTopUpMaxThreshold: {
    env: 'AUTO_TOPUP_MAX_THRESHOLD',
    kind: 'int',
    default: '50000000',
    min: 0,
    max: 1000000000000,
    doc: 'largest auto top-up threshold a customer may set, in micro-units',
  },
  autoTopUpMaxPerDay: {
    env: 'AUTO_TOPUP_MAX_PER_DAY',
    kind: 'int',
    default: '200000000',
    min: 1,
    max: 1000000000000,
    doc: 'most an account is auto-charged in any 24 hours, in micro-units; further charges wait (the customer sees `daily limit reached`)',
  },
  autoTopUpIntervalMs: {
    env: 'AUTO_TOPUP_INTERVAL_MS',
    kind: 'int',
    default: '60000',
    min: 0,
    max: 86400000,
    doc: 'how often the API process checks auto top-up thresholds (0: never; the CLI can run it)',
  },
  retentionIntervalHours: {
    env: 'RETENTION_INTERVAL_HOURS',
    kind: 'int',
    default: '24',
    min: 0,
    max: 8760,
    doc: 'the retention jobs run by themselves this often (one account API process at a time, under a Redis lock); 0: only by hand',
  },
  cdrRetentionMonths: {
    env: 'CDR_RETENTION_MONTHS',
    kind: 'int',
    default: '12',
    min: 1,
    max: 240,
    doc: 'call records are kept this many months to the day (whole months go with their partition, the rest row by row)',
  },
  contactRetentionYears: {
    env: 'CONTACT_RETENTION_YEARS',
    kind: 'int',
    default: '6',
    min: 1,
    max: 50,
    doc: 'contact data of closed customers is erased this many years after closure',
  },
  paymentReferenceRetentionMonths: {
    env: 'PAYMENT_REFERENCE_RETENTION_MONTHS',
    kind: 'int',
    default: '24',
    min: 1,
    max: 240,
    doc: 'payment-provider references of top-ups are dropped after this many months',
  },
  ledgerRetentionYears: {
    env: 'LEDGER_RETENTION_YEARS',
    kind: 'int',
    default: '10',
    min: 1,
    max: 50,
    doc: "ledger entries older than this are folded into one opening entry per account (the balance still adds up); a call's entry stops naming its call once the call record is gone",
  },
  auditRetentionYears: {
    env: 'AUDIT_RETENTION_YEARS',
    kind: 'int',
    default: '6',
    min: 1,
    max: 50,
    doc: 'audit-log entries (who read or changed personal data) are deleted after this many years',
  },
  consentEventRetentionYears: {
    env: 'CONSENT_EVENT_RETENTION_YEARS',
    kind: 'int',
    default: '6',
    min: 1,
    max: 50,
    doc: "consent history older than this is deleted, except each list's latest change of a customer not erased (the evidence of the current state)",
  },
  mailRetentionMonths: {
    env: 'MAIL_RETENTION_MONTHS',
    kind: 'int',
    default: '24',
    min: 1,
    max: 120,
    doc: 'mails sent (or given up on) longer ago than this are deleted with their address and bodies; mails still waiting are kept',
  },

  voucherMaxAttempts: {
    env: 'VOUCHER_MAX_ATTEMPTS',
    kind: 'int',
    default: '10',
    min: 1,
    max: 10000,
    doc: 'voucher redemption attempts per account within the window (counted before the code is looked up; a success gives its attempt back)',
  },
  voucherMaxAttemptsPerSource: {
    env: 'VOUCHER_MAX_ATTEMPTS_PER_SOURCE',
    kind: 'int',
    default: '30',
    min: 1,
    max: 100000,
    doc: 'voucher redemption attempts per client address within the window',
  },
  voucherWindowSeconds: { env: 'VOUCHER_WINDOW_SECONDS', kind: 'int', default: '3600', min: 1, max: 604800, doc: 'window of the voucher throttle' },
  callbackEnabled: {
    env: 'CALLBACK_ENABLED',
    kind: 'bool',
    default: 'false',
    doc: 'accept callback requests (self-care and operators) and place them from every SIP app process (docs/architecture.md, Callback)',
  },
  callbackMaxPerHour: {
    env: 'CALLBACK_MAX_PER_HOUR',
    kind: 'int',
    default: '10',
    min: 1,
    max: 10000,
    doc: 'callback requests per account within an hour (self-care and operators; a refused request counts nothing)',
  },
  callbackMaxPerNumberPerHour: {
    env: 'CALLBACK_MAX_PER_NUMBER_PER_HOUR',
    kind: 'int',
    default: '3',
    min: 1,
    max: 10000,
    doc: 'callback requests ringing or connecting the same number within an hour, whatever the account',
  },
  callbackConcurrency: {
    env: 'CALLBACK_CONCURRENCY',
    kind: 'int',
    default: '10',
    min: 1,
    max: 1000,
    doc: 'callback requests one SIP app process places at once (a customer who does not answer holds up no other request; the rest wait in the stream)',
  },
  callbackAccessNumbers: {
    env: 'CALLBACK_ACCESS_NUMBERS',
    kind: 'string',
    default: '',
    doc: "comma-separated E.164 numbers (+ and digits) reached through carriers: a call to one from a caller ID registered to an account is refused with 486 Busy Here (never answered) and the caller is called back and connected to the account's callback destination (docs/architecture.md, Callback)",
  },
  recordingsDir: {
    env: 'RECORDINGS_DIR',
    kind: 'string',
    default: '.data/recordings',
    doc: 'directory the call recordings are stored in (SIP app processes write, the account API reads and erases; one directory shared by all of them and FreeSWITCH, see docs/privacy.md, Call recording)',
  },
  recordingAnnouncement: {
    env: 'RECORDING_ANNOUNCEMENT',
    kind: 'bool',
    default: 'true',
    doc: 'a recorded call plays "this call may be recorded" to the party called when it answers, before the two are connected',
  },
  recordingRetentionDays: {
    env: 'RECORDING_RETENTION_DAYS',
    kind: 'int',
    default: '90',
    min: 1,
    max: 3650,
    doc: 'call recordings (the file and its record) are deleted by the retention job this many days after the call',
  },
  smtpHost: {
    env: 'SMTP_HOST',
    kind: 'string',
    default: '',
    doc: 'SMTP server that takes outgoing mail (empty: mails wait in the outbox and nothing is sent; `npm start` sets its local capture)',
  },
  smtpPort: { env: 'SMTP_PORT', kind: 'int', default: '587', min: 1, max: 65535, doc: 'SMTP server port' },
  smtpSecurity: {
    env: 'SMTP_SECURITY',
    kind: 'enum',
    default: 'starttls',
    values: ['starttls', 'tls', 'none'],
    doc: '`starttls`: plain connection upgraded with STARTTLS, refused if the server does not offer it; `tls`: TLS from the first byte (port 465); `none`: no TLS (in production only to a relay on loopback)',
  },
  smtpTlsRejectUnauthorized: { env: 'SMTP_TLS_REJECT_UNAUTHORIZED', kind: 'bool', default: 'true', doc: "check the SMTP server's certificate" },
  smtpUser: { env: 'SMTP_USER', kind: 'string', default: '', doc: 'SMTP AUTH user name (empty: no authentication)' },
  smtpPassword: { env: 'SMTP_PASSWORD', kind: 'string', default: '', doc: 'SMTP AUTH password (with SMTP_USER); never logged' },
  mailFrom: {
    env: 'MAIL_FROM',
    kind: 'string',
    default: 'Prepaid calling <noreply@softswitch.local>',
    doc: 'From address of every mail (`Name <address>` or an address)',
  },
  mailLinkBaseUrl: {
    env: 'MAIL_LINK_BASE_URL',
    kind: 'url',
    default: 'http://127.0.0.1:8081',
    doc: 'public address of the self-care pages, the start of every link in a mail',
  },
  mailPollMs: { env: 'MAIL_POLL_MS', kind: 'int', default: '2000', min: 50, max: 600000, doc: 'how often the outbox worker looks for mail that is due' },
  lowBalanceCheckMs: {
    env: 'LOW_BALANCE_CHECK_MS',
    kind: 'int',
    default: '60000',
    min: 0,
    max: 86400000,
    doc: 'how often the API process compares live balances with the customers’ low-balance thresholds (0: never)',
  },
  mailBatchSize: { env: 'MAIL_BATCH_SIZE', kind: 'int', default: '20', min: 1, max: 1000, doc: 'mails the outbox worker claims at a time' },
  mailRetryBaseSeconds: {
    env: 'MAIL_RETRY_BASE_SECONDS',
    kind: 'int',
    default: '30',
    min: 1,
    max: 86400,
    doc: 'wait before the first retry of a mail the server did not take; doubled after each further failure',
  },
  mailRetryMaxSeconds: {
    env: 'MAIL_RETRY_MAX_SECONDS',
    kind: 'int',
    default: '3600',
    min: 1,
    max: 86400,
    doc: 'longest wait between two attempts of one mail',
  },
  mailMaxAttempts: {
    env: 'MAIL_MAX_ATTEMPTS',
    kind: 'int',
    default: '40',
    min: 1,
    max: 1000,
    doc: 'attempts before a mail is marked failed (an outage is survived for about MAIL_RETRY_MAX_SECONDS × this); a permanent refusal (5xx) fails it at once',
  },
} as const satisfies Record<string, Setting>;

type Schema = typeof SCHEMA;
type ValueOf<S extends Setting> = S['kind'] extends 'int' ? number : S['kind'] extends 'bool' ? boolean : string;
export type Config = { readonly [K in keyof Schema]: ValueOf<Schema[K]> };

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

function parseOne(s: Setting, raw: string | undefined, problems: string[]): string | number | boolean | undefined {
  const value = raw === undefined || raw === '' ? s.default : raw;
  if (value === undefined) {
    problems.push(`${s.env} is required: ${s.doc}`);
    return undefined;
  }
  switch (s.kind) {
    case 'int': {
      if (!/^-?\d+$/.test(value)) {
        problems.push(`${s.env}=${JSON.stringify(value)} is not an integer`);
        return undefined;
      }
      const n = Number(value);
      if ((s.min !== undefined && n < s.min) || (s.max !== undefined && n > s.max)) {
        problems.push(`${s.env}=${n} is out of range [${s.min}, ${s.max}]`);
        return undefined;
      }
      return n;
    }
    case 'bool':
      if (!['true', 'false', '1', '0'].includes(value)) {
        problems.push(`${s.env} must be true or false`);
        return undefined;
      }
      return value === 'true' || value === '1';
    case 'url':
      try {
        new URL(value);
      } catch {
        problems.push(`${s.env} is not a valid URL`);
        return undefined;
      }
      return value;
    case 'enum':
      if (!s.values?.includes(value)) {
        problems.push(`${s.env}=${JSON.stringify(value)} must be one of ${s.values?.join(', ')}`);
        return undefined;
      }
      return value;
    case 'secret':
      if (s.minLength !== undefined && value.length < s.minLength) {
        problems.push(`${s.env} must be at least ${s.minLength} characters`);
        return undefined;
      }
      return value;
    default:
      return value;
  }
}

/** Reads, validates, cross-checks and freezes the configuration. Throws ConfigError naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const problems: string[] = [];
  const out: Record<string, unknown> = {};
  for (const [key, setting] of Object.entries(SCHEMA) as [string, Setting][]) {
    out[key] = parseOne(setting, env[setting.env], problems);
  }
  if (problems.length === 0) {
    if ((out.reservationSliceSeconds as number) >= (out.maxCallSeconds as number)) {
      problems.push('RESERVATION_SLICE_SECONDS must be smaller than MAX_CALL_SECONDS');
    }
    if (!/^[A-Z]{2}$/.test(String(out.defaultAccountCountry))) problems.push('DEFAULT_ACCOUNT_COUNTRY must be an ISO 3166 alpha-2 code such as GB or US');
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(out.redisNamespace as string)) problems.push('REDIS_NAMESPACE must be 1-32 characters of [A-Za-z0-9_-]');
    for (const node of String(out.redisClusterNodes)
      .split(',')
      .map((e) => e.trim())
      .filter((e) => e !== ''))
      if (!/^[^\s:,]+:\d{1,5}$/.test(node) || Number(node.slice(node.lastIndexOf(':') + 1)) > 65535)
        problems.push(`REDIS_CLUSTER_NODES: ${node} is not host:port`);
    const algs = String(out.sipDigestAlgorithms)
      .split(',')
      .map((a) => a.trim());
    if (algs.length === 0 || algs.some((a) => a !== 'SHA-256' && a !== 'MD5') || new Set(algs).size !== algs.length)
      problems.push('SIP_DIGEST_ALGORITHMS must list SHA-256 and/or MD5, comma-separated, each once');
    if (out.mediaServer === 'freeswitch' && String(out.freeswitchEslPassword).length < 8)
      problems.push('FREESWITCH_ESL_PASSWORD (at least 8 characters) is required with MEDIA_SERVER=freeswitch');
    if ((out.mediaRtpPortMin as number) + 2 > (out.mediaRtpPortMax as number)) problems.push('MEDIA_RTP_PORT_MIN must be at least 2 below MEDIA_RTP_PORT_MAX');
    if (['0.0.0.0', '::'].includes(String(out.freeswitchAdvertisedAddress).trim()))
      problems.push(
        "FREESWITCH_ADVERTISED_ADDRESS must be an address FreeSWITCH can connect to, not a wildcard (leave it empty to use this process's own address)",
      );
    if ((out.registrarMinExpires as number) > (out.registrarMaxExpires as number)) problems.push('REGISTRAR_MIN_EXPIRES must not exceed REGISTRAR_MAX_EXPIRES');
    if ((out.creditExtendLeadSeconds as number) >= (out.reservationSliceSeconds as number))
      problems.push('CREDIT_EXTEND_LEAD_SECONDS must be smaller than RESERVATION_SLICE_SECONDS');
    // an orphan is found (3 keep-alives missed) before its reservation lapses (slice + 15 s after its last keep-alive)
    if (3 * (out.callKeepAliveSeconds as number) >= (out.reservationSliceSeconds as number) + 15)
      problems.push('CALL_KEEPALIVE_SECONDS must be below a third of RESERVATION_SLICE_SECONDS + 15');
    if (!/^[*#]{1,3}[0-9]{0,2}$/.test(String(out.speedDialPrefix)))
      problems.push('SPEED_DIAL_PREFIX must start with * or # (one to three of them), then at most two digits, e.g. * or *0 or ##');
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(out.databaseSchema as string)) problems.push('DATABASE_SCHEMA must be a plain lower-case identifier');
    for (const entry of String(out.sipTrustedProxies)
      .split(',')
      .map((e) => e.trim())
      .filter((e) => e !== '')) {
      const [address, bits] = entry.split('/');
      const family = isIP(address ?? '');
      if (family === 0 || (bits !== undefined && (!/^\d{1,3}$/.test(bits) || Number(bits) > (family === 6 ? 128 : 32))))
        problems.push(`SIP_TRUSTED_PROXIES: ${entry} is not an address or CIDR network`);
    }
    for (const n of String(out.callbackAccessNumbers)
      .split(',')
      .map((e) => e.trim())
      .filter((e) => e !== ''))
      if (!/^\+[1-9][0-9]{6,14}$/.test(n)) problems.push(`CALLBACK_ACCESS_NUMBERS: ${n} is not an E.164 number (+ and 7 to 15 digits)`);
    if (env.NODE_ENV === 'production') out.deployment = 'production';
    if (out.deployment === 'production' && out.paymentProvider === 'test') {
      problems.push(
        'PAYMENT_PROVIDER=test is the local test provider (its tokens credit money without charging anyone) and is refused in production (DEPLOYMENT=production or NODE_ENV=production); use PAYMENT_PROVIDER=none until a real provider is configured',
      );
    }
    if (out.paymentProvider === 'stripe') {
      if (!/^(sk|rk)_(live|test)_[A-Za-z0-9]{10,}$/.test(String(out.stripeSecretKey)))
        problems.push('STRIPE_SECRET_KEY (sk_live_…, sk_test_… or rk_…) is required with PAYMENT_PROVIDER=stripe');
      if (!/^whsec_[A-Za-z0-9+/=]{10,}$/.test(String(out.stripeWebhookSecret)))
        problems.push('STRIPE_WEBHOOK_SECRET (whsec_…) is required with PAYMENT_PROVIDER=stripe');
    }
    if (!/^[A-Z]{3}$/.test(String(out.orderCurrency))) problems.push('ORDER_CURRENCY must be an ISO 4217 code such as GBP or EUR');
    if ((out.orderMinAmount as number) > (out.orderMaxAmount as number)) problems.push('ORDER_MIN_AMOUNT must not exceed ORDER_MAX_AMOUNT');
    if ((out.autoTopUpMaxAmount as number) > (out.autoTopUpMaxPerDay as number)) problems.push('AUTO_TOPUP_MAX_AMOUNT must not exceed AUTO_TOPUP_MAX_PER_DAY');
    if (out.deployment === 'production' && out.smtpSecurity === 'none' && !['', '127.0.0.1', '::1', 'localhost'].includes(String(out.smtpHost)))
      problems.push(
        'SMTP_SECURITY=none sends mail (with one-time links) in clear over the network and is refused in production unless SMTP_HOST is a loopback relay',
      );
    if (/[\r\n]/.test(String(out.mailFrom)) || !/^(?:[^<>]*<[^\s@<>]+@[^\s@<>]+>|[^\s@<>]+@[^\s@<>]+)$/.test(String(out.mailFrom).trim()))
      problems.push('MAIL_FROM must be one address, `Name <user@host>` or `user@host`');
    if ((out.mailRetryBaseSeconds as number) > (out.mailRetryMaxSeconds as number))
      problems.push('MAIL_RETRY_BASE_SECONDS must not exceed MAIL_RETRY_MAX_SECONDS');
    if (String(out.smtpUser) !== '' && String(out.smtpPassword) === '') problems.push('SMTP_PASSWORD is required with SMTP_USER');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(out) as Config;
}

/** The documented settings, for docs/operations.md and --help output. */
export function describeSettings(): { env: string; default: string | undefined; doc: string }[] {
  return Object.values(SCHEMA as Record<string, Setting>).map((s) => ({ env: s.env, default: s.default, doc: s.doc }));
}
