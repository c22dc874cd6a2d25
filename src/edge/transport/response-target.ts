/**
 * Server-transport rules for requests and responses (RFC 3261 §18.2.1, §18.2.2; RFC 3581).
 */
import { parseVia, serialiseVia, splitHeaderValues, stripBrackets, type SipRequest, type Via } from '../message/index.ts';
import type { SourceInfo, Target } from './types.ts';

/**
 * §18.2.1: "the server transport MUST examine the value of the sent-by parameter in the top
 * Via … If the host portion … contains a domain name, or … an IP address that differs from the
 * packet source address, the server MUST add a "received" parameter". The value is always the
 * packet's source: a `received` the client put there itself is overwritten, never trusted.
 * RFC 3581 §4: an `rport` is filled with the source port (a client-supplied value is
 * overwritten too: "the server MUST insert an rport parameter … with the source port"). With
 * `alwaysRport` (the reference server's behaviour, which adds `;rport=<port>` to every received
 * request) it is added when absent.
 */
export function stampReceived(request: SipRequest, source: SourceInfo, alwaysRport: boolean): void {
  const index = request.headers.findIndex((h) => h.key === 'via');
  const line = request.headers[index];
  if (line === undefined) return;
  const values = line.value.indexOf(',') >= 0 ? splitHeaderValues(line.value) : [line.value];
  const first = values[0];
  if (first === undefined) return;
  const via = parseVia(first);
  if (via === undefined) return;
  let changed = false;
  const params = via.params;
  const hostDiffers = stripBrackets(via.host) !== source.remoteAddress;
  if ((hostDiffers || via.received !== undefined) && via.received !== source.remoteAddress) {
    params.set('received', source.remoteAddress);
    changed = true;
  }
  const rport = params.get('rport');
  const sourcePort = String(source.remotePort);
  if ((rport !== undefined && rport !== sourcePort) || (rport === undefined && alwaysRport)) {
    params.set('rport', sourcePort);
    changed = true;
  }
  if (!changed) return;
  values[0] = serialiseVia(via);
  request.replaceAt(index, values.join(', '));
}

/**
 * Where a response to a request received from `source` with top Via `via` goes (§18.2.2):
 * over TCP, back on the request's connection (or, if it has closed, to the source IP and the
 * sent-by port); over UDP, to the source address (the `received` address, which the server
 * itself sets) and to the source port when rport is present (RFC 3581 §4), else the sent-by
 * port (default 5060). Neither `received` nor an rport value is read from the message: a
 * request that was never stamped (a malformed one answered 400) could otherwise direct the
 * answer at any third party.
 */
export function responseTarget(via: Via | undefined, source: SourceInfo): Target {
  const local = { address: source.localAddress, port: source.localPort };
  const address = source.remoteAddress;
  if (via === undefined) {
    return { protocol: source.protocol, address, port: source.remotePort, connectionId: source.connectionId, local };
  }
  if (source.protocol === 'tcp') {
    return { protocol: 'tcp', address, port: via.port ?? 5060, connectionId: source.connectionId, local };
  }
  const port = via.rport !== undefined ? source.remotePort : (via.port ?? 5060);
  return { protocol: 'udp', address, port, local };
}
