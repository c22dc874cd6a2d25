import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallRateCounter } from '../../src/observability/call-rate.ts';
import { setupServices } from '../support/services.ts';
import type { TestServices } from '../support/services.ts';

let s: TestServices;
beforeAll(async () => {
  s = await setupServices('callrate');
});
afterAll(async () => {
  await s.teardown();
});

describe('calls per second across processes', () => {
  it('counts calls per second in Redis and averages the last whole seconds, leaving out the current one', async () => {
    const t = 1_800_000_000_000; // a whole second
    const a = new CallRateCounter(s.redis, s.namespace);
    const b = new CallRateCounter(s.newRedis(), s.namespace); // another process
    for (let i = 0; i < 12; i++) a.record(t - 3_000 + i);
    for (let i = 0; i < 8; i++) b.record(t - 1_500);
    for (let i = 0; i < 5; i++) a.record(t + 200); // the current second: not counted yet
    await s.redis.ping(); // the INCRs are sent without waiting
    await s.newRedis().ping();
    const counter = new CallRateCounter(s.redis, s.namespace);
    await expect.poll(() => counter.perSecond(10, t + 500)).toBe(2); // 20 calls in the last 10 s
    expect(await counter.perSecond(2, t + 500)).toBe(4); // 8 in the last 2 s
    expect(await counter.perSecond(10, t + 60_000)).toBe(0);
    const ttl = await s.redis.ttl(`${s.namespace}:{stats}:calls:${Math.floor((t - 3_000) / 1000)}`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(120);
  });
});
