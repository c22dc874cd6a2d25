/**
 * The wrong-PIN budgets an attacker cannot rotate away (docs/security.md, "SIP surface"): every
 * PIN tried at an access number costs one unit of that access number's budget and one of the
 * carrier source address's budget, over a sliding window; a right PIN gives its unit back. A
 * caller ID (or no caller ID) is not part of either, so rotating caller IDs, and rotating access
 * numbers or carrier sources, gains no guesses beyond the budgets. Over real SIP: callers from
 * trusted carrier addresses through the edge, keys as RFC 4733 events (test/support/ivr-caller.ts).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { IvrState } from '../../src/sip/ivr/ivr-state.ts';
import type { IvrCaller } from '../support/ivr-caller.ts';
import { ivrSuite, keyAt } from '../support/ivr-suite.ts';
import type { SipAppHarness } from '../support/sip-app-harness.ts';

const ACCESS = '+441632000200';
const ACCESS_2 = '+441632000201';
const ACCESS_3 = '+441632000202';
const ACCESS_4 = '+441632000203';
const PER_SOURCE = 6;
const PER_ACCESS_NUMBER = 8;
const TARPIT_MS = 400;

const suite = ivrSuite('ivrbudget', ACCESS, (base) => ({
  ...(process.env.IVR_TEST_LOG ? { logLevel: 'info' } : {}),
  media: { portMin: base, portMax: base + 40 },
  ivr: {
    firstDigitMs: 4000,
    interDigitMs: 1500,
    lockThreshold: 4,
    anonymousLockThreshold: 4,
    lockWindowMs: 600_000,
    lockMs: 600_000,
    pinBudgetPerSource: PER_SOURCE,
    pinBudgetPerAccessNumber: PER_ACCESS_NUMBER,
    pinBudgetWindowMs: 600_000,
    pinTarpitMs: TARPIT_MS,
  },
}));
const { dialIn, freshCli, account } = suite;
let h: SipAppHarness;
/** Two more addresses of the same carrier (carrier sources of their own). */
let sourceB: string;
let sourceC: string;

beforeAll(async () => {
  h = suite.h;
  for (const n of [ACCESS_2, ACCESS_3, ACCESS_4]) {
    await h.s.pool.query(`insert into access_numbers (number, language, description) values ($1, 'en', 'test access number')`, [n]);
  }
  const taken = [h.carrierIp, h.deviceIp];
  const pick = (): string => {
    for (;;) {
      const ip = `127.0.0.${2 + Math.floor(Math.random() * 248)}`;
      if (!taken.includes(ip)) {
        taken.push(ip);
        return ip;
      }
    }
  };
  sourceB = pick();
  sourceC = pick();
  for (const ip of [sourceB, sourceC]) await h.s.pool.query(`insert into carrier_addresses (carrier_id, network) values ('carrier-a', $1)`, [`${ip}/32`]);
  h.sip.carriers.invalidate();
});

/** The caller keys `count` wrong PINs (8 digits each), each counted by the IVR. */
async function wrongPins(c: IvrCaller, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    await keyAt(c, i === 0 ? 'enter-pin' : 'pin-incorrect', `${String(90_000_000 + Math.floor(Math.random() * 9_999_999))}#`);
    await h.waitWrongPins(c.callId, i + 1);
  }
}

/** A call that keys `count` wrong PINs and hangs up. */
async function guessingCall(from: { to: string; ip?: string }, count: number): Promise<void> {
  const c = await dialIn(freshCli(), from);
  await wrongPins(c, count);
  await c.hangup();
  await h.waitIvrState(c.callId, IvrState.Ended);
}

/** The caller is refused at once: welcome, then "PIN locked", never asked for a PIN. */
async function refusedWithoutPrompt(c: IvrCaller): Promise<void> {
  expect(c.status).toBe(200);
  await c.expectHeard(['welcome', 'pin-locked']);
  await c.hangup();
  await h.waitIvrState(c.callId, IvrState.Ended);
  const states = h.ivrStates.filter((e) => e.callId === c.callId).map((e) => e.state);
  expect(states.slice(0, 2)).toEqual([IvrState.Welcome, IvrState.Refusal]);
  expect(states).not.toContain(IvrState.PinEntry);
}

