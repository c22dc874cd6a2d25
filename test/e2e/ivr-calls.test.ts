/**
 * Access numbers end to end: a caller on the phone network (test/support/ivr-caller.ts: SIP from
 * a trusted carrier address through the embedded edge, RTP with RFC 4733 keys) reaches the IVR
 * in the embedded media server, logs in by caller ID or PIN, keys a destination, and is bridged to
 * a sipp carrier. What the caller hears is compared with the prompt files; every call's CDR and
 * the money invariant are checked.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { phraseBook } from '../../src/media/prompts/phrases.ts';
import { IvrState } from '../../src/sip/ivr/ivr-state.ts';
import { ivrSuite, keyAt } from '../support/ivr-suite.ts';
import { clean, RATE_PER_SECOND } from '../support/sip-app-harness.ts';
import type { SipAppHarness } from '../support/sip-app-harness.ts';

const ACCESS = '+441632000100';
const UK = '441632960001';
const en = phraseBook('en');

const suite = ivrSuite('ivrcalls', ACCESS, (base) => ({
  sliceSeconds: 6,
  extendLeadSeconds: 2,
  warnSeconds: 3,
  ...(process.env.IVR_TEST_LOG ? { logLevel: 'info' } : {}),
  media: { portMin: base, portMax: base + 40 },
  ivr: { firstDigitMs: 4000, interDigitMs: 1500, lockThreshold: 4, lockWindowMs: 600_000, lockMs: 600_000, pinTarpitMs: 200 },
}));
const { dialIn, freshCli, account, ivrCdrs } = suite;
let h: SipAppHarness;
beforeAll(() => {
  h = suite.h;
});

describe('access numbers: calls', () => {
  it('PIN-less: a registered caller ID from the carrier hears welcome, balance, the destination prompt, the minutes, and is bridged; CDR names the access number and caller ID', async () => {
    const dev = await account(1_000_000); // £1.00: 100 s at 0.60/min
    const cli = freshCli();
    await h.accountsSvc.addCli(dev.account.id, cli, true);
    const before = h.settled.length;
    const carrier = h.carrier(0, 'uas-answer-recv-bye.xml', { timeoutSec: 30 });
    const c = await dialIn(cli);
    expect(c.status).toBe(200);
    // the whole greeting, exactly as the prompt files say it, with nothing between
    await c.expectHeard(['welcome', ...en.balance(1_000_000, 'GBP'), 'enter-destination']);
    c.press(`00${UK}#`);
    await c.expectHeard([...en.remaining(100), 'connecting']);
    await h.waitIvrState(c.callId, IvrState.Connected);
    await c.hangup();
    clean(await carrier.done);
    await h.waitSettled(before + 1);
    await h.waitIvrState(c.callId, IvrState.Ended);
    const [cdr] = await ivrCdrs(dev.account.id);
    expect(cdr).toMatchObject({
      callId: c.callId,
      kind: 'access_number',
      disposition: 'answered',
      cli,
      accessNumber: ACCESS,
      dialledNumber: `00${UK}`,
      sipCode: 200,
    });
    expect(cdr!.cost).toBe(cdr!.billedSeconds * RATE_PER_SECOND);
  });

  it('PIN login with a wrong PIN first, the right one sent with duplicated RFC 4733 packets; the far end hangs up and a second call is placed without logging in again', async () => {
    const dev = await account(2_000_000);
    const cli = freshCli();
    const before = h.settled.length;
    const carrier = h.carrier(0, 'uas-answer-send-bye.xml', { calls: 2, timeoutSec: 40 });
    const c = await dialIn(cli);
    await c.expectHeard(['welcome']);
    await keyAt(c, 'enter-pin', '99999999#');
    await keyAt(c, 'pin-incorrect', `${dev.pin}#`, true); // each packet twice: every key still counts once
    await keyAt(c, 'register-cli', '2'); // not now
    await keyAt(c, 'enter-destination', `00${UK}#`);
    await h.waitIvrState(c.callId, IvrState.Connected);
    await keyAt(c, 'another-call', '1'); // the carrier hung up: another call
    await keyAt(c, 'enter-destination', `00${UK}#`);
    await h.waitSettled(before + 2);
    await c.waitPrompt('another-call');
    await c.hangup();
    clean(await carrier.done);
    await h.waitIvrState(c.callId, IvrState.Ended);
    const cdrs = await ivrCdrs(dev.account.id);
    expect(cdrs.map((r) => [r.callId, r.disposition, r.kind, r.cli])).toEqual([
      [c.callId, 'answered', 'access_number', cli],
      [`${c.callId}/2`, 'answered', 'access_number', cli],
    ]);
    expect(await h.accountsSvc.findAccountByCli(cli)).toBeUndefined();
  });

  it('a warning is injected before the credit runs out and the call is cut at the affordable second', async () => {
    const dev = await account(9 * RATE_PER_SECOND); // 9 s: a 6 s slice, then 3 s more; warned 3 s before the end
    const cli = freshCli();
    await h.accountsSvc.addCli(dev.account.id, cli, true);
    const before = h.settled.length;
    const carrier = h.carrier(0, 'uas-answer-recv-bye.xml', { timeoutSec: 30 });
    const c = await dialIn(cli);
    await keyAt(c, 'enter-destination', `00${UK}#`);
    // the real time, not "0 minutes" and not "one minute remaining"
    await c.expectHeard([...en.remaining(9), 'connecting'], { anywhere: true });
    expect(en.remaining(9)).toEqual(['you-have', 'numbers/9', 'time/seconds']);
    await h.waitIvrState(c.callId, IvrState.Connected);
    await c.expectHeard(en.remaining(3), { anywhere: true, timeoutMs: 15_000 });
    await c.expectHeard(['goodbye'], { anywhere: true, timeoutMs: 15_000 });
    await c.waitBye();
    clean(await carrier.done);
    await h.waitSettled(before + 1);
    const [cdr] = await ivrCdrs(dev.account.id);
    expect(cdr).toMatchObject({ disposition: 'credit_exhausted', billedSeconds: 9, cost: 9 * RATE_PER_SECOND });
    expect((await h.s.store.get(dev.account.id))!.balance).toBe(0);
  });

  it('insufficient credit, unknown destination, blocked destination and carrier failure: each its own prompt, a clean hangup and a CDR', async () => {
    const cases: {
      credit: number;
      dial: string;
      prompt: 'insufficient-credit' | 'unknown-destination' | 'destination-not-allowed' | 'call-failed';
      code: number;
    }[] = [
      { credit: 0, dial: `00${UK}`, prompt: 'insufficient-credit', code: 402 },
      { credit: 1_000_000, dial: '0033123456789', prompt: 'unknown-destination', code: 404 },
      { credit: 1_000_000, dial: '00449012345678', prompt: 'destination-not-allowed', code: 403 },
      { credit: 1_000_000, dial: `00${UK}`, prompt: 'call-failed', code: 503 },
    ];
    // the four callers at once (their CDRs are on four accounts)
    await Promise.all(
      cases.map(async (k) => {
        const dev = await account(k.credit);
        const cli = freshCli();
        await h.accountsSvc.addCli(dev.account.id, cli, true);
        const gateways =
          k.prompt === 'call-failed'
            ? [0, 1].map((i) => h.carrier(i, 'uas-refuse.xml', { vars: { status: '503', reason: 'Service Unavailable' }, timeoutSec: 20 }))
            : [];
        const c = await dialIn(cli);
        await keyAt(c, 'enter-destination', `${k.dial}#`);
        await c.expectHeard([k.prompt, 'goodbye'], { anywhere: true });
        await c.waitBye();
        for (const g of gateways) clean(await g.done);
        await h.waitIvrState(c.callId, IvrState.Ended);
        const [cdr] = await ivrCdrs(dev.account.id);
        expect(cdr, k.prompt).toMatchObject({ kind: 'access_number', sipCode: k.code, cost: 0, cli, accessNumber: ACCESS, dialledNumber: k.dial });
      }),
    );
  }, 60_000);
});
