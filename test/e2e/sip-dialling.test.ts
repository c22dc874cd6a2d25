/**
 * Numbers as people dial them, from a registered device (sipp) of a GB account: E.164 with or
 * without '+', the 00 prefix and the national 0 all reach the same rated destination; emergency
 * numbers, short codes, incomplete numbers and names are refused with 404 or 484 and a reason
 * phrase that says why (never a bare 400), and the CDR records it.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { clean, SipAppHarness } from '../support/sip-app-harness.ts';
import type { Device } from '../support/sip-app-harness.ts';

let h: SipAppHarness;
let dev: Device;

beforeAll(async () => {
  h = await SipAppHarness.start('sipdialling');
  dev = await h.device(5_000_000, { country: 'GB' });
});
afterAll(async () => {
  await h.stop();
});
afterEach(async () => {
  await h.expectMoneyInvariant();
});

describe('a GB account dials', () => {
  it.each(['441632960001', '+441632960001', '00441632960001', '01632960001', '0044(0)1632960001'])(
    '%s: connected to 441632960001 and rated',
    async (dialled) => {
      const before = h.settled.length;
      const carrier = h.carrier(0, 'uas-answer-recv-bye.xml');
      const caller = h.run({ scenario: 'device-call.xml', service: dialled, user: dev.username, password: dev.password, pauseMs: 500 });
      clean(await caller, await carrier.done);
      await h.waitSettled(before + 1);
      const cdr = (await h.cdrs(dev.account.id)).at(-1);
      expect(cdr).toMatchObject({ disposition: 'answered', destination: '441632960001', ratePrefix: '44', dialledNumber: dialled });
    },
  );

  it.each([
    ['999', '404', 'Emergency Calls Not Supported'],
    ['112', '404', 'Emergency Calls Not Supported'],
    ['118118', '404', 'Short Codes Not Supported'],
    ['9460000', '484', 'Address Incomplete'],
    ['+44', '484', 'Address Incomplete'],
    ['alice.smith', '404', 'Not A Phone Number'],
  ])('%s: refused %s %s, the CDR says why', async (dialled, status, reason) => {
    const before = h.settled.length;
    clean(await h.run({ scenario: 'device-call-refused.xml', service: dialled, user: dev.username, password: dev.password, vars: { status, reason } }));
    await h.waitSettled(before + 1);
    expect((await h.cdrs(dev.account.id)).at(-1)).toMatchObject({ disposition: 'refused', sipCode: Number(status), sipReason: reason, cost: 0 });
  });
});