describe('access numbers: wrong-PIN budgets', () => {
  it('rotating caller IDs (and access numbers) from one carrier source: after the source budget no PIN is even asked for, a right one included', async () => {
    const dev = await account(1_000_000);
    // PER_SOURCE wrong PINs, three per call, each call with a caller ID of its own, alternating access numbers
    for (let done = 0, n = 0; done < PER_SOURCE; n++) {
      const tries = Math.min(3, PER_SOURCE - done);
      await guessingCall({ to: n % 2 === 0 ? ACCESS : ACCESS_2 }, tries);
      done += tries;
    }
    // a fresh caller ID on either access number: refused without a prompt, so no guess is checked
    await refusedWithoutPrompt(await dialIn(freshCli(), { to: ACCESS }));
    await refusedWithoutPrompt(await dialIn(freshCli(), { to: ACCESS_2 }));
    expect(h.pinBudgetExhausted).toContainEqual(expect.objectContaining({ budget: 'source', sourceIp: h.carrierIp }));
    // another carrier source is not affected: a right PIN logs in
    const other = await dialIn(freshCli(), { to: ACCESS, ip: sourceC });
    await keyAt(other, 'enter-pin', `${dev.pin}#`);
    await h.waitIvrState(other.callId, IvrState.OfferCli);
    await other.hangup();
    await h.waitIvrState(other.callId, IvrState.Ended);
  }, 90_000);

  it('rotating carrier sources and caller IDs against one access number: after its budget the access number asks no more; other numbers still do', async () => {
    const dev = await account(1_000_000);
    // 3 wrong from source B, 3 from source C (each below its source budget)
    await guessingCall({ to: ACCESS_3, ip: sourceB }, 3);
    await guessingCall({ to: ACCESS_3, ip: sourceC }, 3);
    // two more from B spend the access number's budget; the third try (the right PIN) is refused before it is checked
    const last = await dialIn(freshCli(), { to: ACCESS_3, ip: sourceB });
    await wrongPins(last, 2);
    await keyAt(last, 'pin-incorrect', `${dev.pin}#`);
    await last.expectHeard(['pin-locked'], { anywhere: true });
    await last.hangup();
    await h.waitIvrState(last.callId, IvrState.Ended);
    expect(h.ivrStates.filter((e) => e.callId === last.callId).map((e) => e.state)).not.toContain(IvrState.OfferCli);
    await refusedWithoutPrompt(await dialIn(freshCli(), { to: ACCESS_3, ip: sourceC }));
    expect(h.pinBudgetExhausted).toContainEqual(expect.objectContaining({ budget: 'access_number', accessNumber: ACCESS_3 }));
    // another access number from the same source still asks, and a right PIN logs in (and costs nothing)
    const other = await dialIn(freshCli(), { to: ACCESS_4, ip: sourceC });
    await keyAt(other, 'enter-pin', `${dev.pin}#`);
    await h.waitIvrState(other.callId, IvrState.OfferCli);
    await other.hangup();
    await h.waitIvrState(other.callId, IvrState.Ended);
  }, 90_000);

  it('a wrong PIN is followed by the tarpit: "PIN incorrect" starts no sooner than the set delay after the PIN was found wrong', async () => {
    const c = await dialIn(freshCli(), { to: ACCESS_4, ip: sourceC });
    await c.waitPrompt('enter-pin');
    c.skipHeard();
    c.press('12121212#');
    await c.waitPrompt('pin-incorrect');
    const heardAt = Date.now();
    await c.hangup();
    await h.waitIvrState(c.callId, IvrState.Ended);
    const wrong = h.wrongPins.filter((w) => w.callId === c.callId);
    expect(wrong).toHaveLength(1);
    // a lower bound only (the prompt cannot start before the tarpit has passed); the clock may round by a millisecond
    expect(heardAt - wrong[0]!.at).toBeGreaterThanOrEqual(TARPIT_MS - 2);
  });
});
