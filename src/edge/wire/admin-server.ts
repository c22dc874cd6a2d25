/**
 * The admin (control) listener that drachtio-srf apps connect to (spec §1.1, §2.1).
 *
 * Handles the connection-level commands itself: `authenticate` (§2.1), `ping` (§1.8),
 * `route` / `remove_route` (§3), and parser failures (`NO` + close, §1.6 R5). `sip` and `proxy`
 * commands are handed to the SIP core through {@link AdminCommandHandler}.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { timingSafeEqual, createHash } from 'node:crypto';
import { AppConnection } from './app-connection.ts';
import type { AppCommand, ProxyCommand, SipCommand } from './app-command.ts';
import { RouteRegistry } from './route-registry.ts';
import { responsePayload } from './server-frames.ts';

/** What the SIP core must provide to the admin server. */
export interface AdminCommandHandler {
  onSip(connection: AppConnection, command: SipCommand): void;
  onProxy(connection: AppConnection, command: ProxyCommand): void;
  onConnectionClosed(connection: AppConnection): void;
}

export interface AdminServerOptions {
  readonly secret: string;
  /** R1 token 4: `<proto>/<host>:<port>` entries, comma-joined (external addresses). */
  readonly hostports: string;
  /** R1 token 6: the same list with local addresses. */
  readonly localHostports: string;
  /** R1 token 5: must match `^v\d+\.\d+\.\d+` and be ≥ v0.8.2 or srf never pings (§2.1). */
  readonly version: string;
  readonly maxFrameBytes: number;
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

export class AdminServer {
  readonly routes = new RouteRegistry();
  private readonly connections = new Set<AppConnection>();
  private server: Server | undefined;
  private handler: AdminCommandHandler | undefined;

  constructor(private readonly options: AdminServerOptions) {}

  setHandler(handler: AdminCommandHandler): void {
    this.handler = handler;
  }

  listen(port: number, host: string): Promise<{ address: string; port: number }> {
    return new Promise((resolve, reject) => {
      const server = createServer((socket) => this.accept(socket));
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        server.on('error', () => {
          /* accept errors are per-connection */
        });
        const addr = server.address();
        if (addr === null || typeof addr === 'string') return reject(new Error('admin server has no address'));
        resolve({ address: addr.address, port: addr.port });
      });
      this.server = server;
    });
  }

  /** Stops accepting and terminates every connection; never waits for a peer to close its side. */
  async close(): Promise<void> {
    for (const c of [...this.connections]) c.terminate();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  private accept(socket: Socket): void {
    const connection = new AppConnection(socket, this.options.maxFrameBytes, {
      onCommand: (c, cmd) => this.onCommand(c, cmd),
      onClose: (c) => this.onClose(c),
    });
    this.connections.add(connection);
  }

  private onClose(connection: AppConnection): void {
    if (!this.connections.delete(connection)) return;
    this.routes.removeConnection(connection);
    this.handler?.onConnectionClosed(connection);
  }

  private onCommand(connection: AppConnection, command: AppCommand): void {
    switch (command.type) {
      case 'invalid':
        return connection.rejectAndClose(command.msgId, command.reason);
      case 'ping':
        // §1.8: answered before authentication too (the reference does).
        return connection.send(responsePayload(command.msgId, ['OK', 'pong']));
      case 'authenticate':
        return this.authenticate(connection, command.msgId, command.secret, command.tags);
      default:
        break;
    }
    // §2.1: a new implementation SHOULD reject every command except ping until authentication
    // succeeds, and close the connection.
    if (!connection.authenticated) return connection.rejectAndClose(command.msgId, 'not authenticated');
    switch (command.type) {
      case 'route':
        this.routes.add(connection, command.verb);
        return connection.send(responsePayload(command.msgId, ['OK']));
      case 'remove_route':
        this.routes.remove(connection, command.verb);
        return connection.send(responsePayload(command.msgId, ['OK']));
      case 'sip':
        if (!this.handler) return connection.send(responsePayload(command.msgId, ['NOK', 'server not ready']));
        return this.handler.onSip(connection, command);
      case 'proxy':
        if (!this.handler) return connection.send(responsePayload(command.msgId, ['NOK', 'server not ready']));
        return this.handler.onProxy(connection, command);
    }
  }

  /** §2.1 step 3: compare the secret; R2 + close on mismatch, R1 on match. */
  private authenticate(connection: AppConnection, msgId: string, secret: string, tags: readonly string[]): void {
    if (!timingSafeEqual(digest(secret), digest(this.options.secret))) {
      return connection.rejectAndClose(msgId, 'incorrect secret');
    }
    connection.authenticated = true;
    connection.tags = tags;
    connection.send(responsePayload(msgId, ['OK', this.options.hostports, this.options.version, this.options.localHostports]));
  }
}
