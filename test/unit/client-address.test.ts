import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clientAddress, identifyClient, senderBehindProxy, trustedProxyList } from '../../src/sip/guards/client-address.ts';
import type { SipRequest } from '../../src/sip/sip-types.ts';

function request(source: string, via: string | undefined): SipRequest {
  return {
    method: 'INVITE',
    uri: 'sip:x@y',
    source_address: source,
    source_port: 5060,
    protocol: 'udp',
    get: (name: string) => (name.toLowerCase() === 'via' ? via : undefined),
  };
}

function judged(trusted: string[], source: string, via: string | undefined): string {
  const req = request(source, via);
  identifyClient(trusted.length ? trustedProxyList(trusted) : undefined)(req, { send: () => undefined }, () => undefined);
  return clientAddress(req);
}

const KAMAILIO_VIA = 'SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK1';

describe('the address a request is judged by', () => {
  it('is the source address without trusted proxies, whatever the Vias say', () => {
    expect(judged([], '198.51.100.7', `${KAMAILIO_VIA}, SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK2`)).toBe('198.51.100.7');
  });

  it("through a trusted proxy: the second Via's received, else its host", () => {
    expect(judged(['10.0.0.5'], '10.0.0.5', `${KAMAILIO_VIA}, SIP/2.0/UDP 192.168.1.10:5062;rport=40000;received=203.0.113.9;branch=z9hG4bK2`)).toBe(
      '203.0.113.9',
    );
    expect(judged(['10.0.0.0/24'], '10.0.0.5', `${KAMAILIO_VIA},SIP/2.0/TCP 203.0.113.20:5060;branch=z9hG4bK2`)).toBe('203.0.113.20');
    expect(judged(['2001:db8::/32'], '2001:db8::1', 'SIP/2.0/UDP [2001:db8::1]:5060;branch=a, SIP/2.0/UDP [2001:db8:5::9]:5060;branch=b')).toBe(
      '2001:db8:5::9',
    );
  });

  it('a request from an untrusted address is judged by its source even with a forged second Via', () => {
    expect(judged(['10.0.0.5'], '198.51.100.7', `SIP/2.0/UDP 198.51.100.7;branch=a, SIP/2.0/UDP 10.9.9.9;received=1.2.3.4;branch=b`)).toBe('198.51.100.7');
  });

  it('falls back to the source when the second Via is missing or names no address', () => {
    expect(judged(['10.0.0.5'], '10.0.0.5', KAMAILIO_VIA)).toBe('10.0.0.5');
    expect(judged(['10.0.0.5'], '10.0.0.5', `${KAMAILIO_VIA}, SIP/2.0/UDP phone.example.com:5060;branch=b`)).toBe('10.0.0.5');
    expect(judged(['10.0.0.5'], '10.0.0.5', undefined)).toBe('10.0.0.5');
  });

  it('keeps commas inside quoted Via parameters', () => {
    expect(senderBehindProxy(`SIP/2.0/UDP 10.0.0.5;x="a,b";branch=1, SIP/2.0/UDP 192.0.2.44:5060;branch=2`)).toBe('192.0.2.44');
  });

  it('never throws and returns an IP address or nothing, for any Via text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (via) => {
        const r = senderBehindProxy(via);
        expect(r === undefined || /^[0-9a-f:.]+$/i.test(r)).toBe(true);
      }),
      { numRuns: 2000, seed: 7 },
    );
  });

  it('refuses entries that are neither an address nor a network', () => {
    expect(() => trustedProxyList(['10.0.0.0/33'])).toThrow();
    expect(() => trustedProxyList(['kamailio.local'])).toThrow();
    expect(trustedProxyList(['10.0.0.0/8', '::1']).check('10.1.2.3', 'ipv4')).toBe(true);
  });
});
