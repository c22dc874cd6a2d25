import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallRateCounter } from '../../src/observability/call-rate.ts';
import { Redis } from 'ioredis';
import { PrivateRedis } from '../support/private-redis.ts';
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

  it('gathers a burst of calls in memory and adds them to Redis in one pipeline, one INCRBY per second counted', async () => {
    // MONITOR on a Redis of this test's own: on the shared one it streams every other test file's
    // commands too, and ioredis can take a monitor line for a reply under that load
    // ("Command queue state error").
    const server = new PrivateRedis('everysec');
    await server.start();
    const redis = new Redis(server.url);
    const monitor = await new Redis(server.url).monitor();
    try {
      const t = 1_800_000_100_000;
      const counter = new CallRateCounter(redis, s.namespace, 60_000); // flushed by hand below
      const sent: string[] = [];
      monitor.on('monitor', (_time: string, args: string[]) => {
        if (args[0]?.toLowerCase() !== 'get' && args[1]?.startsWith(`${s.namespace}:{stats}:calls:`)) sent.push(args[0]!.toLowerCase());
      });
      for (let i = 0; i < 150; i++) counter.record(t + (i < 100 ? 100 : 1_100));
      await redis.ping();
      expect(await redis.get(`${s.namespace}:{stats}:calls:${t / 1000}`)).toBeNull(); // nothing sent yet
      counter.flush();
      await redis.ping();
      await expect.poll(() => sent.length).toBe(4);
      expect(sent).toEqual(['incrby', 'expire', 'incrby', 'expire']);
      expect(await redis.mget(`${s.namespace}:{stats}:calls:${t / 1000}`, `${s.namespace}:{stats}:calls:${t / 1000 + 1}`)).toEqual(['100', '50']);
      expect(await counter.perSecond(2, t + 2_500)).toBe(75);
    } finally {
      monitor.disconnect();
      redis.disconnect();
      await server.stop();
    }
  });
});
