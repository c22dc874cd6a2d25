/**
 * Retention runs by itself, once per interval across processes: of several schedulers (one per
 * API process, on as many hosts) checking at the same instant exactly one runs the jobs; the next
 * run comes when the interval has passed; a failed run is recorded and retried at the next check;
 * a runner that dies mid-run leaves a lock that expires.
 */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RetentionScheduler } from '../../src/privacy/retention-scheduler.ts';
import { ManualClock } from '../support/manual-clock.ts';
import { setupServices } from '../support/services.ts';
import type { TestServices } from '../support/services.ts';

let s: TestServices;
beforeAll(async () => {
  s = await setupServices('retsched');
});
afterAll(async () => {
  await s.teardown();
});

const HOUR = 3_600_000;
const log = pino({ level: 'silent' });

function schedulers(ns: string, clock: ManualClock, run: (now: Date) => Promise<unknown>, count: number) {
  return Array.from(
    { length: count },
    () => new RetentionScheduler(s.newRedis(), run, clock, log, { namespace: ns, intervalMs: 24 * HOUR, checkMs: HOUR, lockMs: 60_000 }),
  );
}

describe('scheduled retention', () => {
  it('five processes checking at once: one run; none again within the interval; one more after it', async () => {
    const clock = new ManualClock(Date.UTC(2026, 11, 7, 3, 0, 0));
    const runs: Date[] = [];
    const run = async (now: Date) => {
      runs.push(now);
      await new Promise((r) => setTimeout(r, 50)); // long enough for the others to try meanwhile
      return { droppedPartitions: [] };
    };
    const ns = `${s.namespace}:a`;
    const all = schedulers(ns, clock, run, 5);
    const first = await Promise.all(all.map((x) => x.runIfDue()));
    expect(first.filter((r) => r.ran)).toHaveLength(1);
    expect(runs).toHaveLength(1);
    clock.t += 23 * HOUR;
    expect((await Promise.all(all.map((x) => x.runIfDue()))).some((r) => r.ran)).toBe(false);
    clock.t += 2 * HOUR;
    expect((await Promise.all(all.map((x) => x.runIfDue()))).filter((r) => r.ran)).toHaveLength(1);
    expect(runs.map((d) => d.toISOString())).toEqual(['2026-12-07T03:00:00.000Z', '2026-12-08T04:00:00.000Z']);
    expect(await all[0]!.last()).toMatchObject({ at: Date.UTC(2026, 11, 8, 4), ok: true, result: { droppedPartitions: [] } });
  });

  it('a failed run is recorded and retried at the next check', async () => {
    const clock = new ManualClock(Date.UTC(2026, 11, 7, 3, 0, 0));
    let fail = true;
    const run = async () => {
      if (fail) throw new Error('Postgres unreachable');
      return { ok: 1 };
    };
    const [a] = schedulers(`${s.namespace}:b`, clock, run, 1);
    expect((await a!.runIfDue()).status).toMatchObject({ ok: false, error: 'Postgres unreachable' });
    expect(await a!.last()).toMatchObject({ ok: false, error: 'Postgres unreachable' });
    fail = false;
    clock.t += HOUR;
    expect((await a!.runIfDue()).status).toMatchObject({ ok: true, result: { ok: 1 } });
    expect((await a!.last())?.error).toBeUndefined();
  });

  it('the lock of a runner that died expires; the next check elsewhere runs the jobs', async () => {
    const clock = new ManualClock(Date.UTC(2026, 11, 7, 3, 0, 0));
    const ns = `${s.namespace}:c`;
    await s.redis.set(`${ns}:retention:lock`, 'a-process-that-died', 'PX', 300);
    const [a] = schedulers(ns, clock, async () => ({}), 1);
    expect((await a!.runIfDue()).ran).toBe(false);
    await new Promise((r) => setTimeout(r, 400));
    expect((await a!.runIfDue()).ran).toBe(true);
    expect(await s.redis.exists(`${ns}:retention:lock`)).toBe(0);
  });

  it('start() checks at once and then every checkMs; stop() ends it', async () => {
    const clock = new ManualClock(Date.UTC(2026, 11, 7, 3, 0, 0));
    let n = 0;
    const [a] = schedulers(`${s.namespace}:d`, clock, async () => ({ n: ++n }), 1);
    a!.start();
    await expect.poll(() => n).toBe(1);
    await expect.poll(() => clock.pending).toBe(1);
    clock.advance(25 * HOUR); // the one pending check fires
    await expect.poll(() => n).toBe(2);
    a!.stop();
    await expect.poll(() => clock.pending).toBe(0);
  });
});
