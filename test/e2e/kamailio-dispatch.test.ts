/**
 * Several SIP servers behind Kamailio (Debian's kamailio 5.6 running sip-config/kamailio/kamailio.cfg):
 *
 *   sipp devices ──▶ Kamailio ──(Call-ID hash, OPTIONS probes)──▶ SIP server 1 ◀── app 1 ─┐
 *                       ▲                                    └─▶ SIP server 2 ◀── app 2 ─┤─▶ Redis, Postgres
 *                       └──── calls to devices, from either server ◀── carrier (sipp)   ─┘
 *
 * - calls from devices are spread over both servers, whole (challenge and retry on one server);
 * - a device registered through Kamailio is reached from a call entering at either server;
 * - a server taken away: new calls go to the survivor (an INVITE the dead server does not answer
 *   fails over within 2 s, and the probes take the server out), and the money holds.
 */
import { createSocket } from 'node:dgram';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { randomLoopback, randomPort } from '../support/edge-apps/ports.ts';
import { KamailioProcess, kamailioUnavailable } from '../support/kamailio-process.ts';
import { clean, SipAppHarness, startAppSipp } from '../support/sip-app-harness.ts';
import type { Device } from '../support/sip-app-harness.ts';
import { SIP_SERVER } from '../support/sip-server-under-test.ts';

const UK = '441632960001';
const DID = '+441632000888';
const unavailable = kamailioUnavailable() ?? (SIP_SERVER.kind !== 'edge' ? 'needs two embedded SIP servers' : undefined);
if (unavailable) console.warn(`kamailio tests skipped: ${unavailable}`);

let h: SipAppHarness;
let second: Awaited<ReturnType<SipAppHarness['addServer']>>;
let kam: KamailioProcess;
let dev: Device;
const deviceIp = randomLoopback();
const kamIp = otherLoopback([deviceIp]);

function otherLoopback(taken: string[]): string {
  for (;;) {
    const ip = randomLoopback();
    if (!taken.includes(ip)) return ip;
  }
}
/** SIP_SERVER_LOST_SECONDS: how long an app waits for its SIP server to come back before it gives up its calls. */
const SERVER_LOST_S = 2;
const HOLD_MS = 15_000;

