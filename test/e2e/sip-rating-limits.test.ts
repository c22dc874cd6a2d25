/**
 * A rate that cannot be rated (its cost overflows, put in before imports were checked, or written
 * to the database by hand) never gives a caller a 500: the call is refused with a clear status,
 * logged, and written as a refused CDR.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { clean, SipAppHarness } from '../support/sip-app-harness.ts';

let h: SipAppHarness;

beforeAll(async () => {
  h = await SipAppHarness.start('sipratelimits');
  // past the import's check: straight into the table, as an old deck or a hand edit would be
  await h.s.pool
    .query(`insert into rates (tariff_id, prefix, description, price_per_minute, connection_fee, minimum_seconds, initial_increment, subsequent_increment, effective_from, effective_until, connection_fee_policy)
    values ('retail', '4470', 'never ratable', 9007199254740991, 0, 0, 1, 1, '2020-01-01T00:00:00Z', null, 'answered')`);
});
afterAll(async () => {
  await h.stop();
});
afterEach(async () => {
  await h.expectMoneyInvariant();
});

describe('rating limits', () => {
  it('a call to a rate whose cost overflows is refused 404 No Usable Rate, with a CDR, not a 500', async () => {
    const dev = await h.device(5_000_000);
    const before = h.settled.length;
    const caller = h.run({
      scenario: 'device-call-refused.xml',
      service: '00447012345678',
      user: dev.username,
      password: dev.password,
      vars: { status: '404', reason: 'No Usable Rate For Destination' },
    });
    clean(await caller);
    await h.waitSettled(before + 1);
    const [cdr] = await h.cdrs(dev.account.id);
    expect(cdr).toMatchObject({ disposition: 'refused', sipCode: 404, cost: 0, ratePrefix: '4470' });
  });
});
