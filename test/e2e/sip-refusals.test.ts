/**
 * Every refused call leaves a trace: a call over the account's calls-per-second limit gets
 * 480 Call Rate Limit Exceeded (a 4xx: a device does not fail over to another server for a
 * policy refusal), a CDR `refused` with the reason, and the refusal metric.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSipMetrics } from '../../src/observability/sip-metrics.ts';
import { clean, SipAppHarness } from '../support/sip-app-harness.ts';
import type { Device } from '../support/sip-app-harness.ts';

const UK = '441632960001';
let h: SipAppHarness;
let dev: Device;

beforeAll(async () => {
  h = await SipAppHarness.start('siprefusals', { accountCps: 1 });
  dev = await h.device(5_000_000);
});
afterAll(async () => {
  await h.stop();
});
afterEach(async () => {
  await h.expectMoneyInvariant();
});

describe('refusals are recorded', () => {
  it('calls-per-second guard: 480 with Retry-After, a CDR refused with the reason, the refusal metric', async () => {
    // the account's call-rate windows of the next 20 s are already full (as if it had just placed calls)
    const now = Date.now();
    for (let w = Math.floor(now / 1000); w < Math.floor(now / 1000) + 20; w++) {
      await h.s.redis.set(`${h.s.namespace}:sip:cps:{acct:${dev.account.id}}:${w}`, '5', 'PX', 30_000);
    }
    const before = h.settled.length;
    const run = await h.run({
      scenario: 'device-call-refused.xml',
      service: `00${UK}`,
      user: dev.username,
      password: dev.password,
      vars: { status: '480', reason: 'Call Rate Limit Exceeded' },
    });
    clean(run);
    const [call] = (await h.waitSettled(before + 1)).slice(before);
    expect(call).toMatchObject({ disposition: 'refused', sipCode: 480, sipReason: 'Call Rate Limit Exceeded' });
    const rows = await h.cdrs(dev.account.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ disposition: 'refused', sipCode: 480, cost: 0, billedSeconds: 0, device: dev.username, dialledNumber: `00${UK}` });
    const { rows: reasons } = await h.s.pool.query<{ sip_reason: string }>('select sip_reason from cdrs where account_id = $1', [dev.account.id]);
    expect(reasons).toEqual([{ sip_reason: 'Call Rate Limit Exceeded' }]);
    // the settled event is what the metrics count
    const metrics = createSipMetrics(() => 0);
    metrics.events.settled(call!, undefined);
    expect(await metrics.registry.metrics()).toContain('softswitch_calls_refused_total{reason="Call Rate Limit Exceeded"} 1');
  }, 45_000);
});
