/** Gateway health is visible to operators: the probes' state per gateway and the transitions, through the API. */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { realClock } from '../../src/common/clock.ts';
import { GatewayHealth } from '../../src/sip/routing/gateway-health.ts';
import type { Carrier } from '../../src/sip/routing/route-plan.ts';
import { body, harness } from './api-harness.ts';
import type { Harness } from './api-harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await harness('gwhealth');
});
afterAll(async () => {
  await h?.close();
});

const gw = (id: number, address: string) => ({
  id,
  carrierId: 'carrier-a',
  address,
  port: 5060,
  transport: 'udp' as const,
  priority: 10,
  weight: 1,
  techPrefix: '',
});
const carriers: Carrier[] = [{ id: 'carrier-a', prefixes: [''], gateways: [gw(1, '192.0.2.1'), gw(2, '192.0.2.2')] }];

describe('gateway health in the API', () => {
  it('each gateway up or down with its last probe, the transitions newest first; down gateways left out of the routes', async () => {
    // the probes' answers as the network would give them: 192.0.2.1 silent, 192.0.2.2 answering 200
    let silent = true;
    const health = new GatewayHealth(
      () => Promise.resolve(carriers),
      (uri) => Promise.resolve(uri.includes('192.0.2.1') && silent ? undefined : 200),
      h.s.redis,
      { namespace: h.s.namespace, intervalMs: 60_000, probeTimeoutMs: 1000, downAfter: 2, clock: realClock, log: pino({ level: 'silent' }) },
    );
    await health.probeAll();
    expect(health.isUp(1)).toBe(true); // one miss is not enough
    await health.probeAll();
    expect(health.isUp(1)).toBe(false);
    expect(health.usable(carriers)[0]!.gateways.map((g) => g.id)).toEqual([2]);
    const r = body(await h.call('GET', '/v1/gateways/health'));
    expect(r.items).toMatchObject([
      { gatewayId: 1, up: false, failures: 2 },
      { gatewayId: 2, up: true, lastStatus: 200, failures: 0 },
    ]);
    expect(r.history).toMatchObject([{ gatewayId: 1, up: false }]);

    silent = false;
    await health.probeAll();
    expect(health.usable(carriers)[0]!.gateways.map((g) => g.id)).toEqual([1, 2]);
    const after = body(await h.call('GET', '/v1/gateways/health'));
    expect(after.items).toMatchObject([
      { gatewayId: 1, up: true, lastStatus: 200 },
      { gatewayId: 2, up: true },
    ]);
    expect(after.history).toMatchObject([
      { gatewayId: 1, up: true },
      { gatewayId: 1, up: false },
    ]);
  });

  it('every gateway down: the routes keep them all (a wrong probe must not refuse every call)', async () => {
    const health = new GatewayHealth(
      () => Promise.resolve(carriers),
      () => Promise.resolve(undefined),
      h.s.redis,
      {
        namespace: `${h.s.namespace}:all-down`,
        intervalMs: 60_000,
        probeTimeoutMs: 1000,
        downAfter: 1,
        clock: realClock,
        log: pino({ level: 'silent' }),
      },
    );
    await health.probeAll();
    expect([health.isUp(1), health.isUp(2)]).toEqual([false, false]);
    expect(health.usable(carriers)).toBe(carriers);
  });
});
