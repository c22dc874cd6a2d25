/**
 * The transport (RFC 3261 §18): one UDP socket and/or one TCP listener per configured
 * listening point behind the TransportPort. Received bytes go through the rate hook, the
 * parser and the §18.2.1 Via stamping before they reach the user. Outbound TCP connections
 * are made on demand and cached by destination; inbound ones are indexed the same way, so a
 * request to a peer that connected to us reuses its connection.
 */
import { isIP, connect, type Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { RemoteInfo } from 'node:dgram';
import { parseMessage, serialiseMessage, stripBrackets, type SipMessage } from '../message/index.ts';
import { stampReceived } from './response-target.ts';
import { TcpConnection, unmapV4 } from './tcp-connection.ts';
import { TcpEndpoint } from './tcp-endpoint.ts';
import { UdpEndpoint } from './udp-endpoint.ts';
import {
  TransportError,
  type ListenPoint,
  type RateLimiter,
  type SendResult,
  type SourceInfo,
  type Target,
  type TransportPort,
  type TransportProtocol,
  type TransportUser,
} from './types.ts';

export interface ListenConfig {
  readonly protocol: TransportProtocol;
  /** IP literal to bind (IPv6 without brackets). */
  readonly address: string;
  /** Port to bind; 0 picks a free port (see listenPoints() for the real one). */
  readonly port: number;
  /** Address to advertise in Via/Contact instead of `address` (e.g. a public IP). */
  readonly externalAddress?: string;
}

export interface SipTransportOptions {
  readonly listen: readonly ListenConfig[];
  /** Largest message accepted or sent, in bytes (default 65535). TCP: a bigger frame closes the connection. */
  readonly maxMessageSize?: number;
  /** Per-source rate hook, called before parsing (default: allow all). */
  readonly rateLimiter?: RateLimiter;
  /** Outbound TCP connect timeout (default 5000 ms). */
  readonly connectTimeoutMs?: number;
  /** Close TCP connections (inbound and outbound) with no traffic either way for this long (default 0: never). */
  readonly idleTimeoutMs?: number;
  /** Inbound TCP connections one source IP may hold; a connection over it is closed at once (default: no cap). */
  readonly maxInboundPerSource?: number;
  /** Inbound TCP connections in all; a connection over it is closed at once (default: no cap). */
  readonly maxInbound?: number;
  /** Told about every inbound connection closed at once for a cap (for logs and metrics). */
  readonly onConnectionRefused?: (remoteAddress: string, cap: 'per-source' | 'total') => void;
  /** Add `;rport=<port>` to the top Via of every received request, as the reference server does (default true). */
  readonly alwaysRport?: boolean;
  /**
   * Where an exception thrown by the TransportUser while handling a received message goes (a
   * bug above this layer). Without it the exception propagates out of the socket handler.
   */
  readonly onUserError?: (error: unknown, source: SourceInfo) => void;
}

type Endpoint = UdpEndpoint | TcpEndpoint;

export class SipTransport implements TransportPort {
  private readonly options: SipTransportOptions;
  private readonly maxMessageSize: number;
  private user: TransportUser | undefined;
  private rateLimiter: RateLimiter | undefined;
  private readonly endpoints: Endpoint[] = [];
  private readonly connections = new Map<number, TcpConnection>();
  /** `address|port` → open connection to that peer. */
  private readonly byPeer = new Map<string, TcpConnection>();
  /** Inbound connections open, per remote address, and in all. */
  private readonly inboundBySource = new Map<string, number>();
  private inbound = 0;
  /** `address|port` → connect in progress. */
  private readonly connecting = new Map<string, Promise<TcpConnection | TransportError>>();
  private stopped = false;

  constructor(options: SipTransportOptions) {
    this.options = options;
    this.maxMessageSize = options.maxMessageSize ?? 65535;
    this.rateLimiter = options.rateLimiter;
  }

  /** Bind every listening point and start delivering messages to `user`. */
  async start(user: TransportUser): Promise<void> {
    this.user = user;
    for (const config of this.options.listen) {
      const family = isIP(config.address);
      if (family !== 4 && family !== 6) throw new TransportError('NO_TRANSPORT', `listen address is not an IP literal: ${config.address}`);
      let port = config.port;
      if (port === 0) {
        // Give UDP and TCP on the same address the same port when both are configured with 0.
        const sibling = this.endpoints.find((e) => e.listenPoint.address === config.address && e.listenPoint.protocol !== config.protocol);
        if (sibling !== undefined) port = sibling.listenPoint.port;
      }
      const point: ListenPoint = {
        protocol: config.protocol,
        address: config.address,
        port,
        family,
        advertisedAddress: config.externalAddress ?? advertisable(config.address, family),
      };
      const endpoint = await this.bindWithFallback(point, config.port === 0 && port !== 0);
      this.endpoints.push(endpoint);
    }
  }

  private async bindWithFallback(point: ListenPoint, mayRetryOnAnyPort: boolean): Promise<Endpoint> {
    try {
      return await this.bind(point);
    } catch (error) {
      if (!mayRetryOnAnyPort) throw error;
      return this.bind({ ...point, port: 0 });
    }
  }

  private async bind(point: ListenPoint): Promise<Endpoint> {
    if (point.protocol === 'udp') {
      const endpoint = new UdpEndpoint(point, {
        onDatagram: (e, data, remote) => this.onDatagram(e, data, remote),
        onSocketError: () => undefined,
      });
      await endpoint.bind();
      return endpoint;
    }
    const endpoint = new TcpEndpoint(point, (e, socket) => this.admit(socket, e.listenPoint));
    await endpoint.listen();
    return endpoint;
  }

  /** Close listeners, sockets and connections. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.user = undefined;
    for (const c of this.connections.values()) c.close();
    await Promise.all(this.endpoints.map((e) => e.close()));
  }

  /** Replace the per-source rate hook (undefined: allow all). */
  setRateLimiter(limiter: RateLimiter | undefined): void {
    this.rateLimiter = limiter;
  }

  listenPoints(): readonly ListenPoint[] {
    return this.endpoints.map((e) => e.listenPoint);
  }

  /** Open TCP connections (for tests and metrics). */
  get connectionCount(): number {
    return this.connections.size;
  }

  // ---- receiving -----------------------------------------------------------------------

  private onDatagram(endpoint: UdpEndpoint, data: Buffer, remote: RemoteInfo): void {
    if (data.length > this.maxMessageSize) return;
    const point = endpoint.listenPoint;
    const source: SourceInfo = {
      protocol: 'udp',
      remoteAddress: remote.address,
      remotePort: remote.port,
      localAddress: isWildcard(point.address) ? point.advertisedAddress : point.address,
      localPort: point.port,
      connectionId: 0,
    };
    this.receive(data, source);
  }

  private onFrame(connection: TcpConnection, data: Buffer): void {
    const source: SourceInfo = {
      protocol: 'tcp',
      remoteAddress: connection.remoteAddress,
      remotePort: connection.remotePort,
      localAddress: connection.localAddress,
      localPort: connection.listenPoint.port,
      connectionId: connection.id,
    };
    this.receive(data, source);
  }

  private receive(data: Buffer, source: SourceInfo): void {
    const user = this.user;
    if (user === undefined) return;
    if (this.rateLimiter !== undefined && !this.rateLimiter(source)) return;
    const onUserError = this.options.onUserError;
    if (onUserError === undefined) {
      this.deliver(user, data, source);
      return;
    }
    try {
      this.deliver(user, data, source);
    } catch (error) {
      onUserError(error, source);
    }
  }

  private deliver(user: TransportUser, data: Buffer, source: SourceInfo): void {
    const result = parseMessage(data);
    if (!result.ok) {
      // Stray CRLFs between datagrams are keep-alives, not errors.
      if (result.error.code !== 'EMPTY') user.onMalformed(result.error, source);
      return;
    }
    const message = result.message;
    if (message.kind === 'request') stampReceived(message, source, this.options.alwaysRport ?? true);
    user.onMessage(message, source);
  }

  /**
   * An inbound connection over a cap is closed before it is read from: one source holding many
   * (idle) connections cannot take the descriptors every other caller needs.
   */
  private admit(socket: Socket, point: ListenPoint): void {
    const remote = unmapV4(socket.remoteAddress ?? '');
    const fromSource = this.inboundBySource.get(remote) ?? 0;
    const cap =
      fromSource >= (this.options.maxInboundPerSource ?? Infinity) ? 'per-source' : this.inbound >= (this.options.maxInbound ?? Infinity) ? 'total' : undefined;
    if (cap !== undefined || this.stopped) {
      socket.on('error', () => undefined);
      socket.destroy();
      if (cap !== undefined) this.options.onConnectionRefused?.(remote, cap);
      return;
    }
    this.inboundBySource.set(remote, fromSource + 1);
    this.inbound += 1;
    let counted = true;
    socket.once('close', () => {
      if (!counted) return;
      counted = false;
      this.inbound -= 1;
      const left = (this.inboundBySource.get(remote) ?? 1) - 1;
      if (left > 0) this.inboundBySource.set(remote, left);
      else this.inboundBySource.delete(remote);
    });
    this.adopt(socket, point, false);
  }

  private adopt(socket: Socket, point: ListenPoint, outbound: boolean): TcpConnection {
    const connection = new TcpConnection(socket, point, outbound, this.maxMessageSize, this.options.idleTimeoutMs ?? 0, {
      onFrame: (c, data) => this.onFrame(c, data),
      onClose: (c) => {
        this.connections.delete(c.id);
        const key = peerKey(c.remoteAddress, c.remotePort);
        if (this.byPeer.get(key) === c) this.byPeer.delete(key);
      },
    });
    if (this.stopped) {
      connection.close();
      return connection;
    }
    this.connections.set(connection.id, connection);
    this.byPeer.set(peerKey(connection.remoteAddress, connection.remotePort), connection);
    return connection;
  }

  // ---- sending -------------------------------------------------------------------------

  async send(message: SipMessage, target: Target): Promise<SendResult> {
    if (this.stopped) return failure('CLOSED', 'transport stopped');
    const address = stripBrackets(target.address);
    const family = isIP(address);
    if (family !== 4 && family !== 6) return failure('SEND_FAILED', `not an IP address: ${target.address}`);
    const point = this.pickListenPoint(target.protocol, family, target.local);
    if (point === undefined) return failure('NO_TRANSPORT', `no ${target.protocol} transport for IPv${family}`);
    const data = serialiseMessage(message);
    if (data.length > this.maxMessageSize) return failure('TOO_LARGE', `message of ${data.length} bytes exceeds ${this.maxMessageSize}`);

    if (target.protocol === 'udp') {
      const endpoint = this.endpoints.find((e): e is UdpEndpoint => e instanceof UdpEndpoint && e.listenPoint === point);
      if (endpoint === undefined) return failure('NO_TRANSPORT', 'udp endpoint missing');
      const error = await endpoint.send(data, address, target.port);
      if (error !== undefined) return failure('SEND_FAILED', error.message);
      return { ok: true, bytes: data.length, local: point, destination: { protocol: 'udp', address, port: target.port, connectionId: 0 } };
    }

    let connection = target.connectionId !== undefined ? this.connections.get(target.connectionId) : undefined;
    if (connection === undefined || !connection.isOpen) connection = this.byPeer.get(peerKey(address, target.port));
    if (connection === undefined || !connection.isOpen) {
      const made = await this.connectTo(address, target.port, point);
      if (made instanceof TransportError) return { ok: false, error: made };
      connection = made;
    }
    const error = await connection.write(data);
    if (error !== undefined) return failure('CONNECTION_CLOSED', error.message);
    return {
      ok: true,
      bytes: data.length,
      local: connection.listenPoint,
      destination: { protocol: 'tcp', address: connection.remoteAddress, port: connection.remotePort, connectionId: connection.id },
    };
  }

  private pickListenPoint(protocol: TransportProtocol, family: number, local: Target['local']): ListenPoint | undefined {
    let fallback: ListenPoint | undefined;
    for (const e of this.endpoints) {
      const p = e.listenPoint;
      if (p.protocol !== protocol || p.family !== family) continue;
      if (local === undefined) return p;
      if (p.port === local.port && (p.address === local.address || p.advertisedAddress === local.address || isWildcard(p.address))) return p;
      fallback ??= p;
    }
    return fallback;
  }

  private connectTo(address: string, port: number, point: ListenPoint): Promise<TcpConnection | TransportError> {
    const key = peerKey(address, port);
    const pending = this.connecting.get(key);
    if (pending !== undefined) return pending;
    const attempt = new Promise<TcpConnection | TransportError>((resolve) => {
      const socket = connect({ host: address, port, localAddress: isWildcard(point.address) ? undefined : point.address });
      const timeout = setTimeout(() => {
        socket.destroy();
        resolve(new TransportError('CONNECT_FAILED', `connect to ${address}:${port} timed out`));
      }, this.options.connectTimeoutMs ?? 5000);
      timeout.unref();
      socket.once('error', (error) => {
        clearTimeout(timeout);
        socket.destroy();
        resolve(new TransportError('CONNECT_FAILED', `connect to ${address}:${port} failed: ${error.message}`));
      });
      socket.once('connect', () => {
        clearTimeout(timeout);
        socket.removeAllListeners('error');
        if (this.stopped) {
          socket.destroy();
          resolve(new TransportError('CLOSED', 'transport stopped'));
          return;
        }
        resolve(this.adopt(socket, point, true));
      });
    });
    this.connecting.set(key, attempt);
    void attempt.then(() => this.connecting.delete(key));
    return attempt;
  }
}

function failure(code: TransportError['code'], message: string): SendResult {
  return { ok: false, error: new TransportError(code, message) };
}

function peerKey(address: string, port: number): string {
  return `${address}|${port}`;
}

function isWildcard(address: string): boolean {
  return address === '0.0.0.0' || address === '::';
}

/** A concrete address to advertise for a wildcard bind: the first external interface address. */
function advertisable(address: string, family: 4 | 6): string {
  if (!isWildcard(address)) return address;
  for (const list of Object.values(networkInterfaces())) {
    for (const info of list ?? []) {
      if (!info.internal && (info.family === 'IPv4' ? 4 : 6) === family && !info.address.startsWith('fe80')) return info.address;
    }
  }
  return family === 4 ? '127.0.0.1' : '::1';
}
