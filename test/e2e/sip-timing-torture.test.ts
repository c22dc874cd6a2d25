/**
 * Timing torture: device calls whose messages arrive 0 ms later than the app expects, at 25 calls
 * per second, over real SIP through the embedded edge:
 *
 *   BYE 0–50 ms after the ACK · BYE before the ACK (crossing the 200) · CANCEL crossing the 200 ·
 *   the carrier's BYE right after its 200 · a re-INVITE right after the ACK, from either side
 *
 * The app reaches the edge through a proxy that passes the edge's frames on every 10 ms, so the
 * app reads several at once, as a busy app does (the answer's confirmation and the BYE after it in
 * one read is what lost BYEs on main). For every call: exactly one CDR; the billed duration within
 * a second of what the caller held; no carrier leg left up; and after each scenario the money
 * invariant, no open reservation and nothing left in the live-call registry.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RATE_PER_SECOND, SipAppHarness } from '../support/sip-app-harness.ts';
import type { Device } from '../support/sip-app-harness.ts';
import { TortureCarrier, TortureDevice } from '../support/torture-peers.ts';
import type { DeviceCallResult, TortureScenario } from '../support/torture-peers.ts';

const UK = '00441632960001';
const CALLS = 20;
const CPS = 25;

let h: SipAppHarness;
let carrier: TortureCarrier;
let dev: Device;

beforeAll(async () => {
  // a long maximum: a lost BYE shows as a call still open, not as one cut by the hard limit
  h = await SipAppHarness.start('torture', { appLinkBatchMs: 10, maxCallSeconds: 600, accountCps: 1000, keepAliveSeconds: 1 });
  carrier = await TortureCarrier.listen(h.carrierIp, h.gatewayPorts[0]!);
  dev = await h.device(50_000_000, { maxConcurrentCalls: 500 });
});
afterAll(async () => {
  await carrier.close();
  await h.stop();
});
afterEach(async () => {
  expect(await h.s.store.listOpenCalls(dev.account.id)).toEqual([]);
  // no answered call left in the live-call registry either (each was removed as it ended)
  expect(await h.s.redis.zcard(`${h.s.namespace}:sip:live`)).toBe(0);
  await h.expectMoneyInvariant();
});

/** `CALLS` calls of one scenario, one every 1000/CPS ms, each with its own option draw. */
async function burst(scenario: TortureScenario, draw: (i: number) => { holdMs?: number; cancelAfterMs?: number } = () => ({})): Promise<DeviceCallResult[]> {
  const before = h.settled.length;
  const calls: Promise<DeviceCallResult>[] = [];
  for (let i = 0; i < CALLS; i++) {
    calls.push(TortureDevice.run({ ip: h.deviceIp, edge: h.remote, user: dev.username, password: dev.password, dial: UK, scenario, ...draw(i) }));
    await new Promise((r) => setTimeout(r, 1000 / CPS));
  }
  const results = await Promise.all(calls);
  // every call settles (a lost BYE leaves its call open: this wait then fails)
  await h.waitSettled(before + CALLS, 8000);
  return results;
}

