/**
 * Device calls through the embedded edge: a registered device (sipp) dials a rated UK number,
 * the app authenticates it (407), rates, reserves and bridges to a sipp carrier gateway; every
 * way the call can end settles it once with a CDR, and the money invariant holds afterwards.
 */
import { createHash } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { REDIS_KINDS } from '../support/services.ts';
import { clean, RATE_PER_SECOND, REALM, SipAppHarness } from '../support/sip-app-harness.ts';
import type { Device } from '../support/sip-app-harness.ts';

const UK = '441632960001';
let h: SipAppHarness;
let dev: Device;

async function lastCdr(d: Device) {
  const rows = await h.cdrs(d.account.id);
  return rows[rows.length - 1]!;
}

describe.each(REDIS_KINDS)('on %s Redis', (redis) => {
  beforeAll(async () => {
    h = await SipAppHarness.start('sipcalls', { redis });
    dev = await h.device(5_000_000);
  });
  afterAll(async () => {
    await h.stop();
  });
  afterEach(async () => {
    await h.expectMoneyInvariant();
  });

  describe('device calls', () => {
    it('caller hangs up after a known hold time: CDR with the rated cost', async () => {
      const before = h.settled.length;
      const carrier = h.carrier(0, 'uas-answer-recv-bye.xml');
      const caller = h.run({ scenario: 'device-call.xml', service: `00${UK}`, user: dev.username, password: dev.password, pauseMs: 2500 });
      clean(await caller, await carrier.done);
      await h.waitSettled(before + 1);
      const cdr = await lastCdr(dev);
      expect(cdr).toMatchObject({
        kind: 'device',
        disposition: 'answered',
        sipCode: 200,
        destination: UK,
        carrier: 'carrier-a',
        device: dev.username,
        ratePrefix: '44',
      });
      expect(cdr.billedSeconds).toBeGreaterThanOrEqual(3);
      expect(cdr.billedSeconds).toBeLessThanOrEqual(4);
      expect(cdr.cost).toBe(cdr.billedSeconds * RATE_PER_SECOND);
      expect(cdr.durationMs).toBeGreaterThan(2400);
    });

    it('callee hangs up: the carrier BYE ends both legs, CDR rated', async () => {
      const before = h.settled.length;
      const carrier = h.carrier(0, 'uas-answer-send-bye.xml', { pauseMs: 1500 });
      const caller = h.run({ scenario: 'device-call-recv-bye.xml', service: `+${UK}`, user: dev.username, password: dev.password });
      clean(await caller, await carrier.done);
      await h.waitSettled(before + 1);
      const cdr = await lastCdr(dev);
      expect(cdr).toMatchObject({ disposition: 'answered', sipCode: 200, destination: UK });
      expect(cdr.billedSeconds).toBeGreaterThanOrEqual(2);
      expect(cdr.billedSeconds).toBeLessThanOrEqual(3);
      expect(cdr.cost).toBe(cdr.billedSeconds * RATE_PER_SECOND);
    });

    it('CANCEL before answer: 487 to the caller, CANCEL to the carrier, CDR with cost 0', async () => {
      const before = h.settled.length;
      const carrier = h.carrier(0, 'uas-ring-recv-cancel.xml');
      const caller = h.run({ scenario: 'device-call-cancel.xml', service: `0${UK.slice(2)}`, user: dev.username, password: dev.password });
      clean(await caller, await carrier.done);
      await h.waitSettled(before + 1);
      expect(await lastCdr(dev)).toMatchObject({ disposition: 'cancelled', sipCode: 487, cost: 0, billedSeconds: 0, destination: UK });
    });

    it('486 from the carrier is passed to the caller and not retried', async () => {
      const before = h.settled.length;
      const carrier = h.carrier(0, 'uas-refuse.xml', { vars: { status: '486', reason: 'Busy Here' } });
      const caller = h.run({
        scenario: 'device-call-refused.xml',
        service: `00${UK}`,
        user: dev.username,
        password: dev.password,
        vars: { status: '486', reason: 'Busy Here' },
      });
      clean(await caller, await carrier.done);
      await h.waitSettled(before + 1);
      expect(await lastCdr(dev)).toMatchObject({ disposition: 'busy', sipCode: 486, cost: 0 });
    });

    it('503 from the first gateway: failover to the second, which answers', async () => {
      const before = h.settled.length;
      const first = h.carrier(0, 'uas-refuse.xml', { vars: { status: '503', reason: 'Service Unavailable' } });
      const second = h.carrier(1, 'uas-answer-recv-bye.xml');
      const caller = h.run({ scenario: 'device-call.xml', service: `00${UK}`, user: dev.username, password: dev.password, pauseMs: 1000 });
      clean(await caller, await first.done, await second.done);
      await h.waitSettled(before + 1);
      const cdr = await lastCdr(dev);
      expect(cdr).toMatchObject({ disposition: 'answered', sipCode: 200, carrier: 'carrier-a' });
      expect(cdr.cost).toBe(cdr.billedSeconds * RATE_PER_SECOND);
    });

    it('every gateway failing: one clear 503 to the caller', async () => {
      const before = h.settled.length;
      const first = h.carrier(0, 'uas-refuse.xml', { vars: { status: '503', reason: 'Service Unavailable' } });
      const second = h.carrier(1, 'uas-refuse.xml', { vars: { status: '500', reason: 'Server Internal Error' } });
      const caller = h.run({
        scenario: 'device-call-refused.xml',
        service: `00${UK}`,
        user: dev.username,
        password: dev.password,
        vars: { status: '503', reason: 'All Routes Failed' },
      });
      clean(await caller, await first.done, await second.done);
      await h.waitSettled(before + 1);
      expect(await lastCdr(dev)).toMatchObject({ disposition: 'failed', sipCode: 503, cost: 0 });
    });

    it('a blocklisted destination is refused before any carrier is tried', async () => {
      const before = h.settled.length;
      const caller = h.run({
        scenario: 'device-call-refused.xml',
        service: '00449098765432',
        user: dev.username,
        password: dev.password,
        vars: { status: '403', reason: 'Destination Blocked' },
      });
      clean(await caller);
      await h.waitSettled(before + 1);
      expect(await lastCdr(dev)).toMatchObject({ disposition: 'refused', sipCode: 403, cost: 0, destination: '449098765432' });
    });

    for (const dialled of ['+4409098765432', '004409098765432', '+44(0)9098765432', '+44-0-9098765432']) {
      it(`a trunk 0 after the country code does not bypass the blocklist: ${dialled} is refused as 449098765432`, async () => {
        const before = h.settled.length;
        const caller = h.run({
          scenario: 'device-call-refused.xml',
          service: dialled,
          user: dev.username,
          password: dev.password,
          vars: { status: '403', reason: 'Destination Blocked' },
        });
        clean(await caller);
        await h.waitSettled(before + 1);
        expect(await lastCdr(dev)).toMatchObject({ disposition: 'refused', sipCode: 403, cost: 0, destination: '449098765432' });
      });
    }

    it('a destination without a rate is refused with 404', async () => {
      const before = h.settled.length;
      const caller = h.run({
        scenario: 'device-call-refused.xml',
        service: '0033123456789',
        user: dev.username,
        password: dev.password,
        vars: { status: '404', reason: 'No Rate For Destination' },
      });
      clean(await caller);
      await h.waitSettled(before + 1);
      expect(await lastCdr(dev)).toMatchObject({ disposition: 'refused', sipCode: 404, cost: 0 });
    });

    it('a wrong password on INVITE gets 403 and no call', async () => {
      const before = h.settled.length;
      const caller = h.run({
        scenario: 'device-call-refused.xml',
        service: `00${UK}`,
        user: dev.username,
        password: 'wrong-password-123',
        vars: { status: '403', reason: 'Forbidden' },
      });
      clean(await caller);
      expect(h.settled.length).toBe(before);
    });
  });

  /**
   * A device written out by hand (sipp always computes the digest over the request's own URI): an
   * INVITE to `challengeUri` gets its 407; then an INVITE to `requestUri` carries a digest that is
   * right for `digestUri` (MD5, qop=auth, nc 1). Resolves with the final status and reason.
   */
  async function inviteWithDigest(d: Device, o: { challengeUri: string; requestUri: string; digestUri: string }): Promise<string> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, h.deviceIp, () => resolve()));
    const [ip, port] = h.remote.split(':') as [string, string];
    const local = `${h.deviceIp}:${socket.address().port}`;
    const callId = `digest-uri-${Math.random().toString(36).slice(2)}`;
    const got: string[] = [];
    const waiters: Array<() => void> = [];
    socket.on('message', (m) => {
      const text = m.toString();
      got.push(text);
      if (/^SIP\/2\.0 [2-6]\d\d/.test(text) && /CSeq: \d+ INVITE/.test(text)) {
        // ACK every final response (same branch: the INVITE transaction's)
        const via = /^Via: (.*)$/m.exec(text)?.[1] ?? '';
        const to = /^To: (.*)$/m.exec(text)?.[1] ?? '';
        const cseq = /^CSeq: (\d+)/m.exec(text)?.[1] ?? '1';
        socket.send(
          `ACK ${cseq === '1' ? o.challengeUri : o.requestUri} SIP/2.0\r\nVia: ${via}\r\nFrom: <sip:${d.username}@${REALM}>;tag=f${callId}\r\nTo: ${to}\r\n` +
            `Call-ID: ${callId}\r\nCSeq: ${cseq} ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n`,
          Number(port),
          ip,
        );
      }
      waiters.shift()?.();
    });
    const final = async (cseq: number): Promise<string> => {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const m = got.find((t) => /^SIP\/2\.0 [2-6]\d\d/.test(t) && new RegExp(`CSeq: ${cseq} INVITE`).test(t));
        if (m) return m;
        if (Date.now() > deadline) throw new Error(`no final response to CSeq ${cseq}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 200);
        });
      }
    };
    const invite = (uri: string, cseq: number, auth?: string): string =>
      `INVITE ${uri} SIP/2.0\r\n` +
      `Via: SIP/2.0/UDP ${local};rport;branch=z9hG4bK${callId}${cseq}\r\nFrom: <sip:${d.username}@${REALM}>;tag=f${callId}\r\n` +
      `To: <${uri}>\r\nCall-ID: ${callId}\r\nCSeq: ${cseq} INVITE\r\nContact: <sip:${d.username}@${local}>\r\nMax-Forwards: 70\r\n` +
      (auth ? `Proxy-Authorization: ${auth}\r\n` : '') +
      'Content-Length: 0\r\n\r\n';
    try {
      socket.send(invite(o.challengeUri, 1), Number(port), ip);
      const challenge = await final(1);
      const md5 = /^Proxy-Authenticate: (Digest [^\r]*algorithm=MD5[^\r]*)$/m.exec(challenge)?.[1];
      if (!md5) throw new Error(`no MD5 challenge in ${challenge}`);
      const nonce = /nonce="([^"]+)"/.exec(md5)![1]!;
      const hash = (s: string): string => createHash('md5').update(s).digest('hex');
      const ha1 = hash(`${d.username}:${REALM}:${d.password}`);
      const cnonce = 'c0ffee';
      const response = hash(`${ha1}:${nonce}:00000001:${cnonce}:auth:${hash(`INVITE:${o.digestUri}`)}`);
      socket.send(
        invite(
          o.requestUri,
          2,
          `Digest username="${d.username}", realm="${REALM}", nonce="${nonce}", uri="${o.digestUri}", ` +
            `response="${response}", algorithm=MD5, qop=auth, nc=00000001, cnonce="${cnonce}"`,
        ),
        Number(port),
        ip,
      );
      return /^SIP\/2\.0 (\d{3} [^\r]*)/.exec(await final(2))![1]!;
    } finally {
      socket.close();
    }
  }

  describe('device calls: the digest covers the Request-URI', () => {
    it('a digest computed for another Request-URI is refused 400 and places no call; the same digest for its own URI is accepted', async () => {
      const cheap = `sip:0033123456789@${h.remote}`; // no rate: an authenticated call to it is refused 404, at no cost
      const premium = `sip:00${UK}@${h.remote}`;
      const before = h.settled.length;
      expect(await inviteWithDigest(dev, { challengeUri: cheap, requestUri: premium, digestUri: cheap })).toMatch(/^400 /);
      expect(h.settled.length).toBe(before); // nothing authorised, reserved or settled
      // control: the digest itself was right
      expect(await inviteWithDigest(dev, { challengeUri: cheap, requestUri: cheap, digestUri: cheap })).toBe('404 No Rate For Destination');
      await h.waitSettled(before + 1);
      expect(await lastCdr(dev)).toMatchObject({ disposition: 'refused', sipCode: 404, cost: 0 });
    });
  });
});
