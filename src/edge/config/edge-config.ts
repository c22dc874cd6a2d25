/**
 * Configuration of the embedded edge: one defaults table, parsed from the environment and CLI
 * flags (CLI wins), validated, cross-checked and frozen. Only this folder and src/edge/bin read
 * process.env / argv; everything else receives an {@link EdgeConfig}.
 *
 * Variables (flags in brackets):
 *   EDGE_SIP_LISTEN   [--sip]          comma-separated `udp/host:port`, `tcp/[v6]:port` (default udp+tcp 127.0.0.1:5060)
 *   EDGE_EXTERNAL_IP  [--external-ip]  address advertised in Contact/Via/R1 instead of the bind address
 *   EDGE_ADMIN_HOST   [--admin-host]   control (admin) address (default 127.0.0.1)
 *   EDGE_ADMIN_PORT   [--admin-port]   control port (default 9022)
 *   EDGE_SECRET / DRACHTIO_SECRET [--secret]  shared secret (default `admin`, as drachtio-server)
 *   EDGE_T1_MS, EDGE_T2_MS, EDGE_T4_MS [--t1 --t2 --t4]  RFC 3261 timers (500/4000/5000)
 *   EDGE_PENDING_TIMEOUT_MS [--pending-timeout]  how long a delivered request waits for the app (64000, §4.3)
 *   EDGE_INVITE_PROVISIONAL_TIMEOUT_MS [--invite-provisional-timeout]  an app's INVITE that hears nothing, not even
 *                        100 Trying, this long is given up: 408 to the app, no more retransmissions (3000; 0 = off)
 *   EDGE_MAX_FRAME_BYTES [--max-frame-bytes]   largest admin frame accepted (1 MiB)
 *   EDGE_MAX_SIP_BYTES   [--max-sip-bytes]     largest SIP message accepted (65535)
 *   EDGE_RATE_LIMIT_PER_SOURCE [--rate-limit]  messages per second per source IP, 0 = off (default 0)
 *   EDGE_SPAMMER_USER_AGENTS [--spammer-user-agents]  comma-separated User-Agent substrings answered
 *                        603 Decline by the edge (default: the list of sip-config/drachtio.conf.xml; empty = off)
 *   EDGE_TCP_IDLE_TIMEOUT_MS [--tcp-idle-timeout]  close TCP connections with no traffic for this long, 0 = never (300000)
 *   EDGE_TCP_MAX_CONNECTIONS_PER_SOURCE [--tcp-max-per-source]  inbound TCP connections per source IP (100)
 *   EDGE_TCP_MAX_CONNECTIONS [--tcp-max-connections]  inbound TCP connections in all (4000)
 *   EDGE_LOG_LEVEL       [--log-level]         silent|error|warn|info|debug (default info)
 */

export type SipProtocol = 'udp' | 'tcp';

export interface SipListen {
  readonly protocol: SipProtocol;
  readonly host: string;
  readonly port: number;
}

export interface EdgeTimers {
  /** RFC 3261 §17.1.1.1 T1, RTT estimate. */
  readonly t1Ms: number;
  /** RFC 3261 §17.1.2.2 T2, maximum retransmit interval for non-INVITE requests and INVITE responses. */
  readonly t2Ms: number;
  /** RFC 3261 §17.1.2.2 T4, maximum duration a message remains in the network. */
  readonly t4Ms: number;
  /** Spec §4.3 step 7: a delivered request not answered by the app is forgotten after this (64 s). */
  readonly pendingRequestMs: number;
  /**
   * A proxy's `fr_timer`: an INVITE the app sends outside a dialog that gets no response at all
   * (not even 100 Trying) this long is given up: the app gets 408 at once instead of at Timer B
   * (32 s), retransmissions stop, and a late answer is CANCELled or ACKed and BYEd. 0 = off (as
   * drachtio-server).
   */
  readonly inviteProvisionalMs: number;
}

/**
 * drachtio-server's `<spammers>`: a request outside any dialog whose header contains one of
 * `values` (case-sensitive substring; for To and From the URI user part) is answered
 * `603 Decline` by the server itself, whatever action the configuration names.
 */
