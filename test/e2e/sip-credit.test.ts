/**
 * Real-time credit control end to end: reservations of 6 s slices extended 2 s before they run
 * out; a call whose money runs out is ended by BYE on both legs at the affordable second; two
 * calls on one account never spend more than it holds; the concurrent-call limit is enforced.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { clean, MINUTE_RATE, RATE_PER_SECOND, SipAppHarness } from '../support/sip-app-harness.ts';
import type { Device } from '../support/sip-app-harness.ts';

const UK = '441632960001';
const UK_MOBILE = '447700900123';
let h: SipAppHarness;

beforeAll(async () => {
  h = await SipAppHarness.start('sipcredit', { sliceSeconds: 6, extendLeadSeconds: 2 });
});
afterAll(async () => {
  await h.stop();
});
afterEach(async () => {
  await h.expectMoneyInvariant();
});

function call(d: Device, scenario: string, service: string, extra: { pauseMs?: number; vars?: Record<string, string> } = {}) {
  return h.sipp({ scenario, service, user: d.username, password: d.password, timeoutSec: 30, ...extra });
}

describe('credit control', () => {
  it('a call that runs out of credit is cut by BYE at the affordable second; the balance lands on the floor', async () => {
    const dev = await h.device(9 * RATE_PER_SECOND); // 9 s: a 6 s slice, then an extension of 3 s
    const before = h.settled.length;
    const carrier = h.carrier(0, 'uas-answer-recv-bye.xml', { timeoutSec: 30 });
    const caller = call(dev, 'device-call-recv-bye.xml', `00${UK}`);
    clean(await caller.done, await carrier.done);
    const [settled] = (await h.waitSettled(before + 1)).slice(-1);
    expect(settled!.disposition).toBe('credit_exhausted');
    const [cdr] = await h.cdrs(dev.account.id);
    // cut at the paid second itself (9 s), not before it; the CDR ends at the cut
    expect(cdr).toMatchObject({ disposition: 'credit_exhausted', billedSeconds: 9, cost: 9 * RATE_PER_SECOND, durationMs: 9000 });
    expect((await h.s.store.get(dev.account.id))!.balance).toBe(0);
  });

  it('two simultaneous calls on one account never spend more than it holds (per-second rate)', async () => {
    const dev = await h.device(12 * RATE_PER_SECOND); // two first slices of 6 s use it all
    const before = h.settled.length;
    const carrier = h.carrier(0, 'uas-answer-recv-bye.xml', { calls: 2, timeoutSec: 30 });
    const a = call(dev, 'device-call-recv-bye.xml', `00${UK}`);
    const b = call(dev, 'device-call-recv-bye.xml', `00${UK}`);
    clean(await a.done, await b.done, await carrier.done);
    await h.waitSettled(before + 2);
    const cdrs = await h.cdrs(dev.account.id);
    expect(cdrs.map((c) => c.disposition)).toEqual(['credit_exhausted', 'credit_exhausted']);
    expect(cdrs.reduce((s, c) => s + c.cost, 0)).toBe(12 * RATE_PER_SECOND);
    expect((await h.s.store.get(dev.account.id))!.balance).toBe(0);
  });

  it('credit for one minute on a per-minute rate: the second simultaneous call is refused 402, one minute is spent', async () => {
    const dev = await h.device(MINUTE_RATE);
    const before = h.settled.length;
    const answered = h.answered.length;
    const carrier = h.carrier(0, 'uas-answer-recv-bye.xml', { timeoutSec: 30 });
    const first = call(dev, 'device-call.xml', `00${UK_MOBILE}`, { pauseMs: 2000 });
    await h.waitAnswered(answered + 1);
    const second = call(dev, 'device-call-refused.xml', `00${UK_MOBILE}`, { vars: { status: '402', reason: 'Insufficient Credit' } });
    clean(await second.done, await first.done, await carrier.done);
    await h.waitSettled(before + 2);
    const cdrs = await h.cdrs(dev.account.id);
    expect(cdrs.map((c) => [c.disposition, c.cost])).toEqual([
      ['answered', MINUTE_RATE],
      ['refused', 0],
    ]);
    expect((await h.s.store.get(dev.account.id))!.balance).toBe(0);
  });

  it('the call beyond the concurrent-call limit gets 486 with the reason', async () => {
    const dev = await h.device(100 * RATE_PER_SECOND, { maxConcurrentCalls: 1 });
    const before = h.settled.length;
    const answered = h.answered.length;
    const carrier = h.carrier(0, 'uas-answer-recv-bye.xml', { timeoutSec: 30 });
    const first = call(dev, 'device-call.xml', `00${UK}`, { pauseMs: 2000 });
    await h.waitAnswered(answered + 1);
    const second = call(dev, 'device-call-refused.xml', `00${UK}`, { vars: { status: '486', reason: 'Too Many Calls In Progress' } });
    clean(await second.done, await first.done, await carrier.done);
    await h.waitSettled(before + 2);
    const cdrs = await h.cdrs(dev.account.id);
    expect(cdrs.map((c) => c.disposition).sort()).toEqual(['answered', 'refused']);
  });
});
