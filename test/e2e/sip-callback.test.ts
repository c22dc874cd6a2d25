/**
 * Callbacks placed through the edge (RFC 3725 flow I): the customer's phone (callMe, leg A) and
 * the number it is connected to (connectTo, leg B) are sipp UAS on two carriers' gateways. Leg A
 * gets an INVITE without SDP and answers with an offer, leg B is offered it, and A's ACK carries
 * B's answer (both checked by the scenarios). Both legs are reserved before anything is dialled,
 * supervised each on its own reservation, ended together and settled once each (two CDRs).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CallbackQueue } from '../../src/accounts/callback-queue.ts';
import { CallbackRequests } from '../../src/accounts/callbacks.ts';
import type { CallbackRequest } from '../../src/accounts/callbacks.ts';
import { readDialled } from '../../src/sip/call/dialled-number.ts';
import { callbackCallIds } from '../../src/sip/call/callback-call.ts';
import { onlyOnEdge } from '../support/sip-server-under-test.ts';
import { clean, cleanButLateByes, RATE_PER_SECOND, SipAppHarness } from '../support/sip-app-harness.ts';
import type { CdrRow, Device } from '../support/sip-app-harness.ts';

/** The customer's phone: carrier-a (gateway 0) carries 44207…; the destination: carrier-b (gateway 1) carries 44161…. */
const CALL_ME = '+442071234567';
const CONNECT_TO = '+441611234567';
const A = 0;
const B = 1;

let h: SipAppHarness;
let requests: CallbackRequests;

beforeAll(async () => {
  h = await SipAppHarness.start('sipcallback', { callback: true, gateways: 1, sliceSeconds: 2, extendLeadSeconds: 1, keepAliveSeconds: 1 });
  await h.s.pool.query(`update carrier_prefixes set prefix = '44207' where carrier_id = 'carrier-a'`);
  await h.addCarrier('carrier-b', 'Carrier B', '44161');
  // a second customer's phone (44208…) on carrier-c (gateway 2)
  await h.addCarrier('carrier-c', 'Carrier C', '44208');
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
  await h.expectMoneyInvariant();
});