export interface SpammerRule {
  readonly header: 'user-agent' | 'to' | 'from';
  readonly values: readonly string[];
}

/** The scanners sip-config/drachtio.conf.xml lists, so the edge and drachtio-server answer alike. */
export const DEFAULT_SPAMMER_USER_AGENTS: readonly string[] = ['sip-cli', 'sipcli', 'friendly-scanner', 'sipvicious', 'VaxSIPUserAgent'];

/** Limits on TCP connections (a source holding idle connections must not exhaust descriptors). */
export interface EdgeTcpLimits {
  /**
   * Close a connection (inbound or outbound) with no traffic either way for this long; 0 never.
   * Above RFC 5626's keep-alive interval for connection-oriented flows (95–120 s), so a device that
   * sends CRLF keep-alives keeps its connection.
   */
  readonly idleTimeoutMs: number;
  /** Inbound connections one source IP may hold; a connection over it is closed at once. */
  readonly maxConnectionsPerSource: number;
  /** Inbound connections in all (keep it well below the process's descriptor limit). */
  readonly maxConnections: number;
}

export interface EdgeConfig {
  readonly sip: readonly SipListen[];
  readonly externalIp: string;
  readonly admin: { readonly host: string; readonly port: number; readonly secret: string };
  readonly timers: EdgeTimers;
  readonly maxFrameBytes: number;
  readonly maxSipMessageBytes: number;
  /** Messages per second allowed per source IP; 0 disables the limiter. */
  readonly rateLimitPerSource: number;
  /** Requests matching a rule get 603 Decline from the edge (spec §4.2 step 3). */
  readonly spammers: readonly SpammerRule[];
  readonly tcp: EdgeTcpLimits;
  readonly logLevel: 'silent' | 'error' | 'warn' | 'info' | 'debug';
  /** Reported in R1 token 5; must look like `vX.Y.Z` ≥ v0.8.2 so srf pings (spec §2.1). */
  readonly version: string;
}

export const EDGE_DEFAULTS: EdgeConfig = Object.freeze({
  sip: Object.freeze([
    Object.freeze({ protocol: 'udp' as const, host: '127.0.0.1', port: 5060 }),
    Object.freeze({ protocol: 'tcp' as const, host: '127.0.0.1', port: 5060 }),
  ]),
  externalIp: '',
  admin: Object.freeze({ host: '127.0.0.1', port: 9022, secret: 'admin' }),
  timers: Object.freeze({ t1Ms: 500, t2Ms: 4000, t4Ms: 5000, pendingRequestMs: 64_000, inviteProvisionalMs: 3000 }),
  maxFrameBytes: 1024 * 1024,
  maxSipMessageBytes: 65535,
  rateLimitPerSource: 0,
  spammers: Object.freeze([Object.freeze({ header: 'user-agent' as const, values: Object.freeze([...DEFAULT_SPAMMER_USER_AGENTS]) })]),
  tcp: Object.freeze({ idleTimeoutMs: 300_000, maxConnectionsPerSource: 100, maxConnections: 4000 }),
  logLevel: 'info' as const,
  version: 'v0.9.10-edge',
});

export class EdgeConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid edge configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'EdgeConfigError';
  }
}

/** Parses `udp/127.0.0.1:5060`, `tcp/[::1]:5070`. */
export function parseSipListen(text: string): SipListen | undefined {
  const m = /^(udp|tcp)\/(\[[0-9a-fA-F:.]+\]|[^:/\s]+):(\d{1,5})$/.exec(text.trim());
  if (!m) return undefined;
  const host = (m[2] as string).replace(/^\[|\]$/g, '');
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  return { protocol: m[1] as SipProtocol, host, port };
}

/** Partial overrides, as produced by the env / CLI readers or by tests. */
export interface EdgeConfigInput {
  sip?: readonly SipListen[];
  externalIp?: string;
  admin?: Partial<EdgeConfig['admin']>;
  timers?: Partial<EdgeTimers>;
  maxFrameBytes?: number;
  maxSipMessageBytes?: number;
  rateLimitPerSource?: number;
  spammers?: readonly SpammerRule[];
  tcp?: Partial<EdgeTcpLimits>;
  logLevel?: EdgeConfig['logLevel'];
}

