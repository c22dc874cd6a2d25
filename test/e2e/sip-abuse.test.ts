/**
 * Abuse through the edge: brute force of a SIP password bans the source; malformed and hostile
 * requests (no To, bad Contact, huge headers, garbage credentials) get a 4xx and change nothing;
 * a forged `received=`/`rport=` in the top Via cannot turn the edge into a reflector.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { clean, REALM, SipAppHarness } from '../support/sip-app-harness.ts';
import type { Device } from '../support/sip-app-harness.ts';

const THRESHOLD = 4;
let h: SipAppHarness;
let dev: Device;
let attacker: string;

beforeAll(async () => {
  h = await SipAppHarness.start('sipabuse', { failureThreshold: THRESHOLD, banSeconds: 60 });
  dev = await h.device(1_000_000);
  const taken = [h.deviceIp, h.carrierIp];
  do attacker = `127.0.0.${2 + Math.floor(Math.random() * 248)}`;
  while (taken.includes(attacker));
});
afterAll(async () => {
  await h.stop();
});
afterEach(async () => {
  const m = await h.money(dev.account.id);
  expect(m).toMatchObject({ reserved: 0, callsInProgress: 0, redisBalance: 1_000_000, postgresBalance: 1_000_000, costs: 0 });
  expect(h.settled).toEqual([]);
  expect(await h.sip.bindings.bindingsOf(`${dev.username}@${REALM}`)).toEqual([]);
});

/** A request written out in full; sipp fills in addresses, branch, tags and Call-ID. */
function raw(lines: string[], status: string) {
  return h.run({ scenario: 'raw-request.xml', user: dev.username, vars: { message: lines.map((l) => `      ${l}`).join('\n'), status } });
}

const via = 'Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]';
const from = 'From: <sip:[user]@[remote_ip]>;tag=[pid]SIPpTag00[call_number]';
const to = 'To: <sip:[user]@[remote_ip]>';

describe('abuse', () => {
  it('brute force of a SIP password bans the source; other sources are unaffected', async () => {
    clean(
      await h.run({
        scenario: 'register-refused.xml',
        ip: attacker,
        user: dev.username,
        password: 'guess-number-n',
        calls: THRESHOLD,
        rate: 20,
        vars: { status: '403' },
      }),
    );
    // banned now: even the right password is refused at once, without a challenge
    clean(await h.run({ scenario: 'register-once.xml', ip: attacker, user: dev.username, vars: { status: '403' } }));
    clean(await h.run({ scenario: 'register-once.xml', ip: attacker, user: dev.username, password: dev.password, vars: { status: '403' } }));
    // the device's own address still gets a challenge
    clean(await h.run({ scenario: 'register-once.xml', user: dev.username, vars: { status: '401' } }));
  });

  it('REGISTER without a To header: 400 Missing To header, nothing registered', async () => {
    clean(
      await raw(
        [
          'REGISTER sip:[remote_ip]:[remote_port] SIP/2.0',
          via,
          from,
          'Call-ID: [call_id]',
          'CSeq: 1 REGISTER',
          'Contact: <sip:[user]@[local_ip]:[local_port]>',
          'Max-Forwards: 70',
          'Content-Length: 0',
          '',
        ],
        '400',
      ),
    );
  });

  it('INVITE without a To header: 400 Missing To header, no call', async () => {
    clean(
      await raw(
        [
          'INVITE sip:00441632960001@[remote_ip]:[remote_port] SIP/2.0',
          via,
          from,
          'Call-ID: [call_id]',
          'CSeq: 1 INVITE',
          'Contact: <sip:[user]@[local_ip]:[local_port]>',
          'Max-Forwards: 70',
          'Content-Length: 0',
          '',
        ],
        '400',
      ),
    );
  });

  it('REGISTER with an unparseable Contact: 400', async () => {
    clean(
      await raw(
        [
          'REGISTER sip:[remote_ip]:[remote_port] SIP/2.0',
          via,
          from,
          to,
          'Call-ID: [call_id]',
          'CSeq: 1 REGISTER',
          'Contact: <sip:[user]@@;;;>>>',
          'Max-Forwards: 70',
          'Content-Length: 0',
          '',
        ],
        '400',
      ),
    );
  });

  it('REGISTER with a huge header: 400', async () => {
    clean(
      await raw(
        [
          'REGISTER sip:[remote_ip]:[remote_port] SIP/2.0',
          via,
          from,
          to,
          'Call-ID: [call_id]',
          'CSeq: 1 REGISTER',
          'Contact: <sip:[user]@[local_ip]:[local_port]>',
          `X-Padding: ${'a'.repeat(20_000)}`,
          'Max-Forwards: 70',
          'Content-Length: 0',
          '',
        ],
        '400',
      ),
    );
  });

  it('INVITE with a huge header: 400', async () => {
    clean(
      await raw(
        [
          'INVITE sip:00441632960001@[remote_ip]:[remote_port] SIP/2.0',
          via,
          from,
          to,
          'Call-ID: [call_id]',
          'CSeq: 1 INVITE',
          'Contact: <sip:[user]@[local_ip]:[local_port]>',
          `Subject: ${'x'.repeat(20_000)}`,
          'Max-Forwards: 70',
          'Content-Length: 0',
          '',
        ],
        '400',
      ),
    );
  });

  it('INVITE with garbage credentials: 400, counted nowhere as a call', async () => {
    clean(
      await raw(
        [
          'INVITE sip:00441632960001@[remote_ip]:[remote_port] SIP/2.0',
          via,
          from,
          to,
          'Call-ID: [call_id]',
          'CSeq: 1 INVITE',
          'Contact: <sip:[user]@[local_ip]:[local_port]>',
          'Proxy-Authorization: Digest username=, realm',
          'Max-Forwards: 70',
          'Content-Length: 0',
          '',
        ],
        '400',
      ),
    );
  });
});

