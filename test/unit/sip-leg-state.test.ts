import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nextHopOf } from '../../src/sip/call/leg-ender.ts';
import { calleeLegOf, callerLegOf, parseLegState, splitNameAddrs } from '../../src/sip/call/leg-state.ts';
import type { SrfMessageView } from '../../src/sip/call/leg-state.ts';

function msg(headers: Record<string, string>, meta: { source_address?: string; source_port?: number; protocol?: string } = {}): SrfMessageView {
  const lower = new Map(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { get: (n: string) => lower.get(n.toLowerCase()), ...meta };
}

describe("a leg's dialog state", () => {
  it("the caller's leg: our To with our tag, their From with theirs, the INVITE's CSeq, Record-Route in order, their source address", () => {
    const req = msg(
      {
        From: '"Alice" <sip:alice@example.com>;tag=a1',
        To: '<sip:441632960001@sip.test>',
        CSeq: '2 INVITE',
        'Record-Route': '<sip:p1.example.com;lr>, <sip:p2.example.com;lr>',
      },
      { source_address: '192.0.2.7', source_port: 5070, protocol: 'udp' },
    );
    const leg = callerLegOf({ sip: { callId: 'c1', localTag: 'ours', remoteTag: 'a1' }, remote: { uri: 'sip:alice@10.0.0.5:5060' }, req, res: msg({}) });
    expect(leg).toEqual({
      callId: 'c1',
      local: '<sip:441632960001@sip.test>;tag=ours',
      remote: '"Alice" <sip:alice@example.com>;tag=a1',
      cseq: 2,
      remoteTarget: 'sip:alice@10.0.0.5:5060',
      routeSet: ['<sip:p1.example.com;lr>', '<sip:p2.example.com;lr>'],
      transport: 'udp',
      source: '192.0.2.7:5070',
    });
    expect(nextHopOf(leg)).toBe('sip:p1.example.com;lr');
  });

  it("the callee's leg: our From, the 200's To, the 200's Record-Route reversed; without a route set the next hop is where the peer spoke from", () => {
    const req = msg({ From: 'sip:+441632000001@localhost;tag=b1', CSeq: '7 INVITE' });
    const res = msg(
      { To: '<sip:441632960001@198.51.100.1>;tag=c9', 'Record-Route': '<sip:r1;lr>,<sip:r2;lr>' },
      { source_address: '198.51.100.1', source_port: 5060, protocol: 'tcp' },
    );
    const leg = calleeLegOf({ sip: { callId: 'b-leg', localTag: 'b1', remoteTag: 'c9' }, remote: { uri: 'sip:gw@198.51.100.1' }, req, res });
    expect(leg.local).toBe('<sip:+441632000001@localhost>;tag=b1');
    expect(leg.remote).toBe('<sip:441632960001@198.51.100.1>;tag=c9');
    expect(leg.routeSet).toEqual(['<sip:r2;lr>', '<sip:r1;lr>']);
    expect(nextHopOf({ ...leg, routeSet: [] })).toBe('sip:198.51.100.1:5060;transport=tcp');
    expect(nextHopOf({ ...leg, routeSet: [], source: '[2001:db8::1]:5060' })).toBe('sip:[2001:db8::1]:5060;transport=tcp');
  });

  it('commas inside quotes and brackets do not split a header', () => {
    expect(splitNameAddrs('"Smith, J" <sip:a@b;x=1,2>, <sip:c@d>')).toEqual(['"Smith, J" <sip:a@b;x=1,2>', '<sip:c@d>']);
    expect(splitNameAddrs(undefined)).toEqual([]);
  });

  it('a stored leg is read back only when whole (seeded fuzz: anything else is refused, never thrown)', () => {
    const good = {
      callId: 'c',
      local: '<sip:a>;tag=1',
      remote: '<sip:b>;tag=2',
      cseq: 1,
      remoteTarget: 'sip:b',
      routeSet: [],
      transport: 'udp',
      source: '1.2.3.4:5060',
    };
    expect(parseLegState(JSON.parse(JSON.stringify(good)))).toEqual(good);
    expect(parseLegState({ ...good, cseq: '1' })).toBeUndefined();
    expect(parseLegState({ ...good, routeSet: [1] })).toBeUndefined();
    fc.assert(
      fc.property(fc.anything(), (v) => {
        const r = parseLegState(v);
        return r === undefined || typeof r.callId === 'string';
      }),
      { seed: 11, numRuns: 2000 },
    );
  });
});
