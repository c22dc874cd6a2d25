/**
 * The SIP transport layer (RFC 3261 §18): UDP and TCP over IPv4 and IPv6, TCP stream framing,
 * connection reuse for responses, outbound connections on demand. Imports only ../message.
 *
 *   const transport = new SipTransport({ listen: [{ protocol: 'udp', address: '127.0.0.1', port: 5060 }] });
 *   await transport.start(user);          // user: TransportUser (onMessage, onMalformed)
 *   await transport.send(message, target) // SendResult, never rejects
 *   responseTarget(request.topVia, source) → Target   (§18.2.2, RFC 3581)
 */
export type { ListenPoint, RateLimiter, SendResult, SourceInfo, Target, TransportErrorCode, TransportPort, TransportProtocol, TransportUser } from './types.ts';
export { TransportError } from './types.ts';
export { SipTransport, type ListenConfig, type SipTransportOptions } from './sip-transport.ts';
export { responseTarget, stampReceived } from './response-target.ts';
