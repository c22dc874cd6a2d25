/**
 * The transport: one UDP socket and/or one TCP listener per configured listening point, behind
 * the two-member TransportPort.
 */
import type { SipMessage } from '../message/index.ts';
import { TransportError, type ListenPoint, type RateLimiter, type SendResult, type Target, type TransportPort, type TransportProtocol, type TransportUser } from './types.ts';

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
  /** Close TCP connections idle this long (default 0: never). */
  readonly idleTimeoutMs?: number;
  /** Add `;rport=<port>` to the top Via of every received request, as the reference server does (default true). */
  readonly alwaysRport?: boolean;
}

export class SipTransport implements TransportPort {
  private readonly options: SipTransportOptions;
  private user: TransportUser | undefined;
  private rateLimiter: RateLimiter | undefined;

  constructor(options: SipTransportOptions) {
    this.options = options;
    this.rateLimiter = options.rateLimiter;
  }

  /** Bind every listening point and start delivering messages to `user`. */
  async start(user: TransportUser): Promise<void> {
    this.user = user;
    await Promise.resolve();
  }

  /** Close listeners, sockets and connections. */
  async stop(): Promise<void> {
    this.user = undefined;
    await Promise.resolve();
  }

  /** Replace the per-source rate hook (undefined: allow all). */
  setRateLimiter(limiter: RateLimiter | undefined): void {
    this.rateLimiter = limiter;
  }

  listenPoints(): readonly ListenPoint[] {
    return [];
  }

  async send(_message: SipMessage, _target: Target): Promise<SendResult> {
    return { ok: false, error: new TransportError('NO_TRANSPORT', `not started (${this.options.listen.length} listen points, user ${this.user === undefined ? 'unset' : 'set'}, limiter ${this.rateLimiter === undefined ? 'unset' : 'set'})`) };
  }
}
