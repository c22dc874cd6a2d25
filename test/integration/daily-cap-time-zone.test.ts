/**
 * The daily spend cap resets at midnight in the account's time zone (from its country), not at
 * UTC midnight: tested with an injected clock across a day boundary, and across the days on
 * either side of a daylight-saving change (when local midnight moves against UTC).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dayIn, timeZoneOfCountry } from '../../src/billing/balance/account-day.ts';
import { cdrFor, fundedAccount } from '../support/fixtures.ts';
import { setupServices } from '../support/services.ts';
import type { TestServices } from '../support/services.ts';

let clock = Date.UTC(2026, 0, 1);
let s: TestServices;
beforeAll(async () => {
  s = await setupServices('capzone', { now: () => clock });
});
afterAll(async () => {
  await s.teardown();
});

const CAP = 1_000_000;
let seq = 0;
/** Spends the whole cap at `at` (UTC ms) and says whether one more call is then refused at `later`. */
async function spendAll(accountId: number, at: number): Promise<void> {
  clock = at;
  const id = `zone-${++seq}`;
  expect(await s.store.reserve(accountId, id, 1, CAP, at + 60_000)).toMatchObject({ ok: true, amount: CAP });
  expect((await s.store.settle(accountId, cdrFor(id, accountId, CAP))).ok).toBe(true);
}
async function canCall(accountId: number, at: number): Promise<boolean> {
  clock = at;
  const id = `zone-${++seq}`;
  const r = await s.store.reserve(accountId, id, 1, 100_000, at + 60_000);
  if (r.ok) await s.store.settle(accountId, cdrFor(id, accountId, 0));
  return r.ok;
}

describe('daily spend cap in the account time zone', () => {
  it('New York (US): spent at 23:30 local, still refused at 23:50 local, which is past UTC midnight; allowed after local midnight', async () => {
    const a = await fundedAccount(s, 100_000_000, { dailySpendCap: CAP, country: 'US' });
    await spendAll(a.id, Date.parse('2026-01-15T04:30:00Z')); // 23:30 EST on the 14th
    expect(await canCall(a.id, Date.parse('2026-01-15T04:50:00Z'))).toBe(false); // the 15th in UTC, still the 14th in New York
    expect((await s.store.get(a.id))!.spentToday).toBe(CAP);
    expect(await canCall(a.id, Date.parse('2026-01-15T05:10:00Z'))).toBe(true); // 00:10 EST on the 15th
  });

  it('across the spring-forward change (8 March 2026 in New York): local midnight is 05:00Z before, 04:00Z after', async () => {
    const a = await fundedAccount(s, 100_000_000, { dailySpendCap: CAP, country: 'US' });
    await spendAll(a.id, Date.parse('2026-03-08T04:30:00Z')); // 23:30 EST on the 7th
    expect(await canCall(a.id, Date.parse('2026-03-08T05:10:00Z'))).toBe(true); // 00:10 EST on the 8th: a new day
    await spendAll(a.id, Date.parse('2026-03-09T03:30:00Z')); // 23:30 EDT on the 8th
    expect(await canCall(a.id, Date.parse('2026-03-09T03:55:00Z'))).toBe(false);
    expect(await canCall(a.id, Date.parse('2026-03-09T04:10:00Z'))).toBe(true); // 00:10 EDT on the 9th (05:00Z would be an hour late)
  });

  it('London (GB) in summer: midnight BST is 23:00Z the day before', async () => {
    const a = await fundedAccount(s, 100_000_000, { dailySpendCap: CAP, country: 'GB' });
    await spendAll(a.id, Date.parse('2026-07-01T22:30:00Z')); // 23:30 BST on 1 July
    expect(await canCall(a.id, Date.parse('2026-07-01T23:10:00Z'))).toBe(true); // 00:10 BST on 2 July, still 1 July in UTC
  });

  it('the zone comes from the country; unknown countries count in UTC', () => {
    expect([timeZoneOfCountry('GB'), timeZoneOfCountry('us'), timeZoneOfCountry('ZZ'), timeZoneOfCountry(null)]).toEqual([
      'Europe/London',
      'America/New_York',
      'UTC',
      'UTC',
    ]);
    expect(dayIn(Date.parse('2026-03-09T03:30:00Z'), 'America/New_York')).toBe('2026-03-08');
    expect(dayIn(Date.parse('2026-03-09T03:30:00Z'), 'Not/AZone')).toBe('2026-03-09');
  });
});
