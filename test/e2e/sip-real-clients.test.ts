/**
 * A real SIP client next to sipp: Debian's linphone console client (linphonec, headless) against
 * the app's defaults (digest MD5 alone). It registers over UDP and over TCP, places a call to a
 * sipp carrier and sends DTMF (RFC 4733 events reach the carrier's media address), and answers a
 * call to a personal number. Skipped, saying why, only when linphonec is not installed.
 */
import { createSocket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomPort } from '../support/edge-apps/ports.ts';
import { Linphone, linphoneMissing } from '../support/linphone.ts';
import { clean, REALM, SipAppHarness, startAppSipp } from '../support/sip-app-harness.ts';
import type { Device } from '../support/sip-app-harness.ts';

const missing = linphoneMissing();
if (missing) console.warn(`skipping the linphone tests: ${missing}`);

let h: SipAppHarness;
const phones: Linphone[] = [];

beforeAll(async () => {
  if (missing) return;
  h = await SipAppHarness.start('siplinphone');
});
afterAll(async () => {
  await Promise.all(phones.map((p) => p.stop()));
  await h?.stop();
});

async function phone(over: { autoAnswer?: boolean } = {}): Promise<Linphone> {
  const p = await Linphone.start({ udpPort: randomPort(), tcpPort: randomPort(), rtpPort: randomPort() & ~1, ...over });
  phones.push(p);
  return p;
}

async function register(p: Linphone, d: Device, transport: 'udp' | 'tcp'): Promise<void> {
  await p.register(`sip:${d.username}@${REALM}`, `sip:${h.remote};transport=${transport}`, d.password);
}

describe.skipIf(missing !== undefined)('linphone (linphonec) against the defaults', () => {
  it.each(['udp', 'tcp'] as const)('registers over %s', async (transport) => {
    const d = await h.device(1_000_000);
    const p = await phone();
    await register(p, d, transport);
    const bindings = await h.sip.bindings.bindingsOf(`${d.username}@${REALM}`);
    expect(bindings).toHaveLength(1);
    expect(bindings[0]!.source.transport.toLowerCase()).toBe(transport);
    expect(bindings[0]!.userAgent).toMatch(/linphone/i);
  });
});

/** RFC 4733 telephone-events arriving at a UDP socket: the digits, once each (an event is sent several times). */
async function rtpEvents(ip: string): Promise<{ port: number; digits: string[]; close: () => void }> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, ip, () => resolve());
  });
  const digits: string[] = [];
  let last = -1;
  socket.on('message', (m) => {
    if (m.length < 16 || (m[1]! & 0x7f) !== 101) return;
    const cc = m[0]! & 0x0f;
    const event = m[12 + cc * 4]!;
    const timestamp = m.readUInt32BE(4);
    if (timestamp === last) return; // the same event again (retransmitted end packets, updates)
    last = timestamp;
    digits.push('0123456789*#'[event] ?? `?${event}`);
  });
  return { port: socket.address().port, digits, close: () => socket.close() };
}

async function until(ok: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(missing !== undefined)('linphone calls', () => {
  it('places a call to a sipp carrier and sends DTMF that reaches the carrier as RFC 4733 events; the CDR is rated', async () => {
    const d = await h.device(5_000_000);
    const p = await phone();
    await register(p, d, 'udp');
    const rtp = await rtpEvents(h.carrierIp);
    try {
      const before = h.settled.length;
      const carrier = h.carrier(0, 'carrier-answer-dtmf.xml', { vars: { rtp_ip: h.carrierIp, rtp_port: String(rtp.port) }, timeoutSec: 40 });
      const from = p.output.length;
      // the test's domain (sip.test) does not resolve: the call is addressed to the switch itself, as a phone set up with its address would
      p.send(`call sip:00441632960001@${h.remote}`);
      await p.waitFor(/Call \d+ with \S+ connected/, 20_000, from);
      await p.waitFor(/Media streams established/, 10_000, from);
      for (const digit of ['1', '2', '#']) {
        p.send(digit);
        const n = rtp.digits.length;
        await until(() => rtp.digits.length > n, `DTMF ${digit} at the carrier`);
      }
      expect(rtp.digits).toEqual(['1', '2', '#']);
      p.send('terminate');
      clean(await carrier.done);
      await h.waitSettled(before + 1);
      const cdr = (await h.cdrs(d.account.id)).at(-1);
      expect(cdr).toMatchObject({
        kind: 'device',
        disposition: 'answered',
        sipCode: 200,
        destination: '441632960001',
        device: d.username,
        carrier: 'carrier-a',
      });
      expect(cdr!.cost).toBeGreaterThan(0);
    } finally {
      rtp.close();
    }
  });

  it("answers a call to a personal number over TCP, shown the caller's number; the CDR names it as the device that answered", async () => {
    const DID = '+441632000888';
    const d = await h.device(1_000_000);
    await h.s.pool.query('insert into dids (number, account_id) values ($1, $2)', [DID, d.account.id]);
    const p = await phone({ autoAnswer: true });
    await register(p, d, 'tcp');
    const before = h.settled.length;
    const from = p.output.length;
    const carrier = startAppSipp({ scenario: 'did-call.xml', ip: h.carrierIp, remote: h.remote, service: DID, timeoutSec: 30, pauseMs: 1500 });
    await p.waitFor(/Receiving new incoming call from (\S+)/, 20_000, from);
    expect(p.output.slice(from)).toMatch(/Receiving new incoming call from .*\+447700900555@/);
    clean(await carrier.done);
    await p.waitFor(/Call \d+ with \S+ ended/, 10_000, from);
    await h.waitSettled(before + 1);
    expect((await h.cdrs(d.account.id)).at(-1)).toMatchObject({
      kind: 'did',
      disposition: 'answered',
      sipCode: 200,
      sipReason: 'OK',
      cli: '+447700900555',
      device: d.username,
      cost: 0,
    });
  });
});
