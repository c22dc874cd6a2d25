/**
 * Speed dials and voucher top-up over real SIP and RTP: a caller at the access number keys
 * `* n #` (a speed dial) or `9` (a voucher code) after logging in; a registered device dials
 * `*n`. A speed-dialled call is rated and routed as the number it stands for and its CDR keeps
 * what was keyed; a voucher is redeemed once, the new balance said, and wrong codes count
 * towards the voucher lockout shared with self-care. The money invariant is checked after each.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { SpeedDials } from '../../src/accounts/speed-dials.ts';
import { Vouchers } from '../../src/accounts/vouchers.ts';
import { phraseBook } from '../../src/media/prompts/phrases.ts';
import { normaliseDialled } from '../../src/sip/call/dialled-number.ts';
import { IvrState } from '../../src/sip/ivr/ivr-state.ts';
import { ivrSuite, keyAt } from '../support/ivr-suite.ts';
import { clean, RATE_PER_SECOND, VOUCHER_KEY } from '../support/sip-app-harness.ts';
import type { SipAppHarness } from '../support/sip-app-harness.ts';

const ACCESS = '+441632000300';
const UK = '441632960001';
const en = phraseBook('en');
const VOUCHER_ATTEMPTS = 3;

const suite = ivrSuite('ivrspeed', ACCESS, (base) => ({
  sliceSeconds: 6,
  extendLeadSeconds: 2,
  ...(process.env.IVR_TEST_LOG ? { logLevel: 'info' } : {}),
  media: { portMin: base, portMax: base + 40 },
  voucherAttempts: VOUCHER_ATTEMPTS,
  ivr: { firstDigitMs: 4000, interDigitMs: 1500, pinTarpitMs: 200, menuHints: true },
}));
const { dialIn, freshCli, account, ivrCdrs } = suite;
let h: SipAppHarness;
let speedDials: SpeedDials;
let vouchers: Vouchers;
beforeAll(() => {
  h = suite.h;
  speedDials = new SpeedDials(h.s.pool, normaliseDialled);
  vouchers = new Vouchers(h.s.pool, h.s.store, VOUCHER_KEY);
});

async function loggedIn(credit: number) {
  const dev = await account(credit);
  const cli = freshCli();
  await h.accountsSvc.addCli(dev.account.id, cli, true);
  return { dev, cli };
}

describe('speed dials', () => {
  it('at the access number: the destination prompt names the options; * 7 # calls the number speed dial 7 stands for, rated as it; the CDR keeps *7', async () => {
    const { dev, cli } = await loggedIn(1_000_000);
    await speedDials.set(dev.account, 7, 'Mum', `0${UK.slice(2)}`); // written nationally, kept as E.164
    const before = h.settled.length;
    const carrier = h.carrier(0, 'uas-answer-recv-bye.xml', { timeoutSec: 30 });
    const c = await dialIn(cli);
    await c.expectHeard(['welcome', ...en.balance(1_000_000, 'GBP'), 'enter-destination', 'destination-options']);
    c.press('*7#');
    await c.expectHeard([...en.remaining(100), 'connecting'], { anywhere: true });
    await h.waitIvrState(c.callId, IvrState.Connected);
    await c.hangup();
    clean(await carrier.done);
    await h.waitSettled(before + 1);
    await h.waitIvrState(c.callId, IvrState.Ended);
    const [cdr] = await h.cdrs(dev.account.id);
    expect(cdr).toMatchObject({ disposition: 'answered', dialledNumber: '*7', destination: UK, ratePrefix: '44' });
    expect(cdr!.cost).toBe(cdr!.billedSeconds * RATE_PER_SECOND);
  });

  it('at the access number: a speed dial that is not set is an unknown destination, with a refused CDR and no charge', async () => {
    const { dev, cli } = await loggedIn(1_000_000);
    const c = await dialIn(cli);
    await keyAt(c, 'enter-destination', '*42#');
    await c.expectHeard(['unknown-destination', 'goodbye'], { anywhere: true });
    await c.waitBye();
    await h.waitIvrState(c.callId, IvrState.Ended);
    const [cdr] = await ivrCdrs(dev.account.id);
    expect(cdr).toMatchObject({ disposition: 'refused', dialledNumber: '*42', sipCode: 404, cost: 0 });
  });

  it('from a registered device: *12 calls the number speed dial 12 stands for; the CDR keeps *12 and the destination', async () => {
    const dev = await h.device(1_000_000);
    await speedDials.set(dev.account, 12, 'Office', `+${UK}`);
    const before = h.settled.length;
    const carrier = h.carrier(0, 'uas-answer-recv-bye.xml');
    const caller = h.run({ scenario: 'device-call.xml', service: '*12', user: dev.username, password: dev.password, pauseMs: 500 });
    clean(await caller, await carrier.done);
    await h.waitSettled(before + 1);
    const cdr = (await h.cdrs(dev.account.id)).at(-1);
    expect(cdr).toMatchObject({ disposition: 'answered', dialledNumber: '*12', destination: UK, ratePrefix: '44', device: dev.username });
  });

  it('from a registered device: a speed dial that is not set is refused 404 Speed Dial Not Set; *100 is no speed dial', async () => {
    const dev = await h.device(1_000_000);
    clean(
      await h.run({
        scenario: 'device-call-refused.xml',
        service: '*55',
        user: dev.username,
        password: dev.password,
        vars: { status: '404', reason: 'Speed Dial Not Set' },
      }),
    );
    const before = h.settled.length;
    clean(
      await h.run({
        scenario: 'device-call-refused.xml',
        service: '*100',
        user: dev.username,
        password: dev.password,
        vars: { status: '404', reason: 'Short Codes Not Supported' },
      }),
    );
    await h.waitSettled(before + 1);
    expect((await h.s.store.get(dev.account.id))!.balance).toBe(1_000_000);
  });
});

describe('voucher top-up at the access number', () => {
  async function batch(value: number, count: number): Promise<string[]> {
    const { codes } = await vouchers.createBatch({ name: 'ivr test', count, value, currency: 'GBP', expiresAt: new Date(Date.now() + 86_400_000) }, 'test');
    return codes;
  }

  it('9, then the code and #: the voucher is redeemed once, the new balance is said, and the caller is back at the destination prompt', async () => {
    const { dev, cli } = await loggedIn(1_000_000);
    const [code] = await batch(5_000_000, 1);
    const c = await dialIn(cli);
    await keyAt(c, 'enter-destination', '9#');
    await keyAt(c, 'enter-voucher', `${code}#`);
    await c.expectHeard(['voucher-accepted', ...en.balance(6_000_000, 'GBP'), 'enter-destination'], { anywhere: true });
    expect((await h.s.store.get(dev.account.id))!.balance).toBe(6_000_000);
    // the same code again, on another account: not redeemable
    const other = await loggedIn(0);
    const c2 = await dialIn(other.cli);
    await keyAt(c2, 'enter-destination', '9');
    await keyAt(c2, 'enter-voucher', `${code}#`);
    await c2.expectHeard(['voucher-invalid', 'enter-voucher'], { anywhere: true });
    await c.hangup();
    await c2.hangup();
    await h.waitIvrState(c.callId, IvrState.Ended);
    await h.waitIvrState(c2.callId, IvrState.Ended);
    expect((await h.s.store.get(other.dev.account.id))!.balance).toBe(0);
    expect((await h.s.store.get(dev.account.id))!.balance).toBe(6_000_000);
  }, 60_000);

  it('wrong codes count towards the voucher lockout: after the attempts are used up even a good code is refused, and the call ends', async () => {
    const { dev, cli } = await loggedIn(1_000_000);
    const [good] = await batch(2_000_000, 1);
    const c = await dialIn(cli);
    await keyAt(c, 'enter-destination', '9');
    await keyAt(c, 'enter-voucher', '91234567890123456789#');
    await keyAt(c, 'voucher-invalid', '91234567890123456780#');
    await keyAt(c, 'voucher-invalid', '91234567890123456781#');
    await c.expectHeard(['voucher-invalid', 'enter-destination'], { anywhere: true });
    c.skipHeard();
    c.press('9');
    await keyAt(c, 'enter-voucher', `${good}#`);
    await c.expectHeard(['voucher-locked', 'goodbye'], { anywhere: true });
    await c.waitBye();
    await h.waitIvrState(c.callId, IvrState.Ended);
    expect((await h.s.store.get(dev.account.id))!.balance).toBe(1_000_000);
    // the good code is still unused: another account redeems it
    const other = await loggedIn(0);
    const r = await vouchers.redeem(other.dev.account, good!);
    expect(r).toMatchObject({ ok: true, balanceAfter: 2_000_000 });
  }, 60_000);
});
