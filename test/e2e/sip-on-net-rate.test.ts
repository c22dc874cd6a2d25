/**
 * A priced on-net call (ON_NET_PRICE_PER_MINUTE 0.60 per minute, billed per second here) goes
 * through the normal credit path: the caller is charged, the callee's record costs nothing, and
 * the call is cut when the caller's credit runs out, like a call to a carrier. Before the cut
 * (CREDIT_WARN_SECONDS 2 here) the caller's device gets an in-dialog MESSAGE with the time left,
 * on on-net calls and on calls to a carrier alike.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { randomPort } from '../support/edge-apps/ports.ts';
import { clean, RATE_PER_SECOND, SipAppHarness } from '../support/sip-app-harness.ts';
import type { Device } from '../support/sip-app-harness.ts';

const PER_SECOND = 10_000;
let h: SipAppHarness;
let callee: Device;
let port: number;

beforeAll(async () => {
  h = await SipAppHarness.start('siponnetrate', { onNet: { pricePerMinute: 60 * PER_SECOND, incrementSeconds: 1 }, warnSeconds: 2 });
  callee = await h.device(0);
  port = randomPort();
  clean(await h.run({ scenario: 'register.xml', user: callee.username, password: callee.password, port }));
});
afterAll(async () => {
  clean(await h.run({ scenario: 'unregister.xml', user: callee.username, password: callee.password, port }));
  await h.stop();
});
afterEach(async () => {
  await h.expectMoneyInvariant();
});

describe('on-net calls at a non-zero on-net rate', () => {
  it("the caller pays per second for the answered time; the callee's record is free", async () => {
    const caller = await h.device(1_000_000);
    const before = h.settled.length;
    const answers = h.sipp({ scenario: 'device-answer-from.xml', port, remote: undefined, vars: { from: caller.username } });
    const call = h.run({ scenario: 'device-call.xml', service: callee.username, user: caller.username, password: caller.password, pauseMs: 1500 });
    clean(await call, await answers.done);
    await h.waitSettled(before + 2);
    const mine = (await h.cdrs(caller.account.id)).at(-1)!;
    expect(mine).toMatchObject({
      kind: 'device',
      disposition: 'answered',
      destination: callee.username,
      carrier: `on-net:${callee.username}`,
      ratePrefix: '0',
    });
    expect(mine.billedSeconds).toBeGreaterThanOrEqual(2);
    expect(mine.cost).toBe(mine.billedSeconds * PER_SECOND);
    expect((await h.cdrs(callee.account.id)).at(-1)).toMatchObject({ kind: 'did', disposition: 'answered', cost: 0 });
    expect(await h.money(caller.account.id)).toMatchObject({ redisBalance: 1_000_000 - mine.cost, reserved: 0 });
  });

  it("is cut when the caller's credit runs out: the caller is warned by MESSAGE, both devices get a BYE, the caller pays exactly the credit", async () => {
    const caller = await h.device(3 * PER_SECOND);
    const before = h.settled.length;
    const answers = h.sipp({ scenario: 'device-answer-from.xml', port, remote: undefined, vars: { from: caller.username } });
    const call = h.run({
      scenario: 'device-call-recv-message-bye.xml',
      service: callee.username,
      user: caller.username,
      password: caller.password,
      timeoutSec: 15,
      vars: { text: 'Credit low: this call ends in 2 seconds' },
    });
    clean(await call, await answers.done);
    await h.waitSettled(before + 2);
    expect((await h.cdrs(caller.account.id)).at(-1)).toMatchObject({ disposition: 'credit_exhausted', billedSeconds: 3, cost: 3 * PER_SECOND });
    expect((await h.cdrs(callee.account.id)).at(-1)).toMatchObject({ kind: 'did', disposition: 'credit_exhausted', cost: 0 });
    expect(await h.money(caller.account.id)).toMatchObject({ redisBalance: 0, reserved: 0, callsInProgress: 0 });
  });

  it('a device calling through a carrier is warned by MESSAGE before the cut as well', async () => {
    const caller = await h.device(3 * RATE_PER_SECOND);
    const before = h.settled.length;
    const carrier = h.carrier(0, 'uas-answer-recv-bye.xml', { timeoutSec: 20 });
    const call = h.run({
      scenario: 'device-call-recv-message-bye.xml',
      service: '00441632960999',
      user: caller.username,
      password: caller.password,
      timeoutSec: 15,
      vars: { text: 'Credit low: this call ends in 2 seconds' },
    });
    clean(await call, await carrier.done);
    await h.waitSettled(before + 1);
    expect((await h.cdrs(caller.account.id)).at(-1)).toMatchObject({ disposition: 'credit_exhausted', billedSeconds: 3, cost: 3 * RATE_PER_SECOND });
  });

  it('a caller with no credit is refused before anything rings (402), with a CDR', async () => {
    const caller = await h.device(0);
    const before = h.settled.length;
    clean(
      await h.run({
        scenario: 'device-call-refused.xml',
        service: callee.username,
        user: caller.username,
        password: caller.password,
        vars: { status: '402', reason: 'Insufficient Credit' },
      }),
    );
    await h.waitSettled(before + 1);
    expect((await h.cdrs(caller.account.id)).at(-1)).toMatchObject({ disposition: 'refused', sipCode: 402, cost: 0, carrier: 'on-net' });
  });
});
