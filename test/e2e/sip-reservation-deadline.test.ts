/**
 * The reservation deadline of a live call always lies beyond the moment its process next touches
 * it, whatever the rate's increments: a stale-call sweeper running beside the calls (every 0.5 s)
 * never settles a call that is still up. Times are shrunk by settings (6 s slices, extension 2 s
 * ahead, 2 s grace) so that the calls stay short; the rates are coarse enough that the money a
 * slice reserves covers far more than a slice.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { clean, SipAppHarness } from '../support/sip-app-harness.ts';
import type { Device } from '../support/sip-app-harness.ts';

const COARSE_TARIFF_CSV = [
  'prefix,description,price_per_minute,connection_fee,minimum_seconds,initial_increment,subsequent_increment,effective_from,effective_until,connection_fee_policy',
  '44,UK two minutes then per minute,0.6,0,0,120,60,2020-01-01T00:00:00.000Z,,answered',
  '4477,UK mobile (per 10 s),0.6,0,0,10,10,2020-01-01T00:00:00.000Z,,answered',
].join('\n');
const PER_SECOND = 10_000; // 0.60/min
const UK = '441632960001';
const UK_MOBILE = '447700900123';

let h: SipAppHarness;

beforeAll(async () => {
  h = await SipAppHarness.start('sipdeadline', { sliceSeconds: 6, extendLeadSeconds: 2, graceSeconds: 2, sweeperIntervalMs: 500 });
  const r = await h.tariffs.importCsv('coarse', 'Coarse', 'GBP', COARSE_TARIFF_CSV);
  if (!('imported' in r)) throw new Error(JSON.stringify(r));
});
afterAll(async () => {
  await h.stop();
});
afterEach(async () => {
  await h.expectMoneyInvariant();
});

async function heldCall(dev: Device, service: string, holdMs: number): Promise<void> {
  const before = h.settled.length;
  const carrier = h.carrier(0, 'uas-answer-recv-bye.xml', { timeoutSec: 60 });
  const caller = h.sipp({ scenario: 'device-call.xml', service, user: dev.username, password: dev.password, pauseMs: holdMs, timeoutSec: 60 });
  clean(await caller.done, await carrier.done);
  await h.waitSettled(before + 1);
}

describe('reservation deadline', () => {
  it('a 120/60 call held past two slices is billed its two minutes by its process, not swept at 0 (the reproduction)', async () => {
    const dev = await h.device(1_000 * PER_SECOND, { tariffId: 'coarse' });
    await heldCall(dev, `00${UK}`, 13_000); // the cover (120 s) is far beyond slice + grace (8 s)
    const [cdr] = await h.cdrs(dev.account.id);
    expect(cdr).toMatchObject({ disposition: 'answered', billedSeconds: 120, cost: 120 * PER_SECOND });
    expect(cdr!.durationMs).toBeGreaterThanOrEqual(12_500);
    expect((await h.s.store.get(dev.account.id))!.balance).toBe(880 * PER_SECOND);
  });

  it('a 10/10 call held through two extensions is billed to its last started increment, not swept between them', async () => {
    const dev = await h.device(1_000 * PER_SECOND, { tariffId: 'coarse' });
    await heldCall(dev, `00${UK_MOBILE}`, 24_000); // extensions at 8 s and 18 s, each buying 10 s more than a slice
    const [cdr] = await h.cdrs(dev.account.id);
    expect(cdr).toMatchObject({ disposition: 'answered', billedSeconds: 30, cost: 30 * PER_SECOND });
    expect((await h.s.store.get(dev.account.id))!.balance).toBe(970 * PER_SECOND);
  });
});
