/**
 * Menu callbacks over real SIP and RTP: the platform calls the customer (leg A, an INVITE without
 * SDP to carrier A's gateway, where an answering phone offers its RTP address) and the embedded
 * media server answers that offer in the ACK; the customer is then in the access-number menu,
 * logged in as the requesting account (no PIN), and keys a destination or a speed dial as RFC 4733
 * events. Each call placed from the menu is a leg B to carrier B's gateway (sipp UAS), with its own
 * reservation and CDR linked to the request. The money invariant is checked after each test.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CallbackQueue } from '../../src/accounts/callback-queue.ts';
import { CallbackRequests } from '../../src/accounts/callbacks.ts';
import type { CallbackRequest } from '../../src/accounts/callbacks.ts';
import { SpeedDials } from '../../src/accounts/speed-dials.ts';
import { Vouchers } from '../../src/accounts/vouchers.ts';
import { callbackCallIds } from '../../src/sip/call/callback-call.ts';
import { normaliseDialled, readDialled } from '../../src/sip/call/dialled-number.ts';
import { IvrState } from '../../src/sip/ivr/ivr-state.ts';
import { randomPort } from '../support/edge-apps/ports.ts';
import { IvrCaller } from '../support/ivr-caller.ts';
import { keyAt } from '../support/ivr-suite.ts';
import { clean, RATE_PER_SECOND, SipAppHarness, VOUCHER_KEY } from '../support/sip-app-harness.ts';
import type { CdrRow, Device } from '../support/sip-app-harness.ts';

/** The customer's phone: carrier-a (gateway 0) carries 44207…; the destinations: carrier-b (gateway 1) carries 44161…. */
const CALL_ME = '+442071234567';
const DESTINATION = '441611234567';
const B = 1;

let h: SipAppHarness;
let requests: CallbackRequests;
const phones: IvrCaller[] = [];

beforeAll(async () => {
  const base = 2 * Math.floor(randomPort() / 2);
  h = await SipAppHarness.start('sipcbmenu', {
    callback: true,
    gateways: 1,
    sliceSeconds: 4,
    extendLeadSeconds: 2,
    keepAliveSeconds: 1,
    media: { portMin: base, portMax: base + 40 },
    voucherAttempts: 3,
    ivr: { menuHints: false, firstDigitMs: 6000, interDigitMs: 1500 },
  });
  await h.s.pool.query(`update carrier_prefixes set prefix = '44207' where carrier_id = 'carrier-a'`);
  await h.addCarrier('carrier-b', 'Carrier B', '44161');
  requests = new CallbackRequests(
    h.s.pool,
    h.s.redis,
    new CallbackQueue(h.s.redis, h.s.namespace),
    { read: readDialled, isBlocked: () => Promise.resolve(false) },
    { enabled: true, namespace: h.s.namespace, key: 'callback-test-key', maxPerHour: 100, maxPerNumberPerHour: 100 },
  );
});
afterAll(async () => {
  await h.stop();
});
afterEach(async () => {
  await Promise.all(phones.splice(0).map((p) => p.close()));
  await h.expectMoneyInvariant();
  expect(h.sip.media?.sessionCount).toBe(0);
});

/** The customer's phone, answering on carrier A's gateway. */
async function phone(): Promise<IvrCaller> {
  const p = await IvrCaller.answering({ ip: h.carrierIp, port: h.gatewayPorts[0]! });
  phones.push(p);
  return p;
}

async function menuRequest(dev: Device): Promise<CallbackRequest> {
  return requests.request({ id: dev.account.id, country: 'GB', status: 'active' }, CALL_ME, null, 'self-care');
}

