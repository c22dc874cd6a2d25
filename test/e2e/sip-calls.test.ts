/**
 * Device calls through the embedded edge: a registered device (sipp) dials a rated UK number,
 * the app authenticates it (407), rates, reserves and bridges to a sipp carrier gateway; every
 * way the call can end settles it once with a CDR, and the money invariant holds afterwards.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RATE_PER_SECOND, SipAppHarness } from '../support/sip-app-harness.ts';
import type { Device, SippRun } from '../support/sip-app-harness.ts';

const UK = '441632960001';
let h: SipAppHarness;
let dev: Device;

beforeAll(async () => {
  h = await SipAppHarness.start('sipcalls');
  dev = await h.device(5_000_000);
});
afterAll(async () => { await h.stop(); });
afterEach(async () => {
  for (const id of h.accountIds) {
    const m = await h.money(id);
    expect(m.reserved).toBe(0);
    expect(m.callsInProgress).toBe(0);
    expect(m.unrecovered).toBe(0);
    expect(m.duplicateCdrs).toBe(0);
    expect(m.topUps - m.costs).toBe(m.redisBalance);
    expect(m.postgresBalance).toBe(m.redisBalance);
  }
});

function clean(...runs: SippRun[]): void {
  for (const r of runs) {
    expect(r.errors, r.stdout.slice(-2000)).toBe('');
    expect(r.code).toBe(0);
  }
}

async function lastCdr(d: Device) {
  const rows = await h.cdrs(d.account.id);
  return rows[rows.length - 1]!;
}

describe('device calls', () => {
  it('caller hangs up after a known hold time: CDR with the rated cost', async () => {
    const before = h.settled.length;
    const carrier = h.carrier(0, 'uas-answer-recv-bye.xml');
    const caller = h.run({ scenario: 'device-call.xml', service: `00${UK}`, user: dev.username, password: dev.password, pauseMs: 2500 });
    clean(await caller, await carrier.done);
    await h.waitSettled(before + 1);
    const cdr = await lastCdr(dev);
    expect(cdr).toMatchObject({ kind: 'device', disposition: 'answered', sipCode: 200, destination: UK, carrier: 'carrier-a', device: dev.username, ratePrefix: '44' });
    expect(cdr.billedSeconds).toBeGreaterThanOrEqual(3);
    expect(cdr.billedSeconds).toBeLessThanOrEqual(4);
    expect(cdr.cost).toBe(cdr.billedSeconds * RATE_PER_SECOND);
    expect(cdr.durationMs).toBeGreaterThan(2400);
  });
});