/** One CDR per call, with the held time billed (±1 s), and no carrier leg left up. */
async function expectBilledAsHeld(results: DeviceCallResult[]): Promise<void> {
  const cdrs = await h.cdrs(dev.account.id);
  for (const r of results) {
    const mine = cdrs.filter((c) => c.callId === r.callId);
    expect(mine, `${r.scenario} ${r.callId}`).toHaveLength(1);
    const cdr = mine[0]!;
    if (r.status === 200) {
      expect(cdr.disposition, r.callId).toBe('answered');
      expect(Math.abs(cdr.durationMs - r.heldMs), `${r.callId}: held ${r.heldMs} ms, billed ${cdr.durationMs} ms`).toBeLessThanOrEqual(1000);
      expect(cdr.cost).toBe(cdr.billedSeconds * RATE_PER_SECOND);
      if (r.endedBy === 'caller') expect(r.byeStatus, r.callId).toBe(200);
    } else {
      expect(r.status, r.callId).toBe(487);
      expect(cdr).toMatchObject({ disposition: 'cancelled', sipCode: 487, cost: 0, billedSeconds: 0 });
    }
  }
  // the carrier's answered legs have all been ended; wait for the last BYEs to land
  const until = Date.now() + 5000;
  while (carrier.openLegs().length > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  expect(carrier.openLegs()).toEqual([]);
}

const uniform = (min: number, max: number) => min + Math.floor(Math.random() * (max - min + 1));

describe('timing torture at 25 calls per second', () => {
  it('sipp devices hanging up at once after the ACK (hold 0, 20 calls at 20 per second): every BYE ends its call', async () => {
    const before = h.settled.length;
    const run = await h.run({ scenario: 'device-call.xml', service: UK, user: dev.username, password: dev.password, pauseMs: 0, calls: 20, rate: 20 });
    expect(run.errors, run.stdout.slice(-2000)).toBe('');
    expect(run.code).toBe(0);
    const settled = (await h.waitSettled(before + 20, 8000)).slice(before);
    for (const c of settled) expect(c.cdr().durationMs, c.facts.callId).toBeLessThan(1000);
    const cdrs = await h.cdrs(dev.account.id);
    for (const c of settled) expect(cdrs.filter((r) => r.callId === c.facts.callId)).toHaveLength(1);
  });

  it('BYE 0–50 ms after the ACK: every call ends, billed for what was held', async () => {
    const results = await burst('bye-after-ack', () => ({ holdMs: uniform(0, 50) }));
    expect(results.every((r) => r.status === 200 && r.endedBy === 'caller')).toBe(true);
    await expectBilledAsHeld(results);
  });

  it('BYE before the ACK, crossing the 200: every call ends at once', async () => {
    const results = await burst('bye-before-ack');
    expect(results.every((r) => r.status === 200)).toBe(true);
    await expectBilledAsHeld(results);
  });

  it('CANCEL crossing the 200: cancelled (487, cost 0) or answered and ended, never left up', async () => {
    const results = await burst('cancel-cross', () => ({ cancelAfterMs: uniform(0, 20) }));
    for (const r of results) expect([200, 487]).toContain(r.status);
    // an answered call was ended by the switch (CANCEL after 200) or by the caller; either way promptly
    for (const r of results.filter((x) => x.status === 200)) expect(r.heldMs).toBeLessThan(2500);
    await expectBilledAsHeld(results);
  });

  it("the carrier's BYE right after its 200: the caller gets a BYE, billed for what was held", async () => {
    const results = await burst('carrier-bye');
    for (const r of results) expect(r).toMatchObject({ status: 200, endedBy: 'switch' });
    await expectBilledAsHeld(results);
  });

  it("the carrier's BYE sent with its 200, before the switch's ACK reaches it: the caller gets a BYE, billed for what was held", async () => {
    const results = await burst('carrier-bye-before-ack');
    for (const r of results) expect(r).toMatchObject({ status: 200, endedBy: 'switch' });
    await expectBilledAsHeld(results);
  });

  it("the carrier's re-INVITE right after its ACK (while the B2BUA still holds the callee's requests), then a hang-up 1 s later", async () => {
    const results = await burst('carrier-reinvite', () => ({ holdMs: 1000 }));
    expect(results.every((r) => r.status === 200 && r.endedBy === 'caller')).toBe(true);
    await expectBilledAsHeld(results);
    const legs = [...carrier.legs.values()].filter((l) => l.scenario === 'carrier-reinvite');
    expect(legs).toHaveLength(CALLS);
    for (const l of legs) expect(l.reinviteStatus, l.callId).toBe(200);
  });

  it('a re-INVITE right after the ACK, then a hang-up 1 s later', async () => {
    const results = await burst('reinvite', () => ({ holdMs: 1000 }));
    expect(results.every((r) => r.status === 200 && r.endedBy === 'caller')).toBe(true);
    await expectBilledAsHeld(results);
  });
});