/** A UDP socket on a loopback address that records every datagram it receives. */
async function listener(ip: string): Promise<{ socket: UdpSocket; port: number; got: string[]; next(timeoutMs?: number): Promise<string> }> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, ip, () => resolve());
  });
  const got: string[] = [];
  const waiters: Array<(m: string) => void> = [];
  socket.on('message', (m) => {
    got.push(m.toString());
    waiters.shift()?.(m.toString());
  });
  let read = 0;
  return {
    socket,
    port: socket.address().port,
    got,
    next(timeoutMs = 5000) {
      if (got.length > read) return Promise.resolve(got[read++]!);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`nothing arrived at ${ip}:${socket.address().port}`)), timeoutMs);
        waiters.push((m) => {
          clearTimeout(t);
          read++;
          resolve(m);
        });
      });
    },
  };
}

function options(callId: string, viaValue: string, extra = ''): string {
  return (
    `OPTIONS sip:${h.remote} SIP/2.0\r\nVia: ${viaValue}\r\nFrom: <sip:probe@example.invalid>;tag=f${callId}\r\n` +
    `To: <sip:${h.remote}>\r\nCall-ID: ${callId}\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n${extra}Content-Length: 0\r\n\r\n`
  );
}

describe('reflection (RFC 3261 §18.2.1, RFC 3581)', () => {
  /**
   * The victim proves that nothing reached it: it sends its own OPTIONS afterwards and its first
   * datagram must be the answer to that one (UDP over loopback keeps the order of one sender).
   */
  async function victimGotNothing(victim: Awaited<ReturnType<typeof listener>>): Promise<void> {
    const [ip, port] = h.remote.split(':');
    victim.socket.send(options('victim-own', `SIP/2.0/UDP ${h.deviceIp}:${victim.port};rport;branch=z9hG4bKvictim${Date.now()}`), Number(port), ip);
    const first = await victim.next();
    expect(first).toContain('Call-ID: victim-own');
    expect(victim.got).toHaveLength(1);
  }

  const forged: Array<[string, (sender: number, victim: { ip: string; port: number }) => string, string]> = [
    ['received= and rport= naming a third party', (s, v) => `SIP/2.0/UDP ${'SENDER'}:${s};received=${v.ip};rport=${v.port};branch=z9hG4bKforged1`, ''],
    ['received= naming a third party, sent-by its port', (_s, v) => `SIP/2.0/UDP ${v.ip}:${v.port};received=${v.ip};branch=z9hG4bKforged2`, ''],
    [
      'a malformed request (two Content-Lengths) answered 400',
      (s, v) => `SIP/2.0/UDP ${'SENDER'}:${s};received=${v.ip};rport=${v.port};branch=z9hG4bKforged3`,
      'Content-Length: 0\r\n',
    ],
  ];
  for (const [name, viaOf, extra] of forged) {
    it(`${name}: the answer goes to the packet's source, nothing to the forged address`, async () => {
      const sender = await listener(h.deviceIp);
      const victim = await listener(attacker);
      try {
        const [ip, port] = h.remote.split(':');
        const via = viaOf(sender.port, { ip: attacker, port: victim.port }).replace('SENDER', h.deviceIp);
        const callId = `reflect-${Math.random().toString(36).slice(2)}`;
        sender.socket.send(options(callId, via, extra), Number(port), ip);
        const answer = await sender.next();
        expect(answer).toContain(`Call-ID: ${callId}`);
        expect(answer).toMatch(extra === '' ? /^SIP\/2\.0 200 / : /^SIP\/2\.0 400 /);
        await victimGotNothing(victim);
      } finally {
        sender.socket.close();
        victim.socket.close();
      }
    });
  }
});
