/**
 * Access numbers end to end, logging in (the calls themselves: ivr-calls.test.ts): a caller on the phone network (test/support/ivr-caller.ts: SIP from
 * a trusted carrier address through the embedded edge, RTP with RFC 4733 keys) reaches the IVR
 * in the embedded media server, logs in by caller ID or PIN, keys a destination, and is bridged to
 * a sipp carrier. What the caller hears is compared with the prompt files; every call's CDR and
 * the money invariant are checked.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { CliRequests } from '../../src/accounts/cli-requests.ts';
import { phraseBook } from '../../src/media/prompts/phrases.ts';
import { IvrState } from '../../src/sip/ivr/ivr-state.ts';
import { ivrSuite, keyAt } from '../support/ivr-suite.ts';
import type { SipAppHarness } from '../support/sip-app-harness.ts';

const ACCESS = '+441632000100';
const en = phraseBook('en');

const suite = ivrSuite('ivrlogin', ACCESS, (base) => ({
  sliceSeconds: 6,
  extendLeadSeconds: 2,
  warnSeconds: 3,
  ...(process.env.IVR_TEST_LOG ? { logLevel: 'info' } : {}),
  media: { portMin: base, portMax: base + 40 },
  ivr: { firstDigitMs: 4000, interDigitMs: 1500, lockThreshold: 4, anonymousLockThreshold: 4, lockWindowMs: 600_000, lockMs: 600_000, pinTarpitMs: 200 },
}));
const { dialIn, freshCli, account, ivrCdrs } = suite;
let h: SipAppHarness;
beforeAll(() => {
  h = suite.h;
});

describe('access numbers: login', () => {
  it('after a PIN login the caller registers the calling number (press 1); it logs in PIN-less only once confirmed in self-care, and a PIN change revokes it', async () => {
    const dev = await account(1_000_000);
    const cli = freshCli();
    const c = await dialIn(cli);
    await keyAt(c, 'enter-pin', `${dev.pin}#`);
    await keyAt(c, 'register-cli', '1');
    await c.expectHeard(['cli-registered'], { anywhere: true });
    await c.hangup();
    await h.waitIvrState(c.callId, IvrState.Ended);
    // a PIN alone (perhaps leaked) does not make PIN-less access: the number waits for the password holder
    expect(await h.accountsSvc.findAccountByCli(cli)).toBeUndefined();
    const pending = await dialIn(cli);
    await pending.waitPrompt('enter-pin');
    await pending.hangup();
    await h.waitIvrState(pending.callId, IvrState.Ended);
    const requests = new CliRequests(h.s.pool, h.accountsSvc);
    expect(await requests.confirm(dev.account.id, cli)).toBe('authorised');
    expect(await h.accountsSvc.findAccountByCli(cli)).toBe(dev.account.id);
    const again = await dialIn(cli);
    await again.expectHeard(['welcome', ...en.balance(1_000_000, 'GBP')]);
    expect(
      h.ivrStates
        .filter((e) => e.callId === again.callId)
        .map((e) => e.state)
        .slice(0, 2),
    ).toEqual([IvrState.Welcome, IvrState.Balance]);
    await again.hangup();
    await h.waitIvrState(again.callId, IvrState.Ended);
    await h.accountsSvc.issuePin(dev.account.id);
    expect(await h.accountsSvc.findAccountByCli(cli)).toBeUndefined();
  }, 60_000);

  it('keys sent as SIP INFO (application/dtmf-relay) log in as RFC 4733 keys do', async () => {
    const dev = await account(1_000_000);
    const c = await dialIn(freshCli());
    await c.waitPrompt('enter-pin');
    c.skipHeard();
    for (const key of `${dev.pin}#`) await c.info(key);
    await c.waitPrompt('register-cli');
    await c.hangup();
    await h.waitIvrState(c.callId, IvrState.Ended);
    expect(h.ivrStates.filter((e) => e.callId === c.callId).map((e) => e.state)).toEqual([
      IvrState.Welcome,
      IvrState.PinEntry,
      IvrState.OfferCli,
      IvrState.Ended,
    ]);
  });

  it('a withheld caller ID (Privacy: id) is asked for a PIN even when it is registered', async () => {
    const dev = await account(1_000_000);
    const cli = freshCli();
    await h.accountsSvc.addCli(dev.account.id, cli, true);
    const c = await dialIn(cli, { headers: { Privacy: 'id' } });
    await c.expectHeard(['welcome', 'enter-pin']);
    await c.hangup();
    await h.waitIvrState(c.callId, IvrState.Ended);
    expect(h.ivrStates.filter((e) => e.callId === c.callId).map((e) => e.state)).toEqual([IvrState.Welcome, IvrState.PinEntry, IvrState.Ended]);
  });

  it('an access number is not reachable from an address that is not a trusted carrier: 403, whatever the caller ID', async () => {
    const dev = await account(1_000_000);
    const cli = freshCli();
    await h.accountsSvc.addCli(dev.account.id, cli, true);
    const c = await dialIn(cli, { ip: h.deviceIp });
    expect([c.status, c.reason]).toEqual([403, 'Access Number Only Via Carrier']);
    expect(h.ivrStates.some((e) => e.callId === c.callId)).toBe(false);
  });

  it('wrong PINs count across calls per caller ID: three tries per call, then locked for the cool-down (told so), even for the right PIN', async () => {
    const dev = await account(1_000_000);
    const cli = freshCli();
    const first = await dialIn(cli);
    await keyAt(first, 'enter-pin', '11111111#');
    await keyAt(first, 'pin-incorrect', '22222222#');
    await keyAt(first, 'pin-incorrect', '33333333#');
    await first.expectHeard(['pin-incorrect', 'goodbye'], { anywhere: true });
    await first.waitBye();
    const second = await dialIn(cli); // the fourth wrong PIN reaches the threshold
    await keyAt(second, 'enter-pin', '44444444#');
    await second.expectHeard(['pin-locked', 'goodbye'], { anywhere: true });
    await second.waitBye();
    const third = await dialIn(cli); // locked: not even asked
    await third.expectHeard(['welcome', 'pin-locked', 'goodbye']);
    await third.waitBye();
    await h.waitIvrState(third.callId, IvrState.Ended);
    expect(h.ivrStates.filter((e) => e.callId === third.callId).map((e) => e.state)).toEqual([
      IvrState.Welcome,
      IvrState.Refusal,
      IvrState.Goodbye,
      IvrState.Ended,
    ]);
    expect(await ivrCdrs(dev.account.id)).toEqual([]);
  }, 60_000);

  it('the right PIN of a locked account sounds exactly like a wrong one: no oracle for which PINs are real', async () => {
    const dev = await account(1_000_000);
    const cli = freshCli();
    await h.accountsSvc.addCli(dev.account.id, cli, true);
    // withheld, from the owner's number: wrong PINs count against the account too; the fourth locks it
    const first = await dialIn(cli, { headers: { Privacy: 'id' } });
    await keyAt(first, 'enter-pin', '11111111#');
    await keyAt(first, 'pin-incorrect', '22222222#');
    await keyAt(first, 'pin-incorrect', '33333333#');
    await first.expectHeard(['pin-incorrect', 'goodbye'], { anywhere: true });
    await first.waitBye();
    const second = await dialIn(cli, { headers: { Privacy: 'id' } });
    await keyAt(second, 'enter-pin', '44444444#');
    await second.expectHeard(['pin-locked', 'goodbye'], { anywhere: true });
    await second.waitBye();
    // another caller keys the locked account's right PIN: told it is incorrect, as for any wrong PIN
    const guesser = await dialIn(freshCli());
    await keyAt(guesser, 'enter-pin', `${dev.pin}#`);
    await guesser.waitPrompt('pin-incorrect');
    await guesser.hangup();
    await h.waitIvrState(guesser.callId, IvrState.Ended);
    expect(h.ivrStates.filter((e) => e.callId === guesser.callId).map((e) => e.state)).not.toContain(IvrState.Refusal);
    expect(await ivrCdrs(dev.account.id)).toEqual([]);
  }, 60_000);

  it('the right PIN of a suspended or closed account sounds exactly like a wrong one: no oracle for PINs that cannot call', async () => {
    for (const status of ['suspended', 'closed'] as const) {
      const dev = await account(1_000_000);
      await h.accountsSvc.setStatus(dev.account.id, status);
      const guesser = await dialIn(freshCli());
      await keyAt(guesser, 'enter-pin', `${dev.pin}#`);
      await guesser.waitPrompt('pin-incorrect');
      await guesser.hangup();
      await h.waitIvrState(guesser.callId, IvrState.Ended);
      const states = h.ivrStates.filter((e) => e.callId === guesser.callId).map((e) => e.state);
      expect(states, status).not.toContain(IvrState.Balance);
      expect(states, status).not.toContain(IvrState.Destination);
      expect(await ivrCdrs(dev.account.id)).toEqual([]);
    }
  }, 60_000);

  it('callers with no caller ID share one count per access number: calling again and again does not give endless guesses', async () => {
    const first = await dialIn('anonymous');
    await keyAt(first, 'enter-pin', '11111111#');
    await keyAt(first, 'pin-incorrect', '22222222#');
    await keyAt(first, 'pin-incorrect', '33333333#');
    await first.expectHeard(['pin-incorrect', 'goodbye'], { anywhere: true });
    await first.waitBye();
    const second = await dialIn('anonymous'); // another anonymous caller: the fourth wrong PIN locks them all out
    await keyAt(second, 'enter-pin', '44444444#');
    await second.expectHeard(['pin-locked', 'goodbye'], { anywhere: true });
    await second.waitBye();
    const third = await dialIn('anonymous');
    await third.expectHeard(['welcome', 'pin-locked', 'goodbye']);
    await third.waitBye();
    const withNumber = await dialIn(freshCli()); // a caller who shows a number is still asked for a PIN
    await withNumber.expectHeard(['welcome', 'enter-pin'], { anywhere: true });
    await withNumber.hangup();
  }, 60_000);
});