describe.skipIf(unavailable !== undefined)('several SIP servers behind Kamailio', () => {
  beforeAll(async () => {
    h = await SipAppHarness.start('kamailio', { keepAliveSeconds: 1, sipServerLostSeconds: SERVER_LOST_S, trustedProxies: [kamIp] });
    second = await h.addServer();
    kam = new KamailioProcess({ ip: kamIp, servers: [h.edge.sipHostport, second.edge.sipHostport], probeIntervalSeconds: 1 });
    await kam.start();
    dev = await h.device(50_000_000);
    await h.s.pool.query('insert into dids (number, account_id) values ($1, $2)', [DID, dev.account.id]);
  }, 60_000);
  afterAll(async () => {
    await kam?.stop();
    await h?.stop();
  });
  afterEach(async () => {
    await h.expectMoneyInvariant();
  });

  /** `calls` device calls through Kamailio to the carrier, each held `holdMs` (sipp runs, not awaited). */
  function startDeviceCalls(calls: number, holdMs: number, rate: number) {
    const carrier = h.carrier(0, 'uas-answer-recv-bye.xml', { calls, timeoutSec: 60 });
    const devices = h.sipp({
      scenario: 'device-call.xml',
      ip: deviceIp,
      remote: kam.hostport,
      service: `00${UK}`,
      user: dev.username,
      password: dev.password,
      pauseMs: holdMs,
      calls,
      rate,
      timeoutSec: 60,
    });
    return { carrier, devices };
  }

  /** Device calls through Kamailio; resolves with how many each server's app answered. */
  async function deviceCalls(calls: number): Promise<{ first: number; second: number }> {
    const answeredBefore = h.answered.length;
    const secondBefore = second.answered.length;
    const settledBefore = h.settled.length;
    const { carrier, devices } = startDeviceCalls(calls, 300, 5);
    clean(await devices.done, await carrier.done);
    await h.waitSettled(settledBefore + calls, 30_000);
    const total = h.answered.length - answeredBefore;
    const onSecond = second.answered.length - secondBefore;
    return { first: total - onSecond, second: onSecond };
  }

  it('spreads device calls over both servers, each call whole on one', async () => {
    const spread = await deviceCalls(16);
    expect(spread.first + spread.second).toBe(16);
    expect(spread.first, JSON.stringify(spread)).toBeGreaterThan(0);
    expect(spread.second, JSON.stringify(spread)).toBeGreaterThan(0);
    await h.drain();
    const cdrs = (await h.cdrs(dev.account.id)).slice(-16);
    expect(cdrs.every((c) => c.disposition === 'answered' && c.billedSeconds > 0)).toBe(true);
    // the device's own address, read from the Via below Kamailio's (SIP_TRUSTED_PROXIES), not Kamailio's
    expect(new Set(cdrs.map((c) => c.sourceIp))).toEqual(new Set([deviceIp]));
  }, 90_000);

  it('reaches a device registered through Kamailio from a call entering at either server', async () => {
    const port = randomPort();
    clean(await h.run({ scenario: 'register.xml', ip: deviceIp, port, remote: kam.hostport, user: dev.username, password: dev.password }));
    const [binding] = await h.sip.bindings.bindingsOf(`${dev.username}@sip.test`);
    expect(binding?.source.address).toBe(kam.ip);
    for (const server of [h.edge, second.edge]) {
      const before = h.settled.length;
      const answers = h.sipp({ scenario: 'device-answer-behind-proxy.xml', ip: deviceIp, port, remote: undefined, vars: { cli: '+447700900555' } });
      const carrier = startAppSipp({ scenario: 'did-call.xml', ip: h.carrierIp, remote: server.sipHostport, service: DID, timeoutSec: 20, pauseMs: 500 });
      clean(await carrier.done, await answers.done);
      await h.waitSettled(before + 1);
      expect((await h.cdrs(dev.account.id)).at(-1)).toMatchObject({ kind: 'did', disposition: 'answered', device: dev.username });
    }
    clean(await h.run({ scenario: 'unregister.xml', ip: deviceIp, port, remote: kam.hostport, user: dev.username, password: dev.password }));
  }, 60_000);

  it("bans a guessing device by its own address, not the balancer's, and goes on serving the others", async () => {
    const attacker = otherLoopback([deviceIp, kamIp, h.carrierIp]);
    clean(
      await h.run({
        scenario: 'register-refused.xml',
        ip: attacker,
        remote: kam.hostport,
        user: 'guesser',
        password: 'guess-number-n',
        calls: 5,
        rate: 20,
        vars: { status: '403' },
      }),
    );
    // banned now: refused at once, without a challenge
    clean(await h.run({ scenario: 'register-once.xml', ip: attacker, remote: kam.hostport, user: dev.username, vars: { status: '403' } }));
    // every other device behind the same balancer still gets its challenge
    clean(await h.run({ scenario: 'register-once.xml', ip: deviceIp, remote: kam.hostport, user: dev.username, vars: { status: '401' } }));
  }, 60_000);

  it('reaches a device behind NAT at the address it registered from (its Contact names a private one)', async () => {
    const port = randomPort();
    clean(await h.run({ scenario: 'register-behind-nat.xml', ip: deviceIp, port, remote: kam.hostport, user: dev.username, password: dev.password }));
    const [binding] = await h.sip.bindings.bindingsOf(`${dev.username}@sip.test`);
    // Kamailio recorded where the REGISTER really came from in the Contact (nathelper's alias)
    expect(binding?.uri).toBe(`sip:${dev.username}@192.168.1.10:5062;alias=${deviceIp}~${port}~1`);
    const before = h.settled.length;
    const answers = h.sipp({ scenario: 'device-answer-behind-proxy.xml', ip: deviceIp, port, remote: undefined, vars: { cli: '+447700900555' } });
    const carrier = startAppSipp({ scenario: 'did-call.xml', ip: h.carrierIp, remote: second.edge.sipHostport, service: DID, timeoutSec: 20, pauseMs: 500 });
    clean(await carrier.done, await answers.done);
    await h.waitSettled(before + 1);
    expect((await h.cdrs(dev.account.id)).at(-1)).toMatchObject({ kind: 'did', disposition: 'answered', device: dev.username });
  }, 60_000);

  it('drops a flooding source (pike) and goes on answering others', async () => {
    const flood = await udpBurst(kam.ip, kam.port, randomLoopback(), 1200);
    expect(flood.sent).toBe(1200);
    expect(flood.answered).toBeLessThan(700);
    const calm = await udpBurst(kam.ip, kam.port, randomLoopback(), 20);
    expect(calm.answered).toBe(20);
  }, 30_000);

  // The server's dialogs die with it. Its app (still running) gives its calls up after
  // SIP_SERVER_LOST_SECONDS: it settles them and leaves their legs in the live-call registry, where
  // an app connected to a live server finds them and sends both legs a BYE through its own server
  // (the device's through Kamailio, by the route set it recorded). Without it, the calls would be
  // billed until the credit or the maximum call length ran out, and both ends would never hear a BYE.
  it("ends and settles a dead server's calls through the survivor, and sends new calls to the survivor", async () => {
    const calls = 8;
    const answeredBefore = h.answered.length;
    const onSecondBefore = second.answered.length;
    const settledBefore = h.settled.length;
    const { carrier, devices } = startDeviceCalls(calls, HOLD_MS, 10);
    await h.waitAnswered(answeredBefore + calls, 20_000);
    const onSecond = second.answered.slice(onSecondBefore).map((c) => c.facts.callId);
    expect(onSecond.length, 'calls on the server to be killed').toBeGreaterThan(0);
    expect(onSecond.length, 'calls on the surviving server').toBeLessThan(calls);
    const killedAt = Date.now();
    await second.kill();

    // the dead server's calls: settled within a few seconds, charged up to the loss (not to the hang-up 15 s later)
    const deadline = Date.now() + (SERVER_LOST_S + 8) * 1000;
    while (Date.now() < deadline && onSecond.some((id) => !second.settled.some((c) => c.facts.callId === id))) await new Promise((r) => setTimeout(r, 100));
    const settledAt = Date.now();
    for (const id of onSecond) {
      const call = second.settled.find((c) => c.facts.callId === id);
      expect(call, `call ${id} of the dead server settled`).toBeDefined();
      expect(call!.disposition).toBe('server_lost');
      expect(call!.endTime!).toBeLessThanOrEqual(killedAt + (SERVER_LOST_S + 2) * 1000);
    }
    expect(settledAt - killedAt).toBeLessThan((SERVER_LOST_S + 8) * 1000);

    // both legs of the dead server's calls got a BYE through the survivor: every carrier leg ends
    // with a BYE (the carrier's sipp run is clean), and each of those devices was sent one while it
    // was still talking (sipp counts it as an unexpected BYE)
    const [d, c] = [await devices.done, await carrier.done];
    // sipp answers a request where the call's INVITE came from (the dead server), not to the Via
    // as RFC 3261 18.2.2 and real carriers do: so the survivor's BYE is answered into the void, and
    // its retransmissions reach sipp as "dead call" events. Every call still ended with a BYE.
    expect(c.code, `${c.errors}\n${c.stdout.slice(-2000)}`).toBe(0); // sipp exits 0 only when every call succeeded
    const events = c.errors.split('\n').filter((l) => /^\d{4}-\d\d-\d\d\t/.test(l));
    expect(
      events.filter((l) => !/Dead call .* received 'BYE /.test(l)),
      c.errors,
    ).toEqual([]);
    expect(d.errors.match(/unexpected BYE/g)?.length ?? 0, d.errors).toBe(onSecond.length);
    await h.waitSettled(settledBefore + calls, 30_000);
    await h.drain();
    const cdrs = await h.cdrs(dev.account.id);
    for (const id of onSecond) {
      const cdr = cdrs.find((r) => r.callId === id);
      expect(cdr, `CDR of ${id}`).toBeDefined();
      const answeredAt = h.answered.find((a) => a.facts.callId === id)!.answerTime!;
      expect(cdr!.billedSeconds).toBeLessThanOrEqual(Math.ceil((killedAt - answeredAt) / 1000) + SERVER_LOST_S + 2);
    }

    // new calls go to the survivor (a first INVITE to the dead server fails over within 2 s)
    const spread = await deviceCalls(4);
    expect(spread).toEqual({ first: 4, second: 0 });
  }, 120_000);
});

/** `count` OPTIONS to Kamailio itself from one source address, as fast as the socket takes them; how many got an answer within 1 s of the last. */
async function udpBurst(host: string, port: number, from: string, count: number): Promise<{ sent: number; answered: number }> {
  const socket = createSocket('udp4');
  await new Promise<void>((res) => socket.bind(0, from, () => res()));
  const local = socket.address();
  let answered = 0;
  socket.on('message', (m) => {
    if (m.toString().startsWith('SIP/2.0 200')) answered++;
  });
  let sent = 0;
  for (let i = 0; i < count; i++) {
    const msg = [
      `OPTIONS sip:${host}:${port} SIP/2.0`,
      `Via: SIP/2.0/UDP ${local.address}:${local.port};branch=z9hG4bK-flood-${i}-${Date.now()}`,
      `From: <sip:flood@${local.address}>;tag=f${i}`,
      `To: <sip:${host}:${port}>`,
      `Call-ID: flood-${i}-${local.port}@${local.address}`,
      'CSeq: 1 OPTIONS',
      'Max-Forwards: 70',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    await new Promise<void>((res, rej) => socket.send(msg, port, host, (err) => (err ? rej(err) : res())));
    sent++;
  }
  await new Promise((r) => setTimeout(r, 1000));
  socket.close();
  return { sent, answered };
}
