/**
 * The transport layer's port (what the layer above calls) and its user interface (what the
 * transport calls upward). RFC 3261 §18.
 */
import type { SipMessage, SipParseError } from '../message/index.ts';

export type TransportProtocol = 'udp' | 'tcp';

/** Where a message came from and which local socket received it. */
export interface SourceInfo {
  readonly protocol: TransportProtocol;
  /** Remote IP, IPv6 without brackets. */
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** Local IP of the listening socket (the configured address, IPv6 without brackets). */
  readonly localAddress: string;
  /** Local listening port (for TCP: the listening port even on outbound connections). */
  readonly localPort: number;
  /** TCP connection the message arrived on; 0 for UDP. */
  readonly connectionId: number;
}

/** Where to send a message. Addresses are IP literals: name resolution is the caller's job. */
export interface Target {
  readonly protocol: TransportProtocol;
  /** IP literal, IPv6 with or without brackets. */
  readonly address: string;
  readonly port: number;
  /**
   * TCP only: prefer this existing connection (responses go back on the request's connection,
   * §18.2.2). If it has closed, the transport connects to address:port instead.
   */
  readonly connectionId?: number;
  /**
   * Send from this local listening point when one matches (responses leave from the socket
   * the request arrived on). Otherwise the first listening point of the right protocol and
   * address family is used.
   */
  readonly local?: { readonly address: string; readonly port: number };
}

/** A configured local listening point. */
export interface ListenPoint {
  readonly protocol: TransportProtocol;
  /** The configured address (IPv6 without brackets). `0.0.0.0` / `::` listen on all. */
  readonly address: string;
  /** The bound port (the real one when configured as 0). */
  readonly port: number;
  /** Address to advertise in Via/Contact (external IP if configured, else the address). */
  readonly advertisedAddress: string;
  readonly family: 4 | 6;
}

/** The outcome of a send. Expected failures are values, never exceptions or rejections. */
export type SendResult =
  | { readonly ok: true; readonly bytes: number; readonly local: ListenPoint; readonly destination: Target & { readonly connectionId: number } }
  | { readonly ok: false; readonly error: TransportError };

export type TransportErrorCode = 'NO_TRANSPORT' | 'CONNECT_FAILED' | 'CONNECTION_CLOSED' | 'SEND_FAILED' | 'TOO_LARGE' | 'CLOSED';

export class TransportError extends Error {
  override readonly name = 'TransportError';
  readonly code: TransportErrorCode;
  constructor(code: TransportErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/**
 * Per-source message-rate hook: called for every received message before it is parsed.
 * Return false to drop the message silently. Default: allow everything.
 */
export type RateLimiter = (source: SourceInfo) => boolean;

/** What the transport reports upward. */
export interface TransportUser {
  /** A well-formed message. */
  onMessage(message: SipMessage, source: SourceInfo): void;
  /**
   * A message that failed to parse. `error.partial` holds what was read, so the layer above can
   * answer 400 when the partial request carries enough to form a response.
   */
  onMalformed(error: SipParseError, source: SourceInfo): void;
}

/** The transport port: what the layer above programs against. */
export interface TransportPort {
  /** Serialise and send; for TCP, connect on demand (connections are cached and reused). */
  send(message: SipMessage, target: Target): Promise<SendResult>;
  /** The listening points, in configuration order. */
  listenPoints(): readonly ListenPoint[];
}
