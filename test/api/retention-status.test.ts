/** The last scheduled retention run is visible to operators: the API route and the metrics. */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { realClock } from '../../src/common/clock.ts';
import { RetentionScheduler } from '../../src/privacy/retention-scheduler.ts';
import { body, consoleSession, harness } from './api-harness.ts';
import type { Harness } from './api-harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await harness('retstatus', { retentionIntervalHours: 24 });
});
afterAll(async () => {
  await h?.close();
});

describe('retention status', () => {
  it('none yet, then the last run with what it removed; the metric carries its time and outcome', async () => {
    expect(body(await h.call('GET', '/v1/retention'))).toEqual({ intervalHours: 24, last: null });
    const scheduler = new RetentionScheduler(
      h.s.redis,
      async () => ({ droppedPartitions: ['cdrs_2025_01'], erasedCustomers: [] }),
      realClock,
      pino({ level: 'silent' }),
      {
        namespace: h.s.namespace,
        intervalMs: 86_400_000,
        checkMs: 600_000,
        lockMs: 60_000,
      },
    );
    expect((await scheduler.runIfDue()).ran).toBe(true);
    const r = body(await h.call('GET', '/v1/retention'));
    expect(r).toMatchObject({ intervalHours: 24, last: { ok: true, result: { droppedPartitions: ['cdrs_2025_01'], erasedCustomers: [] } } });
    expect(Date.now() - Date.parse((r.last as { at: string }).at)).toBeLessThan(60_000);
    const metrics = await h.call('GET', '/metrics');
    expect(metrics.body).toMatch(/softswitch_retention_last_run_timestamp_seconds\{outcome="ok"\} \d+/);
    expect((await h.call('GET', '/v1/retention', { key: h.keys.read })).statusCode).toBe(403);
  });

  it("the operator console's dashboard shows the last run, what it removed, and a failure", async () => {
    const console = await consoleSession(h, h.keys.admin);
    const page = await h.app.inject({ method: 'GET', url: '/console', headers: { cookie: console } });
    expect(page.statusCode).toBe(200);
    const shown = /data-testid="retention-last">([\s\S]*?)<\/(dl|p)>/.exec(page.body)?.[1] ?? '';
    expect(shown).toContain('completed');
    expect(shown).toContain('droppedPartitions: 1');
    const failing = new RetentionScheduler(
      h.s.redis,
      async () => {
        throw new Error('postgres went away');
      },
      realClock,
      pino({ level: 'silent' }),
      { namespace: h.s.namespace, intervalMs: 0, checkMs: 600_000, lockMs: 60_000 },
    );
    await failing.runIfDue();
    const after = await h.app.inject({ method: 'GET', url: '/console', headers: { cookie: console } });
    expect(/data-testid="retention-last">([\s\S]*?)<\/dl>/.exec(after.body)?.[1]).toContain('postgres went away');
  });
});