async function waitEnded(id: string, timeoutMs = 20_000): Promise<CallbackRequest> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const r = (await requests.get(id))!;
    if (r.status === 'completed' || r.status === 'failed') return r;
    if (Date.now() > until) throw new Error(`callback ${id} still ${r.status}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

function legOf(cdrs: CdrRow[], callId: string): CdrRow | undefined {
  return cdrs.find((c) => c.callId === callId);
}

describe('menu callbacks', () => {
  it('answered into the menu with no PIN; the keyed destination is connected; two CDRs linked to the request, each with its own seconds and cost', async () => {
    const dev = await h.device(1_000_000);
    const before = h.settled.length;
    const p = await phone();
    const destination = h.carrier(B, 'uas-answer-send-bye.xml', { pauseMs: 2000, timeoutSec: 30 });
    const r = await menuRequest(dev);
    expect(r.connectTo).toBeNull();
    const ids = callbackCallIds(r.id);
    await p.waitAnswered();
    // no PIN asked: the balance, then the destination prompt
    await p.expectHeard(['you-have'], { anywhere: true });
    await keyAt(p, 'enter-destination', `0${DESTINATION.slice(2)}#`);
    await p.expectHeard(['connecting'], { anywhere: true });
    await h.waitIvrState(ids.a, IvrState.Connected);
    // leg B is in the live-call registry beside leg A
    const live = `${h.s.namespace}:sip:live`;
    await expect
      .poll(async () => h.s.redis.zrange(live, '0', '-1'))
      .toEqual(expect.arrayContaining([`${dev.account.id}:${ids.a}`, `${dev.account.id}:${ids.b}`]));
    clean(await destination.done);
    // the destination hung up: back in the menu (another call?), the customer hangs up
    await h.waitIvrState(ids.a, IvrState.AnotherCall);
    await p.hangup();
    await h.waitSettled(before + 2);
    const done = await waitEnded(r.id);
    expect(done).toMatchObject({ status: 'completed', legACallId: ids.a, legBCallId: ids.b, connectTo: null });
    const cdrs = await h.cdrs(dev.account.id);
    const a = legOf(cdrs, ids.a);
    const b = legOf(cdrs, ids.b);
    expect(a).toMatchObject({ kind: 'callback', disposition: 'answered', sipCode: 200, carrier: 'carrier-a', destination: '442071234567' });
    expect(b).toMatchObject({
      kind: 'callback',
      disposition: 'answered',
      sipCode: 200,
      carrier: 'carrier-b',
      destination: DESTINATION,
      dialledNumber: `0${DESTINATION.slice(2)}`,
    });
    expect(b!.billedSeconds).toBeGreaterThanOrEqual(2);
    // A was up before B was dialled and after it ended
    expect(a!.billedSeconds).toBeGreaterThan(b!.billedSeconds);
    expect(a!.cost).toBe(a!.billedSeconds * RATE_PER_SECOND);
    expect(b!.cost).toBe(b!.billedSeconds * RATE_PER_SECOND);
    expect((await h.money(dev.account.id)).redisBalance).toBe(1_000_000 - a!.cost - b!.cost);
    await expect.poll(() => h.s.redis.zcard(live)).toBe(0);
  });

  it('a speed dial from the menu: * 7 # calls the number it stands for; the CDR keeps *7', async () => {
    const dev = await h.device(1_000_000);
    await new SpeedDials(h.s.pool, normaliseDialled).set(dev.account, 7, 'Office', `+${DESTINATION}`);
    const before = h.settled.length;
    const p = await phone();
    const destination = h.carrier(B, 'uas-answer-recv-bye.xml', { timeoutSec: 30 });
    const r = await menuRequest(dev);
    const ids = callbackCallIds(r.id);
    await p.waitAnswered();
    await keyAt(p, 'enter-destination', '*7#');
    await h.waitIvrState(ids.a, IvrState.Connected);
    await p.hangup();
    clean(await destination.done);
    await h.waitSettled(before + 2);
    expect((await waitEnded(r.id)).status).toBe('completed');
    const b = legOf(await h.cdrs(dev.account.id), ids.b);
    expect(b).toMatchObject({ kind: 'callback', disposition: 'answered', dialledNumber: '*7', destination: DESTINATION, carrier: 'carrier-b' });
  });

  it('the customer hangs up in the menu: only leg A is billed, for its answered seconds; the request completed', async () => {
    const dev = await h.device(1_000_000);
    const before = h.settled.length;
    const p = await phone();
    const r = await menuRequest(dev);
    const ids = callbackCallIds(r.id);
    await p.waitAnswered();
    await h.waitIvrState(ids.a, IvrState.Destination);
    // while in the menu, leg A is in the live-call registry on its own
    const live = `${h.s.namespace}:sip:live`;
    await expect.poll(async () => h.s.redis.zrange(live, '0', '-1')).toEqual([`${dev.account.id}:${ids.a}`]);
    const stored = JSON.parse((await h.s.redis.hget(`${live}:${dev.account.id}:${ids.a}`, 'legs'))!) as { caller: unknown; callee?: unknown };
    expect(stored.caller).toMatchObject({ transport: 'udp', callId: p.callId });
    expect(stored.callee).toBeUndefined();
    await p.hangup();
    await h.waitSettled(before + 1);
    const done = await waitEnded(r.id);
    expect(done).toMatchObject({ status: 'completed', legACallId: ids.a, legBCallId: null });
    const cdrs = (await h.cdrs(dev.account.id)).filter((c) => c.callId.startsWith(`callback-${r.id}`));
    expect(cdrs).toHaveLength(1);
    const a = cdrs[0]!;
    expect(a).toMatchObject({ callId: ids.a, kind: 'callback', disposition: 'answered' });
    expect(a.billedSeconds).toBeGreaterThan(0);
    expect(a.billedSeconds).toBeLessThanOrEqual(Math.ceil(a.durationMs / 1000));
    expect(a.cost).toBe(a.billedSeconds * RATE_PER_SECOND);
    expect((await h.money(dev.account.id)).redisBalance).toBe(1_000_000 - a.cost);
    await expect.poll(() => h.s.redis.zcard(live)).toBe(0);
  });

  it('a voucher from the menu: 9, the code and #; the account is topped up, the customer is back at the destination prompt', async () => {
    const dev = await h.device(1_000_000);
    const before = h.settled.length;
    const vouchers = new Vouchers(h.s.pool, h.s.store, VOUCHER_KEY);
    const { codes } = await vouchers.createBatch(
      { name: 'menu callback test', count: 1, value: 5_000_000, currency: 'GBP', expiresAt: new Date(Date.now() + 86_400_000) },
      'test',
    );
    const p = await phone();
    const r = await menuRequest(dev);
    const ids = callbackCallIds(r.id);
    await p.waitAnswered();
    await keyAt(p, 'enter-destination', '9');
    await keyAt(p, 'enter-voucher', `${codes[0]!}#`);
    await p.expectHeard(['voucher-accepted'], { anywhere: true });
    await p.waitPrompt('enter-destination');
    expect((await h.s.store.get(dev.account.id))!.balance).toBe(6_000_000);
    await p.hangup();
    await h.waitSettled(before + 1);
    await h.waitIvrState(ids.a, IvrState.Ended);
    const a = legOf(await h.cdrs(dev.account.id), ids.a)!;
    expect((await h.money(dev.account.id)).redisBalance).toBe(6_000_000 - a.cost);
  });

  it('the credit runs out during leg B: both legs are cut, together never more than the balance', async () => {
    const credit = 30 * RATE_PER_SECOND;
    const dev = await h.device(credit);
    const before = h.settled.length;
    const p = await phone();
    const destination = h.carrier(B, 'uas-answer-recv-bye.xml', { timeoutSec: 40 });
    const r = await menuRequest(dev);
    const ids = callbackCallIds(r.id);
    await p.waitAnswered();
    await keyAt(p, 'enter-destination', `0${DESTINATION.slice(2)}#`);
    await h.waitIvrState(ids.a, IvrState.Connected);
    // nobody hangs up: the credit ends both legs
    clean(await destination.done);
    await p.waitBye(30_000);
    await h.waitSettled(before + 2, 30_000);
    expect((await waitEnded(r.id)).status).toBe('completed');
    const cdrs = await h.cdrs(dev.account.id);
    const a = legOf(cdrs, ids.a)!;
    const b = legOf(cdrs, ids.b)!;
    expect([a.disposition, b.disposition]).toContain('credit_exhausted');
    expect(b.billedSeconds).toBeGreaterThan(0);
    expect(a.cost + b.cost).toBeLessThanOrEqual(credit);
    const m = await h.money(dev.account.id);
    expect(m.redisBalance).toBe(credit - a.cost - b.cost);
    expect(m.redisBalance).toBeGreaterThanOrEqual(0);
  });
});
