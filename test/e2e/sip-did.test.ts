/**
 * Calls to personal numbers (DIDs) through the edge: a carrier's INVITE from its trusted address
 * rings every registered device of the account at once; the first to answer gets the call, the
 * other is CANCELled; 480 when none is registered; 404 for a number nobody has.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { randomPort } from '../support/edge-apps/ports.ts';
import { clean, SipAppHarness, startAppSipp } from '../support/sip-app-harness.ts';
import type { Device } from '../support/sip-app-harness.ts';

const DID = '+441632000777';
let h: SipAppHarness;
let dev: Device;

beforeAll(async () => {
  h = await SipAppHarness.start('sipdid');
  dev = await h.device(1_000_000);
  await h.s.pool.query('insert into dids (number, account_id) values ($1, $2)', [DID, dev.account.id]);
});
afterAll(async () => {
  await h.stop();
});
afterEach(async () => {
  const m = await h.money(dev.account.id);
  expect(m).toMatchObject({ reserved: 0, callsInProgress: 0, duplicateCdrs: 0, redisBalance: 1_000_000, postgresBalance: 1_000_000, costs: 0 });
});

/** The carrier, calling from its trusted address. */
function carrierCall(scenario: string, service: string, extra: { vars?: Record<string, string>; pauseMs?: number } = {}) {
  return startAppSipp({ scenario, ip: h.carrierIp, remote: h.remote, service, timeoutSec: 20, ...extra }).done;
}

describe('calls to a personal number', () => {
  it('480 when no device is registered', async () => {
    const before = h.settled.length;
    clean(await carrierCall('did-call-refused.xml', DID, { vars: { status: '480' } }));
    await h.waitSettled(before + 1);
    expect((await h.cdrs(dev.account.id)).at(-1)).toMatchObject({
      kind: 'did',
      disposition: 'unavailable',
      sipCode: 480,
      sipReason: 'Temporarily Unavailable',
      cost: 0,
      cli: '+447700900555',
      device: null,
    });
  });

  it('forks to two registered devices: one answers, the other gets CANCEL', async () => {
    const [p1, p2] = [randomPort(), randomPort()];
    // each device registers from the port it then listens on (the binding's source address is where calls go)
    clean(await h.run({ scenario: 'register.xml', user: dev.username, password: dev.password, port: p1 }));
    clean(await h.run({ scenario: 'register.xml', user: dev.username, password: dev.password, port: p2 }));
    expect(await h.sip.bindings.bindingsOf(`${dev.username}@sip.test`)).toHaveLength(2);
    const before = h.settled.length;
    // the answering device checks that it is shown the caller's number (From: "…" <sip:+447700900555@…>)
    const answers = h.sipp({ scenario: 'device-answer-caller-id.xml', port: p1, remote: undefined, vars: { cli: '+447700900555' } });
    const rings = h.sipp({ scenario: 'uas-ring-recv-cancel.xml', port: p2, remote: undefined });
    const carrier = carrierCall('did-call.xml', DID, { pauseMs: 1000 });
    clean(await carrier, await answers.done, await rings.done);
    await h.waitSettled(before + 1);
    const cdr = (await h.cdrs(dev.account.id)).at(-1);
    expect(cdr).toMatchObject({
      kind: 'did',
      disposition: 'answered',
      sipCode: 200,
      sipReason: 'OK',
      cost: 0,
      carrier: 'carrier-a',
      sourceIp: h.carrierIp,
      dialledNumber: DID,
      cli: '+447700900555',
      device: dev.username,
    });
    expect(cdr!.durationMs).toBeGreaterThanOrEqual(900);
  });

  it('the only device is busy: 486 to the carrier, the CDR says busy with the reason', async () => {
    const p = randomPort();
    clean(await h.run({ scenario: 'register.xml', user: dev.username, password: dev.password, port: p }));
    const before = h.settled.length;
    const busy = h.sipp({ scenario: 'uas-refuse.xml', port: p, remote: undefined, vars: { status: '486', reason: 'Busy Here' } });
    clean(await carrierCall('did-call-refused.xml', DID, { vars: { status: '486' } }), await busy.done);
    await h.waitSettled(before + 1);
    expect((await h.cdrs(dev.account.id)).at(-1)).toMatchObject({
      kind: 'did',
      disposition: 'busy',
      sipCode: 486,
      sipReason: 'Busy Here',
      cli: '+447700900555',
      device: null,
    });
    clean(await h.run({ scenario: 'unregister.xml', user: dev.username, password: dev.password, port: p }));
  });

  it('a number nobody has gets 404 from the carrier side', async () => {
    clean(await carrierCall('did-call-refused.xml', '+441632000999', { vars: { status: '404' } }));
  });

  it('the same INVITE from an untrusted address is challenged like any device (407)', async () => {
    const r = await h.run({
      scenario: 'device-call-refused.xml',
      service: DID,
      user: 'nobody',
      password: 'nothing-at-all',
      vars: { status: '403', reason: 'Forbidden' },
    });
    clean(r);
  });
});

describe('a CANCEL crossing the answer of a personal-number call', () => {
  // The app's messages reach the SIP server 200 ms late, so the carrier's CANCEL (300 ms after its
  // INVITE) reaches the server after the device has answered the app (at ~200 ms) and before the
  // app's 200 to the carrier (at ~400 ms): the server answers 487 itself and refuses the late 200.
  let h2: SipAppHarness;
  beforeAll(async () => {
    h2 = await SipAppHarness.start('sipdidcross', { appLinkSendDelayMs: 200 });
    // the app's registration of the methods it handles reaches the server late too
    await new Promise((r) => setTimeout(r, 600));
  });
  afterAll(async () => {
    await h2.stop();
  });

  it('the device that answered gets a BYE, the carrier its 487, and the call one CDR (cancelled, cost 0)', async () => {
    const d = await h2.device(1_000_000);
    await h2.s.pool.query('insert into dids (number, account_id) values ($1, $2)', ['+441632000778', d.account.id]);
    const port = randomPort();
    clean(await h2.run({ scenario: 'register.xml', user: d.username, password: d.password, port }));
    const before = h2.settled.length;
    // the device answers at once and waits for the BYE that must end its leg
    const device = h2.sipp({ scenario: 'uas-answer-recv-bye.xml', port, remote: undefined, timeoutSec: 15 });
    const carrier = startAppSipp({
      scenario: 'did-call-cancel.xml',
      ip: h2.carrierIp,
      remote: h2.remote,
      service: '+441632000778',
      pauseMs: 300,
      timeoutSec: 15,
    });
    clean(await carrier.done, await device.done);
    await h2.waitSettled(before + 1, 5000);
    const cdrs = await h2.cdrs(d.account.id);
    expect(cdrs).toHaveLength(1);
    expect(cdrs[0]).toMatchObject({ kind: 'did', disposition: 'cancelled', sipCode: 487, cost: 0 });
    expect(await h2.money(d.account.id)).toMatchObject({ reserved: 0, callsInProgress: 0, duplicateCdrs: 0, costs: 0 });
  });
});