async function request(dev: Device, callMe = CALL_ME): Promise<CallbackRequest> {
  return requests.request({ id: dev.account.id, country: 'GB', status: 'active' }, callMe, CONNECT_TO, 'self-care');
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

async function waitStatus(id: string, status: string, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while ((await requests.get(id))!.status !== status) {
    if (Date.now() > until) throw new Error(`callback ${id} never ${status}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

function legs(cdrs: CdrRow[], id: string): { a: CdrRow | undefined; b: CdrRow | undefined } {
  const ids = callbackCallIds(id);
  return { a: cdrs.find((c) => c.callId === ids.a), b: cdrs.find((c) => c.callId === ids.b) };
}

describe('callbacks', () => {
  it('connects both legs; the customer hangs up, both end; two CDRs, each billed its own seconds', async () => {
    const dev = await h.device(1_000_000);
    const before = h.settled.length;
    const phone = h.carrier(A, 'offerless-answer-send-bye.xml', { pauseMs: 2000 });
    const destination = h.carrier(B, 'uas-answer-recv-bye.xml');
    const r = await request(dev);
    // while connected, both legs are in the live-call registry (another process could end them)
    await waitStatus(r.id, 'connected');
    const live = `${h.s.namespace}:sip:live`;
    await expect
      .poll(async () => h.s.redis.zrange(live, '0', '-1'))
      .toEqual(expect.arrayContaining([`${dev.account.id}:${callbackCallIds(r.id).a}`, `${dev.account.id}:${callbackCallIds(r.id).b}`]));
    const stored = JSON.parse((await h.s.redis.hget(`${live}:${dev.account.id}:${callbackCallIds(r.id).a}`, 'legs'))!) as { caller: unknown; callee: unknown };
    expect(stored.caller).toMatchObject({ transport: 'udp' });
    expect(stored.callee).toMatchObject({ transport: 'udp' });
    clean(await phone.done, await destination.done);
    await h.waitSettled(before + 2);
    const done = await waitEnded(r.id);
    const ids = callbackCallIds(r.id);
    expect(done).toMatchObject({ status: 'completed', legACallId: ids.a, legBCallId: ids.b });
    const { a, b } = legs(await h.cdrs(dev.account.id), r.id);
    expect(a).toMatchObject({ kind: 'callback', disposition: 'answered', sipCode: 200, carrier: 'carrier-a', destination: '442071234567' });
    expect(b).toMatchObject({ kind: 'callback', disposition: 'answered', sipCode: 200, carrier: 'carrier-b', destination: '441611234567' });
    expect(b!.billedSeconds).toBeGreaterThanOrEqual(2);
    expect(a!.billedSeconds).toBeGreaterThanOrEqual(b!.billedSeconds);
    expect(a!.cost).toBe(a!.billedSeconds * RATE_PER_SECOND);
    expect(b!.cost).toBe(b!.billedSeconds * RATE_PER_SECOND);
    const m = await h.money(dev.account.id);
    expect(m.redisBalance).toBe(1_000_000 - a!.cost - b!.cost);
    // nothing left in the live-call registry
    await expect.poll(() => h.s.redis.zcard(live)).toBe(0);
  });

  it('requests are placed side by side: the customer who answers at once is connected while the first one still rings; both connected, both completed', async () => {
    const dev = await h.device(1_000_000);
    const other = await h.device(1_000_000);
    const before = h.settled.length;
    // the first customer's phone rings 3 s before it is answered, the second answers at once
    const late = h.carrier(A, 'offerless-ring-answer-recv-bye.xml', { pauseMs: 3000 });
    const quick = h.carrier(2, 'offerless-answer-recv-bye.xml');
    const destinations = h.carrier(B, 'uas-answer-send-bye.xml', { calls: 2, pauseMs: 1000 });
    const first = await request(dev);
    await waitStatus(first.id, 'calling-a');
    const second = await request(other, '+442081234567');
    await waitStatus(second.id, 'connected');
    // placing the second did not wait for the first customer to answer
    expect((await requests.get(first.id))!.status).toBe('calling-a');
    clean(await late.done, await quick.done, await destinations.done);
    await h.waitSettled(before + 4);
    expect(await waitEnded(first.id)).toMatchObject({ status: 'completed' });
    expect(await waitEnded(second.id)).toMatchObject({ status: 'completed' });
    const a1 = legs(await h.cdrs(dev.account.id), first.id).a!;
    const a2 = legs(await h.cdrs(other.account.id), second.id).a!;
    expect([a1.disposition, a2.disposition]).toEqual(['answered', 'answered']);
    expect(a2.carrier).toBe('carrier-c');
  });

  it('the destination hangs up: the customer gets a BYE, the request completed', async () => {
    const dev = await h.device(1_000_000);
    const before = h.settled.length;
    const phone = h.carrier(A, 'offerless-answer-recv-bye.xml');
    const destination = h.carrier(B, 'uas-answer-send-bye.xml', { pauseMs: 1000 });
    const r = await request(dev);
    clean(await phone.done, await destination.done);
    await h.waitSettled(before + 2);
    expect((await waitEnded(r.id)).status).toBe('completed');
    const { a, b } = legs(await h.cdrs(dev.account.id), r.id);
    expect(a).toMatchObject({ disposition: 'answered', sipCode: 200 });
    expect(b).toMatchObject({ disposition: 'answered', sipCode: 200 });
    expect(b!.billedSeconds).toBeGreaterThanOrEqual(1);
  });

  it('the customer busy: nothing dialled to the destination, nothing charged, the request failed', async () => {
    const dev = await h.device(1_000_000);
    const before = h.settled.length;
    const phone = h.carrier(A, 'uas-refuse.xml', { vars: { status: '486', reason: 'Busy Here' } });
    const r = await request(dev);
    clean(await phone.done);
    await h.waitSettled(before + 2);
    const done = await waitEnded(r.id);
    expect(done.status).toBe('failed');
    expect(done.reason).toMatch(/callMe: 486/);
    const { a, b } = legs(await h.cdrs(dev.account.id), r.id);
    expect(a).toMatchObject({ disposition: 'busy', sipCode: 486, cost: 0, billedSeconds: 0 });
    expect(b).toMatchObject({ disposition: 'cancelled', cost: 0, billedSeconds: 0, carrier: null });
    expect((await h.money(dev.account.id)).redisBalance).toBe(1_000_000);
  });

  it('the customer answered, the destination refuses: the customer is hung up and charged only their answered seconds', async () => {
    const dev = await h.device(1_000_000);
    const before = h.settled.length;
    const phone = h.carrier(A, 'offerless-answer-recv-bye.xml');
    const destination = h.carrier(B, 'uas-refuse.xml', { vars: { status: '486', reason: 'Busy Here' } });
    const r = await request(dev);
    clean(await phone.done, await destination.done);
    await h.waitSettled(before + 2);
    const done = await waitEnded(r.id);
    expect(done.status).toBe('failed');
    expect(done.reason).toMatch(/connectTo: 486/);
    const { a, b } = legs(await h.cdrs(dev.account.id), r.id);
    expect(a).toMatchObject({ disposition: 'answered', sipCode: 200 });
    expect(a!.cost).toBe(a!.billedSeconds * RATE_PER_SECOND);
    expect(a!.billedSeconds).toBeLessThanOrEqual(Math.ceil(a!.durationMs / 1000));
    expect(b).toMatchObject({ disposition: 'busy', sipCode: 486, cost: 0, billedSeconds: 0 });
    expect((await h.money(dev.account.id)).redisBalance).toBe(1_000_000 - a!.cost);
  });

  it('the destination does not answer: the customer is hung up at the no-answer deadline and billed the seconds they waited', async () => {
    const dev = await h.device(1_000_000);
    const before = h.settled.length;
    const phone = h.carrier(A, 'offerless-answer-recv-bye.xml');
    const destination = h.carrier(B, 'uas-ring-recv-cancel.xml');
    const r = await request(dev);
    clean(await phone.done, await destination.done);
    await h.waitSettled(before + 2);
    const done = await waitEnded(r.id);
    expect(done).toMatchObject({ status: 'failed', reason: 'connectTo: 480 No Answer' });
    const { a, b } = legs(await h.cdrs(dev.account.id), r.id);
    // the no-answer deadline is 5 s: the customer's phone was off-hook that long
    expect(a).toMatchObject({ disposition: 'answered', sipCode: 200 });
    expect(a!.billedSeconds).toBeGreaterThanOrEqual(5);
    expect(a!.billedSeconds).toBeLessThanOrEqual(7);
    expect(a!.cost).toBe(a!.billedSeconds * RATE_PER_SECOND);
    expect(b).toMatchObject({ disposition: 'no_answer', cost: 0, billedSeconds: 0 });
    expect((await h.money(dev.account.id)).redisBalance).toBe(1_000_000 - a!.cost);
  });

  it('a menu request to a call server without a media server: failed before anything is dialled, nothing charged', async () => {
    const dev = await h.device(1_000_000);
    const attemptsBefore = h.gatewayEvents.filter((e) => e.kind === 'attempt').length;
    const r = await requests.request({ id: dev.account.id, country: 'GB', status: 'active' }, CALL_ME, null, 'self-care');
    expect(await waitEnded(r.id)).toMatchObject({
      status: 'failed',
      reason: 'the menu is not offered by this call server (no media server)',
      legACallId: null,
    });
    expect(h.gatewayEvents.filter((e) => e.kind === 'attempt').length).toBe(attemptsBefore);
    expect(await h.cdrs(dev.account.id)).toEqual([]);
    expect((await h.money(dev.account.id)).redisBalance).toBe(1_000_000);
  });

  it('credit for leg A but not for leg B: refused before anything is dialled, nothing charged, the request failed', async () => {
    const dev = await h.device(RATE_PER_SECOND);
    const before = h.settled.length;
    const attemptsBefore = h.gatewayEvents.filter((e) => e.kind === 'attempt').length;
    const r = await request(dev);
    await h.waitSettled(before + 2);
    const done = await waitEnded(r.id);
    expect(done.status).toBe('failed');
    expect(done.reason).toBe('connectTo: INSUFFICIENT_CREDIT');
    const { a, b } = legs(await h.cdrs(dev.account.id), r.id);
    expect(a).toMatchObject({ disposition: 'cancelled', cost: 0, carrier: null });
    expect(b).toMatchObject({ disposition: 'refused', sipCode: 402, cost: 0, carrier: null });
    expect(h.gatewayEvents.filter((e) => e.kind === 'attempt').length).toBe(attemptsBefore);
    expect((await h.money(dev.account.id)).redisBalance).toBe(RATE_PER_SECOND);
  });

  it('the credit runs out: both legs are cut, the two legs together never cost more than the balance', async () => {
    const credit = 8 * RATE_PER_SECOND;
    const dev = await h.device(credit);
    const before = h.settled.length;
    const phone = h.carrier(A, 'offerless-answer-recv-bye.xml');
    const destination = h.carrier(B, 'uas-answer-recv-bye.xml');
    const r = await request(dev);
    clean(await phone.done, await destination.done);
    await h.waitSettled(before + 2);
    const done = await waitEnded(r.id);
    expect(done.status).toBe('completed');
    const { a, b } = legs(await h.cdrs(dev.account.id), r.id);
    expect([a!.disposition, b!.disposition]).toContain('credit_exhausted');
    expect(b!.billedSeconds).toBeGreaterThan(0);
    const m = await h.money(dev.account.id);
    expect(a!.cost + b!.cost).toBeLessThanOrEqual(credit);
    // cut at the paid second: at most a second of each leg's credit is left unused
    expect(m.redisBalance).toBeGreaterThanOrEqual(0);
    expect(m.redisBalance).toBeLessThanOrEqual(2 * RATE_PER_SECOND);
  });

  it.skipIf(onlyOnEdge)('the SIP server restarts while connected: both phones get a BYE from the stored legs, both legs settled', async () => {
    const dev = await h.device(1_000_000);
    const before = h.settled.length;
    const phone = h.carrier(A, 'offerless-answer-recv-bye.xml', { timeoutSec: 15 });
    const destination = h.carrier(B, 'uas-answer-recv-bye.xml', { timeoutSec: 15 });
    try {
      const r = await request(dev);
      await waitStatus(r.id, 'connected');
      await h.restartEdge();
      await h.waitSettled(before + 2);
      expect((await waitEnded(r.id)).status).toBe('completed');
      const { a, b } = legs(await h.cdrs(dev.account.id), r.id);
      expect([a!.disposition, b!.disposition]).toContain('signalling_lost');
      // the restarted server knew neither dialog: both phones still got their BYE
      clean(await phone.done, await destination.done);
    } finally {
      phone.kill();
      destination.kill();
    }
  });

  it('the process placing it dies while connected: another process ends both legs from the registry and settles both', async () => {
    const dev = await h.device(1_000_000);
    const phone = h.carrier(A, 'offerless-answer-recv-bye.xml', { timeoutSec: 20 });
    const destination = h.carrier(B, 'uas-answer-recv-bye.xml', { timeoutSec: 20 });
    try {
      const r = await request(dev);
      await waitStatus(r.id, 'connected');
      await h.addApp();
      // this process stops: no more keep-alives, no BYE, no settling from it
      h.sip.stop();
      // the BYEs come from the reaper through the test's SIP server (T1 = 50 ms): a retransmitted copy may arrive after the 200
      cleanButLateByes(await phone.done, await destination.done);
      const ids = callbackCallIds(r.id);
      await expect.poll(async () => (await h.cdrs(dev.account.id)).filter((c) => c.callId === ids.a || c.callId === ids.b).length, { timeout: 15_000 }).toBe(2);
      const { a, b } = legs(await h.cdrs(dev.account.id), r.id);
      expect(a).toMatchObject({ disposition: 'orphaned' });
      expect(b).toMatchObject({ disposition: 'orphaned' });
    } finally {
      phone.kill();
      destination.kill();
    }
  });
});
