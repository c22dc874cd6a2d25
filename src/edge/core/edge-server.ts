/**
 * The embedded edge: SIP on the network side, drachtio's wire protocol on the app side.
 *
 *   transport (UDP/TCP) → transaction layer → NetworkRequestRouter (§4) ─┐
 *                                                                        ├─ dialogs, pending tables
 *   admin connections → AdminServer (§1–3) → AppCommandRouter (§5) ──────┘
 */
import type { EdgeConfig } from '../config/edge-config.ts';
import { SipTransport } from '../transport/index.ts';
import { TransactionLayer, systemClock, type Clock } from '../transaction/index.ts';
import { DialogTable } from '../dialog/dialog-table.ts';
import { AdminServer } from '../wire/admin-server.ts';
import type { AppConnection } from '../wire/app-connection.ts';
import { AppCommandRouter } from './app-command-router.ts';
import { ClientRequestTable } from './client-request-table.ts';
import { ClientResponseHandler } from './client-response-handler.ts';
import { DialogTerminator } from './dialog-terminator.ts';
import type { EdgeContext } from './edge-context.ts';
import { EdgeLogger } from './edge-logger.ts';
import { LocalAddresses } from './local-addresses.ts';
import { NetworkRequestRouter } from './network-request-router.ts';
import { NextHopResolver } from './next-hop-resolver.ts';
import { RateLimiterHook } from './rate-limiter-hook.ts';
import { ProxyController } from '../proxy/proxy-controller.ts';
import { ResponseSender } from './response-sender.ts';
import { ServerRequestTable } from './server-request-table.ts';
import { UacRequestSender } from './uac-request-sender.ts';

export interface EdgeServerOptions {
  readonly clock?: Clock;
  readonly log?: EdgeLogger;
}

export interface EdgeAddresses {
  readonly admin: { readonly address: string; readonly port: number };
  readonly sip: ReadonlyArray<{ readonly protocol: string; readonly address: string; readonly port: number }>;
}

export class EdgeServer {
  readonly transport: SipTransport;
  readonly layer: TransactionLayer;
  readonly admin: AdminServer;
  readonly dialogs = new DialogTable<AppConnection>();
  readonly rateLimiter: RateLimiterHook;
  private readonly ctx: EdgeContext;
  private readonly network: NetworkRequestRouter;
  private readonly proxies: ProxyController;
  private started = false;

