/**
 * Where a request really came from. Its source address, unless it arrived through a SIP proxy
 * the operator trusts (SIP_TRUSTED_PROXIES: the Kamailio or other balancer in front of the SIP
 * servers): then the address that proxy received it from, read from the Via below the proxy's own
 * — its `received` parameter, which a proxy adds whenever the sender wrote another address
 * (RFC 3261 §18.2.1), else the address the sender wrote there.
 *
 * The address is what the guards ban and count, what identifies a carrier, and what CDRs and
 * refusals record. Routing is not affected: requests to the sender still go through the proxy
 * (the binding's and the leg's source stay the proxy's). A Via from an untrusted source is never
 * read, so a device cannot choose the address it is judged by.
 */
import { BlockList, isIP } from 'node:net';
import type { SipMiddleware, SipRequest } from '../sip-types.ts';

/** The trusted proxies, as addresses or CIDR networks (IPv4 or IPv6); throws on one that is neither. */
export function trustedProxyList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const raw of entries) {
    const entry = raw.trim();
    const [address, bits] = entry.split('/');
    const family = isIP(address ?? '');
    if (family === 0) throw new Error(`not an address or network: ${entry}`);
    const type = family === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(address!, type);
    else {
      const prefix = Number(bits);
      if (!/^\d{1,3}$/.test(bits) || prefix > (family === 6 ? 128 : 32)) throw new Error(`not an address or network: ${entry}`);
      list.addSubnet(address!, prefix, type);
    }
  }
  return list;
}

/** The address a request is judged by (set by identifyClient; its source address without it). */
export function clientAddress(req: SipRequest): string {
  return req.client_address ?? req.source_address;
}

/** First middleware: records the request's client address when it came through a trusted proxy. */
export function identifyClient(trusted: BlockList | undefined): SipMiddleware {
  return (req, _res, next) => {
    if (trusted !== undefined && isTrusted(trusted, req.source_address)) {
      const sender = senderBehindProxy(req.get('Via'));
      if (sender !== undefined) req.client_address = sender;
    }
    next();
  };
}

function isTrusted(list: BlockList, address: string): boolean {
  const family = isIP(address);
  return family !== 0 && list.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

/**
 * The sender's address from a request's Via header values (all of them, in order, joined by
 * commas as drachtio-srf gives them): the second Via's `received`, else its host. Undefined when
 * there is no second Via or it names no IP address.
 */
export function senderBehindProxy(via: string | undefined): string | undefined {
  if (via === undefined) return undefined;
  const second = splitHeaderValues(via)[1];
  if (second === undefined) return undefined;
  const m = /^\s*SIP\s*\/\s*2\.0\s*\/\s*[A-Za-z]+\s+(\[[0-9A-Fa-f:.]+\]|[^\s;:]+)(?::\d+)?\s*(;.*)?$/.exec(second);
  if (!m) return undefined;
  const received = /;\s*received\s*=\s*([0-9A-Fa-f:.]+)/i.exec(m[2] ?? '')?.[1];
  const candidate = received ?? m[1]!.replace(/^\[|\]$/g, '');
  return isIP(candidate) === 0 ? undefined : candidate;
}

/** A header's comma-separated values, commas inside quoted strings kept. */
function splitHeaderValues(value: string): string[] {
  const out: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    if (ch === '"' && value[i - 1] !== '\\') quoted = !quoted;
    if (ch === ',' && !quoted) {
      out.push(current);
      current = '';
    } else current += ch;
  }
  out.push(current);
  return out.map((v) => v.trim()).filter((v) => v !== '');
}