export function buildEdgeConfig(input: EdgeConfigInput = {}): EdgeConfig {
  const timers: EdgeTimers = { ...EDGE_DEFAULTS.timers, ...input.timers };
  const cfg: EdgeConfig = {
    sip: input.sip ?? EDGE_DEFAULTS.sip,
    externalIp: input.externalIp ?? EDGE_DEFAULTS.externalIp,
    admin: { ...EDGE_DEFAULTS.admin, ...input.admin },
    timers,
    maxFrameBytes: input.maxFrameBytes ?? EDGE_DEFAULTS.maxFrameBytes,
    maxSipMessageBytes: input.maxSipMessageBytes ?? EDGE_DEFAULTS.maxSipMessageBytes,
    rateLimitPerSource: input.rateLimitPerSource ?? EDGE_DEFAULTS.rateLimitPerSource,
    spammers: input.spammers ?? EDGE_DEFAULTS.spammers,
    tcp: { ...EDGE_DEFAULTS.tcp, ...input.tcp },
    logLevel: input.logLevel ?? EDGE_DEFAULTS.logLevel,
    version: EDGE_DEFAULTS.version,
  };
  const problems: string[] = [];
  const int = (name: string, v: number, min: number, max: number): void => {
    if (!Number.isInteger(v) || v < min || v > max) problems.push(`${name} must be an integer in [${min}, ${max}], got ${v}`);
  };
  if (cfg.sip.length === 0) problems.push('at least one SIP listen address is required');
  for (const l of cfg.sip) int(`sip port of ${l.protocol}/${l.host}`, l.port, 0, 65535);
  int('admin port', cfg.admin.port, 0, 65535);
  if (cfg.admin.secret.length === 0) problems.push('admin secret must not be empty');
  int('T1', timers.t1Ms, 1, 60_000);
  int('T2', timers.t2Ms, 1, 600_000);
  int('T4', timers.t4Ms, 1, 600_000);
  int('pending request timeout', timers.pendingRequestMs, 1, 3_600_000);
  int('INVITE provisional timeout', timers.inviteProvisionalMs, 0, 600_000);
  if (timers.t2Ms < timers.t1Ms) problems.push('T2 must not be smaller than T1');
  int('max frame bytes', cfg.maxFrameBytes, 65536, 16 * 1024 * 1024);
  int('max SIP message bytes', cfg.maxSipMessageBytes, 1024, 1024 * 1024);
  int('rate limit per source', cfg.rateLimitPerSource, 0, 1_000_000);
  for (const rule of cfg.spammers) {
    if (!['user-agent', 'to', 'from'].includes(rule.header)) problems.push(`spammer rule header must be user-agent, to or from, got ${rule.header}`);
    if (rule.values.some((v) => v.length === 0)) problems.push('spammer values must not be empty strings');
  }
  int('TCP idle timeout', cfg.tcp.idleTimeoutMs, 0, 86_400_000);
  int('TCP connections per source', cfg.tcp.maxConnectionsPerSource, 1, 1_000_000);
  int('TCP connections', cfg.tcp.maxConnections, 1, 1_000_000);
  if (cfg.tcp.maxConnectionsPerSource > cfg.tcp.maxConnections) problems.push('TCP connections per source must not exceed TCP connections in all');
  if (!['silent', 'error', 'warn', 'info', 'debug'].includes(cfg.logLevel)) problems.push(`unknown log level ${cfg.logLevel}`);
  if (problems.length > 0) throw new EdgeConfigError(problems);
  return deepFreeze(cfg);
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

const FLAG_TO_ENV: Readonly<Record<string, string>> = {
  '--sip': 'EDGE_SIP_LISTEN',
  '--external-ip': 'EDGE_EXTERNAL_IP',
  '--admin-host': 'EDGE_ADMIN_HOST',
  '--admin-port': 'EDGE_ADMIN_PORT',
  '--secret': 'EDGE_SECRET',
  '--t1': 'EDGE_T1_MS',
  '--t2': 'EDGE_T2_MS',
  '--t4': 'EDGE_T4_MS',
  '--pending-timeout': 'EDGE_PENDING_TIMEOUT_MS',
  '--invite-provisional-timeout': 'EDGE_INVITE_PROVISIONAL_TIMEOUT_MS',
  '--max-frame-bytes': 'EDGE_MAX_FRAME_BYTES',
  '--max-sip-bytes': 'EDGE_MAX_SIP_BYTES',
  '--rate-limit': 'EDGE_RATE_LIMIT_PER_SOURCE',
  '--spammer-user-agents': 'EDGE_SPAMMER_USER_AGENTS',
  '--tcp-idle-timeout': 'EDGE_TCP_IDLE_TIMEOUT_MS',
  '--tcp-max-per-source': 'EDGE_TCP_MAX_CONNECTIONS_PER_SOURCE',
  '--tcp-max-connections': 'EDGE_TCP_MAX_CONNECTIONS',
  '--log-level': 'EDGE_LOG_LEVEL',
};

export const EDGE_USAGE = `usage: softswitch-edge [options]
  --sip udp/127.0.0.1:5060     SIP listen address (repeatable; udp|tcp, IPv6 as [::1])
  --external-ip ADDR           address advertised in Contact/Via
  --admin-host HOST            control address (default 127.0.0.1)
  --admin-port PORT            control port (default 9022)
  --secret SECRET              shared secret of the control port
  --t1 MS --t2 MS --t4 MS      RFC 3261 timers
  --pending-timeout MS         how long a request waits for the app (default 64000)
  --invite-provisional-timeout MS  give up an app's INVITE with no response at all (default 3000, 0 = off)
  --max-frame-bytes N          largest control frame (default 1048576)
  --max-sip-bytes N            largest SIP message (default 65535)
  --rate-limit N               messages/s per source IP (0 = off)
  --spammer-user-agents A,B    User-Agent substrings answered 603 Decline ('' = none)
  --tcp-idle-timeout MS        close TCP connections idle this long (default 300000, 0 = never)
  --tcp-max-per-source N       inbound TCP connections per source IP (default 100)
  --tcp-max-connections N      inbound TCP connections in all (default 4000)
  --log-level LEVEL            silent|error|warn|info|debug
Every flag has an environment variable: EDGE_SIP_LISTEN, EDGE_EXTERNAL_IP, EDGE_ADMIN_HOST,
EDGE_ADMIN_PORT, EDGE_SECRET (or DRACHTIO_SECRET), EDGE_T1_MS, EDGE_T2_MS, EDGE_T4_MS,
EDGE_PENDING_TIMEOUT_MS, EDGE_INVITE_PROVISIONAL_TIMEOUT_MS, EDGE_MAX_FRAME_BYTES, EDGE_MAX_SIP_BYTES, EDGE_RATE_LIMIT_PER_SOURCE,
EDGE_SPAMMER_USER_AGENTS, EDGE_TCP_IDLE_TIMEOUT_MS, EDGE_TCP_MAX_CONNECTIONS_PER_SOURCE,
EDGE_TCP_MAX_CONNECTIONS, EDGE_LOG_LEVEL.`;

/** Reads the environment and argv (CLI flags override variables) into a validated config. */
export function loadEdgeConfig(env: Readonly<Record<string, string | undefined>>, argv: readonly string[]): EdgeConfig {
  const values: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && (k.startsWith('EDGE_') || k === 'DRACHTIO_SECRET')) values[k] = v;
  if (values.EDGE_SECRET === undefined && values.DRACHTIO_SECRET !== undefined) values.EDGE_SECRET = values.DRACHTIO_SECRET;
  const problems: string[] = [];
  const sipFlags: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const envName = FLAG_TO_ENV[flag];
    if (!envName) {
      problems.push(`unknown option ${arg}`);
      continue;
    }
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) {
      problems.push(`option ${flag} needs a value`);
      continue;
    }
    if (flag === '--sip') sipFlags.push(value);
    else values[envName] = value;
  }
  if (sipFlags.length > 0) values.EDGE_SIP_LISTEN = sipFlags.join(',');
  const num = (name: string): number | undefined => {
    const v = values[name];
    if (v === undefined || v === '') return undefined;
    if (!/^\d+$/.test(v)) {
      problems.push(`${name} must be a non-negative integer, got "${v}"`);
      return undefined;
    }
    return Number(v);
  };
  const input: EdgeConfigInput = { admin: {}, timers: {} };
  if (values.EDGE_SIP_LISTEN) {
    const sip: SipListen[] = [];
    for (const part of values.EDGE_SIP_LISTEN.split(',')) {
      const l = parseSipListen(part);
      if (l) sip.push(l);
      else problems.push(`bad SIP listen address "${part}" (expected udp/host:port or tcp/[v6]:port)`);
    }
    input.sip = sip;
  }
  if (values.EDGE_EXTERNAL_IP) input.externalIp = values.EDGE_EXTERNAL_IP;
  const admin: { host?: string; port?: number; secret?: string } = {};
  if (values.EDGE_ADMIN_HOST) admin.host = values.EDGE_ADMIN_HOST;
  const adminPort = num('EDGE_ADMIN_PORT');
  if (adminPort !== undefined) admin.port = adminPort;
  if (values.EDGE_SECRET !== undefined) admin.secret = values.EDGE_SECRET;
  input.admin = admin;
  const timers: { t1Ms?: number; t2Ms?: number; t4Ms?: number; pendingRequestMs?: number; inviteProvisionalMs?: number } = {};
  const t1 = num('EDGE_T1_MS');
  if (t1 !== undefined) timers.t1Ms = t1;
  const t2 = num('EDGE_T2_MS');
  if (t2 !== undefined) timers.t2Ms = t2;
  const t4 = num('EDGE_T4_MS');
  if (t4 !== undefined) timers.t4Ms = t4;
  const pt = num('EDGE_PENDING_TIMEOUT_MS');
  if (pt !== undefined) timers.pendingRequestMs = pt;
  const ipt = num('EDGE_INVITE_PROVISIONAL_TIMEOUT_MS');
  if (ipt !== undefined) timers.inviteProvisionalMs = ipt;
  input.timers = timers;
  const mfb = num('EDGE_MAX_FRAME_BYTES');
  if (mfb !== undefined) input.maxFrameBytes = mfb;
  const msb = num('EDGE_MAX_SIP_BYTES');
  if (msb !== undefined) input.maxSipMessageBytes = msb;
  const rl = num('EDGE_RATE_LIMIT_PER_SOURCE');
  if (rl !== undefined) input.rateLimitPerSource = rl;
  const spammerAgents = values.EDGE_SPAMMER_USER_AGENTS;
  if (spammerAgents !== undefined) {
    const agents = spammerAgents
      .split(',')
      .map((v) => v.trim())
      .filter((v) => v.length > 0);
    input.spammers = agents.length === 0 ? [] : [{ header: 'user-agent', values: agents }];
  }
  const tcp: { idleTimeoutMs?: number; maxConnectionsPerSource?: number; maxConnections?: number } = {};
  const idle = num('EDGE_TCP_IDLE_TIMEOUT_MS');
  if (idle !== undefined) tcp.idleTimeoutMs = idle;
  const perSource = num('EDGE_TCP_MAX_CONNECTIONS_PER_SOURCE');
  if (perSource !== undefined) tcp.maxConnectionsPerSource = perSource;
  const total = num('EDGE_TCP_MAX_CONNECTIONS');
  if (total !== undefined) tcp.maxConnections = total;
  input.tcp = tcp;
  if (values.EDGE_LOG_LEVEL) input.logLevel = values.EDGE_LOG_LEVEL as EdgeConfig['logLevel'];
  if (problems.length > 0) throw new EdgeConfigError(problems);
  return buildEdgeConfig(input);
}