  constructor(
    private readonly config: EdgeConfig,
    options: EdgeServerOptions = {},
  ) {
    const clock = options.clock ?? systemClock;
    const log = options.log ?? new EdgeLogger('edge', config.logLevel);
    this.rateLimiter = new RateLimiterHook(config.rateLimitPerSource, clock);
    this.transport = new SipTransport({
      listen: config.sip.map((l) => ({
        protocol: l.protocol,
        address: l.host,
        port: l.port,
        ...(config.externalIp ? { externalAddress: config.externalIp } : {}),
      })),
      maxMessageSize: config.maxSipMessageBytes,
      rateLimiter: (source) => this.rateLimiter.allow(source),
      alwaysRport: true,
      idleTimeoutMs: config.tcp.idleTimeoutMs,
      maxInboundPerSource: config.tcp.maxConnectionsPerSource,
      maxInbound: config.tcp.maxConnections,
      onConnectionRefused: (remote, cap) => this.connectionRefused(remote, cap, log, clock),
    });
    const local = new LocalAddresses(this.transport);
    this.admin = new AdminServer({
      secret: config.admin.secret,
      get hostports() {
        return local.hostports(true);
      },
      get localHostports() {
        return local.hostports(false);
      },
      version: config.version,
      maxFrameBytes: config.maxFrameBytes,
    });
    const late: { network?: NetworkRequestRouter } = {};
    const user = {
      screen: (...a: Parameters<NetworkRequestRouter['screen']>) => late.network?.screen(...a),
      onRequest: (...a: Parameters<NetworkRequestRouter['onRequest']>) => late.network?.onRequest(...a),
      onAck: (...a: Parameters<NetworkRequestRouter['onAck']>) => late.network?.onAck(...a),
      onCancel: (...a: Parameters<NetworkRequestRouter['onCancel']>) => late.network?.onCancel(...a),
      onStrayResponse: (...a: Parameters<NetworkRequestRouter['onStrayResponse']>) => late.network?.onStrayResponse(...a),
      onServerTimeout: (...a: Parameters<NetworkRequestRouter['onServerTimeout']>) => late.network?.onServerTimeout(...a),
      onServerTransportError: (...a: Parameters<NetworkRequestRouter['onServerTransportError']>) => late.network?.onServerTransportError(...a),
      onServerTerminated: (...a: Parameters<NetworkRequestRouter['onServerTerminated']>) => late.network?.onServerTerminated(...a),
    };
    const t = config.timers;
    this.layer = new TransactionLayer(this.transport, user, {
      clock,
      timers: { T1: t.t1Ms, T2: t.t2Ms, T4: t.t4Ms, serverNoFinal: Math.max(t.pendingRequestMs, 64 * t.t1Ms) + 1000 },
    });
    this.ctx = {
      config,
      log,
      transport: this.transport,
      layer: this.layer,
      clock,
      dialogs: this.dialogs,
      serverRequests: new ServerRequestTable(clock),
      clientRequests: new ClientRequestTable(),
      routes: this.admin.routes,
      resolver: new NextHopResolver(this.transport),
      local,
    };
    const terminator = new DialogTerminator(this.ctx);
    this.proxies = new ProxyController(this.ctx);
    this.network = new NetworkRequestRouter(this.ctx, terminator, this.proxies);
    late.network = this.network;
    const clientResponses = new ClientResponseHandler(this.ctx);
    const requests = new UacRequestSender(this.ctx, clientResponses, terminator);
    this.admin.setHandler(new AppCommandRouter(this.ctx, new ResponseSender(this.ctx, terminator), requests, this.proxies));
  }

  private readonly refusalsLogged = new Map<string, number>();
  private refusedConnections = 0;

  /** A TCP connection closed for a cap: logged at warn at most once a minute per source (a flood would flood the log). */
  private connectionRefused(remote: string, cap: 'per-source' | 'total', log: EdgeLogger, clock: Clock): void {
    this.refusedConnections += 1;
    const key = cap === 'total' ? '*' : remote;
    const now = clock.now();
    const last = this.refusalsLogged.get(key);
    if (last !== undefined && now - last < 60_000) return;
    if (this.refusalsLogged.size > 10_000) this.refusalsLogged.clear();
    this.refusalsLogged.set(key, now);
    const limit = cap === 'total' ? this.config.tcp.maxConnections : this.config.tcp.maxConnectionsPerSource;
    log.warn('TCP connection refused: connection cap reached', { source: remote, cap, limit, refusedSoFar: this.refusedConnections });
  }

  /** Binds the SIP listening points, then the admin port. */
  async start(): Promise<EdgeAddresses> {
    await this.transport.start(this.layer);
    this.started = true;
    const admin = await this.admin.listen(this.config.admin.port, this.config.admin.host);
    this.ctx.log.info('edge started', { admin, sip: this.transport.listenPoints().map((p) => `${p.protocol}/${p.address}:${p.port}`) });
    return { admin, sip: this.transport.listenPoints().map((p) => ({ protocol: p.protocol, address: p.address, port: p.port })) };
  }

  async stop(): Promise<void> {
    await this.admin.close();
    this.layer.shutdown();
    if (this.started) await this.transport.stop();
    this.started = false;
    void this.network;
  }

  /** Live state sizes, for tests and metrics. */
  get stats(): { dialogs: number; serverRequests: number; clientRequests: number; connections: number; proxies: number } {
    return {
      proxies: this.proxies.size,
      dialogs: this.dialogs.size,
      serverRequests: this.ctx.serverRequests.size,
      clientRequests: this.ctx.clientRequests.size,
      connections: this.admin.connectionCount,
    };
  }
}
