/**
 * A call's personal facts (SIP username, source address, caller ID, dialled number) are in Redis
 * only while the call is open, for the sweeper to settle it if its process dies. Settled, the call
 * hash keeps only what idempotency needs (state and amounts) for its 7 days: the facts go at once,
 * in the same script (no extra command), whether the settle went alone or in a batch.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cdrFor, fundedAccount } from '../support/fixtures.ts';
import { setupServices } from '../support/services.ts';
import type { TestServices } from '../support/services.ts';

let s: TestServices;
beforeAll(async () => {
  s = await setupServices('settledfacts');
});
afterAll(async () => {
  await s.teardown();
});

const FACTS = JSON.stringify({ cli: '+447700977777', sourceIp: '203.0.113.77', device: 'factsphone', dialledNumber: '00441632960077' });

async function answeredCall(callId: string) {
  const a = await fundedAccount(s, 1_000_000);
  await s.store.reserve(a.id, callId, 1, 100_000, Date.now() + 60_000);
  expect(await s.store.markAnswered(a.id, callId, Date.now(), JSON.stringify({ prefix: '44' }), FACTS, Date.now() + 60_000)).toBe(true);
  return a;
}

describe('settled calls keep no personal facts in Redis', () => {
  it('a settle clears the facts and the rate from the call hash and keeps the amounts (the reproduction: kept for 7 days)', async () => {
    const a = await answeredCall('facts-1');
    const key = s.store.keys.call(a.id, 'facts-1');
    expect(await s.redis.hget(key, 'facts')).toBe(FACTS);
    await s.store.settle(a.id, cdrFor('facts-1', a.id, 1_000));
    const after = await s.redis.hgetall(key);
    expect(JSON.stringify(after)).not.toContain('203.0.113.77');
    expect(JSON.stringify(after)).not.toContain('+447700977777');
    expect(after).toMatchObject({ state: 'settled', debit: '1000' });
    // a repeated settle is still recognised as one
    expect(await s.store.settle(a.id, cdrFor('facts-1', a.id, 1_000))).toMatchObject({ ok: true, duplicate: true, debited: 1_000 });
  });

  it('the same for settles that go in one batch', async () => {
    const calls = await Promise.all(['facts-b1', 'facts-b2', 'facts-b3'].map(async (id) => ({ id, a: await answeredCall(id) })));
    await Promise.all(calls.map(({ id, a }) => s.store.settle(a.id, cdrFor(id, a.id, 500))));
    for (const { id, a } of calls) expect(JSON.stringify(await s.redis.hgetall(s.store.keys.call(a.id, id)))).not.toContain('203.0.113.77');
  });
});
