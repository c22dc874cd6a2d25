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
afterEach(async () => { await h.expectMoneyInvariant(); });

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
    const caller = h.run({ scenario: 'device-call-refused.xml', service: `00${UK}`, user: dev.username, password: dev.password, vars: { status: '486', reason: 'Busy Here' } });
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
    const caller = h.run({ scenario: 'device-call-refused.xml', service: `00${UK}`, user: dev.username, password: dev.password, vars: { status: '503', reason: 'All Routes Failed' } });
    clean(await caller, await first.done, await second.done);
    await h.waitSettled(before + 1);
    expect(await lastCdr(dev)).toMatchObject({ disposition: 'failed', sipCode: 503, cost: 0 });
  });

  it('a blocklisted destination is refused before any carrier is tried', async () => {
    const before = h.settled.length;
    const caller = h.run({ scenario: 'device-call-refused.xml', service: '00449098765432', user: dev.username, password: dev.password, vars: { status: '403', reason: 'Destination Blocked' } });
    clean(await caller);
    await h.waitSettled(before + 1);
    expect(await lastCdr(dev)).toMatchObject({ disposition: 'refused', sipCode: 403, cost: 0, destination: '449098765432' });
  });

  for (const dialled of ['+4409098765432', '004409098765432', '+44(0)9098765432', '+44-0-9098765432']) {
    it(`a trunk 0 after the country code does not bypass the blocklist: ${dialled} is refused as 449098765432`, async () => {
      const before = h.settled.length;
      const caller = h.run({ scenario: 'device-call-refused.xml', service: dialled, user: dev.username, password: dev.password, vars: { status: '403', reason: 'Destination Blocked' } });
      clean(await caller);
      await h.waitSettled(before + 1);
      expect(await lastCdr(dev)).toMatchObject({ disposition: 'refused', sipCode: 403, cost: 0, destination: '449098765432' });
    });
  }

  it('a destination without a rate is refused with 404', async () => {
    const before = h.settled.length;
    const caller = h.run({ scenario: 'device-call-refused.xml', service: '0033123456789', user: dev.username, password: dev.password, vars: { status: '404', reason: 'No Rate For Destination' } });
    clean(await caller);
    await h.waitSettled(before + 1);
    expect(await lastCdr(dev)).toMatchObject({ disposition: 'refused', sipCode: 404, cost: 0 });
  });

  it('a wrong password on INVITE gets 403 and no call', async () => {
    const before = h.settled.length;
    const caller = h.run({ scenario: 'device-call-refused.xml', service: `00${UK}`, user: dev.username, password: 'wrong-password-123', vars: { status: '403', reason: 'Forbidden' } });
    clean(await caller);
    expect(h.settled.length).toBe(before);
  });
});
