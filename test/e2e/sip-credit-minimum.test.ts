/**
 * CREDIT_MIN_CALL_SECONDS: a call the credit cannot carry that long is refused with 402 and a
 * reason instead of connected for a few seconds; the reservation is released and the CDR says why.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { clean, RATE_PER_SECOND, SipAppHarness } from '../support/sip-app-harness.ts';

let h: SipAppHarness;

beforeAll(async () => {
  h = await SipAppHarness.start('sipmincall', { minCallSeconds: 30 });
});
afterAll(async () => {
  await h.stop();
});
afterEach(async () => {
  await h.expectMoneyInvariant();
});

describe('a minimum call length', () => {
  it('credit for 10 s of a 30 s minimum: 402 Insufficient Credit, nothing charged, the CDR says why', async () => {
    const dev = await h.device(10 * RATE_PER_SECOND);
    const before = h.settled.length;
    clean(
      await h.run({
        scenario: 'device-call-refused.xml',
        service: '441632960001',
        user: dev.username,
        password: dev.password,
        vars: { status: '402', reason: 'Insufficient Credit' },
      }),
    );
    await h.waitSettled(before + 1);
    expect((await h.cdrs(dev.account.id)).at(-1)).toMatchObject({ disposition: 'refused', sipCode: 402, sipReason: 'Insufficient Credit', cost: 0 });
    expect(await h.money(dev.account.id)).toMatchObject({ reserved: 0, redisBalance: 10 * RATE_PER_SECOND });
  });

  it('credit for 40 s connects', async () => {
    const dev = await h.device(40 * RATE_PER_SECOND);
    const before = h.settled.length;
    const carrier = h.carrier(0, 'uas-answer-recv-bye.xml');
    clean(await h.run({ scenario: 'device-call.xml', service: '441632960001', user: dev.username, password: dev.password, pauseMs: 300 }), await carrier.done);
    await h.waitSettled(before + 1);
    expect((await h.cdrs(dev.account.id)).at(-1)).toMatchObject({ disposition: 'answered' });
  });
});
