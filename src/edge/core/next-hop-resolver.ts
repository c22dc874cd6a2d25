/**
 * Turns a URI (Request-URI, routeUri, remote target or route) into a transport target
 * (spec §5.2 step 2; RFC 3263 reduced to A/AAAA records): the `transport=` parameter picks UDP
 * or TCP, `sips:`/TLS/WS are refused as not available, the address family picks the listening
 * point.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { parseUri, stripBrackets } from '../message/index.ts';
import type { ListenPoint, Target, TransportPort, TransportProtocol } from '../transport/index.ts';

export type Resolution = { readonly ok: true; readonly target: Target; readonly listen: ListenPoint } | { readonly ok: false; readonly reason: string };

export const NOT_AVAILABLE = 'requested protocol/transport not available';

export class NextHopResolver {
  constructor(
    private readonly transport: TransportPort,
    private readonly lookupTimeoutMs = 5000,
  ) {}

  /** The parsed URI's host is one of our own listening addresses on the same port. */
  isSelf(uriText: string): boolean {
    const uri = parseUri(uriText);
    if (uri === undefined || uri.scheme === 'tel') return false;
    const host = stripBrackets(uri.host);
    const port = uri.port ?? 5060;
    return this.transport.listenPoints().some((lp) => lp.port === port && (lp.address === host || lp.advertisedAddress === host));
  }

  async resolve(uriText: string, preferred?: { protocol: TransportProtocol; connectionId: number }): Promise<Resolution> {
    const uri = parseUri(uriText);
    if (uri === undefined || uri.scheme === 'tel' || uri.host.length === 0) return { ok: false, reason: `invalid uri: ${uriText}` };
    if (uri.scheme === 'sips') return { ok: false, reason: NOT_AVAILABLE };
    const param = uri.params.get('transport');
    let protocol: TransportProtocol;
    if (param === undefined || param === null) protocol = preferred?.protocol ?? 'udp';
    else if (param.toLowerCase() === 'udp') protocol = 'udp';
    else if (param.toLowerCase() === 'tcp') protocol = 'tcp';
    else return { ok: false, reason: NOT_AVAILABLE };
    let address = stripBrackets(uri.host);
    let family = isIP(address);
    if (family === 0) {
      const found = await this.lookup(address);
      if (found === undefined) return { ok: false, reason: `unable to resolve ${address}` };
      address = found.address;
      family = found.family;
    }
    const listen = this.transport.listenPoints().find((lp) => lp.protocol === protocol && lp.family === family);
    if (listen === undefined) return { ok: false, reason: NOT_AVAILABLE };
    const port = uri.port ?? 5060;
    const target: Target =
      preferred !== undefined && preferred.protocol === protocol && preferred.connectionId > 0
        ? { protocol, address, port, connectionId: preferred.connectionId }
        : { protocol, address, port };
    return { ok: true, target, listen };
  }

  private async lookup(host: string): Promise<{ address: string; family: number } | undefined> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), this.lookupTimeoutMs);
    });
    try {
      return await Promise.race([lookup(host).catch(() => undefined), deadline]);
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  }
}
