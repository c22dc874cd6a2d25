/**
 * A dead gateway costs seconds, not Timer B: an INVITE that hears nothing at all, not even
 * 100 Trying, within the SIP server's provisional timeout (EDGE_INVITE_PROVISIONAL_TIMEOUT_MS,
 * 3 s) is given up (408 to the app, no more retransmissions, no CANCEL owed) and the next
 * gateway is tried. Both kinds of dead: a closed UDP port and a socket that reads and never answers.
 */
import { createSocket } from 'node:dgram';
import { createSipMetrics } from '../../src/observability/sip-metrics.ts';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { clean, SipAppHarness } from '../support/sip-app-harness.ts';
import type { Device } from '../support/sip-app-harness.ts';
import { SIP_SERVER } from '../support/sip-server-under-test.ts';

const UK = '441632960001';
const PROVISIONAL_TIMEOUT_MS = 3000;
/** drachtio-server has no provisional timeout: there a dead gateway still costs Timer B (docs/operations.md). */
const ONLY_DRACHTIO = SIP_SERVER.kind === 'drachtio';
let h: SipAppHarness;
let dev: Device;

beforeAll(async () => {
  // the RFC's timers (Timer B 32 s) and a no-answer timeout (10 s) well beyond the provisional
  // timeout: only the latter can explain a failover within seconds
  h = await SipAppHarness.start('sipdeadgw', {
    noAnswerTimeoutSeconds: 10,
    edgeTimers: { t1Ms: 500, t2Ms: 4000, t4Ms: 5000, pendingRequestMs: 64_000, inviteProvisionalMs: PROVISIONAL_TIMEOUT_MS },
  });
  dev = await h.device(5_000_000);
});
afterAll(async () => {
  await h.stop();
});
afterEach(async () => {
  await h.expectMoneyInvariant();
});

async function callViaSecondGateway(): Promise<number> {
  const before = h.settled.length;
  const answers = h.carrier(1, 'uas-answer-recv-bye.xml');
  const started = performance.now();
  const caller = h.run({ scenario: 'device-call.xml', service: `00${UK}`, user: dev.username, password: dev.password, pauseMs: 500, timeoutSec: 60 });
  await h.waitAnswered(h.answered.length + 1, 60_000);
  const elapsed = performance.now() - started;
  clean(await caller, await answers.done);
  await h.waitSettled(before + 1);
  const rows = await h.cdrs(dev.account.id);
  expect(rows[rows.length - 1]).toMatchObject({ disposition: 'answered', sipCode: 200 });
  return elapsed;
}

describe('dead gateways', () => {
  it.skipIf(ONLY_DRACHTIO)(
    'a closed UDP port: the next gateway answers within the provisional timeout',
    async () => {
      const from = h.gatewayEvents.length;
      const elapsed = await callViaSecondGateway();
      expect(elapsed).toBeGreaterThanOrEqual(PROVISIONAL_TIMEOUT_MS - 200);
      expect(elapsed).toBeLessThan(PROVISIONAL_TIMEOUT_MS + 4000);
      // per-gateway metrics: the dead one failed with 408, the next answered with its post-dial delay, then its call's seconds
      const events = h.gatewayEvents.slice(from);
      expect(events).toMatchObject([
        { kind: 'attempt', gatewayId: 1, result: 'failed', status: 408 },
        { kind: 'attempt', gatewayId: 2, result: 'answered', status: 200 },
        { kind: 'ended', gatewayId: 2 },
      ]);
      const metrics = createSipMetrics(() => 0);
      for (const e of events) {
        if (e.kind === 'attempt') metrics.events.gatewayAttempt(e);
        else metrics.events.gatewayCallEnded(e);
      }
      const text = await metrics.registry.metrics();
      expect(text).toContain('softswitch_gateway_failures_total{carrier="carrier-a",gateway="1",status="408"} 1');
      expect(text).toContain('softswitch_gateway_attempts_total{carrier="carrier-a",gateway="2",result="answered"} 1');
      expect(text).toMatch(/softswitch_gateway_post_dial_delay_seconds_count\{carrier="carrier-a",gateway="2"\} 1/);
      expect(text).toMatch(/softswitch_gateway_answered_seconds_total\{carrier="carrier-a",gateway="2"\} 0\.[1-9]/);
    },
    90_000,
  );

  it.skipIf(ONLY_DRACHTIO)(
    'a UDP sink: the next gateway answers within the provisional timeout, the INVITE is not retransmitted after it and never CANCELled',
    async () => {
      const sink = createSocket('udp4');
      const received: { at: number; method: string }[] = [];
      sink.on('message', (m) => received.push({ at: performance.now(), method: m.toString('latin1').split(' ', 1)[0]! }));
      await new Promise<void>((resolve) => sink.bind(h.gatewayPorts[0]!, h.carrierIp, resolve));
      try {
        const elapsed = await callViaSecondGateway();
        expect(elapsed).toBeLessThan(PROVISIONAL_TIMEOUT_MS + 4000);
        const invites = received.filter((r) => r.method === 'INVITE');
        expect(invites.length).toBeGreaterThanOrEqual(1);
        const first = invites[0]!.at;
        // keep listening past where Timer A would have retransmitted again (3.5 s, 7.5 s)
        await new Promise((r) => setTimeout(r, Math.max(0, first + 8000 - performance.now())));
        const all = received.filter((r) => r.method === 'INVITE');
        expect(all.every((r) => r.at - first < PROVISIONAL_TIMEOUT_MS + 100)).toBe(true);
        expect(received.filter((r) => r.method === 'CANCEL')).toHaveLength(0);
      } finally {
        sink.close();
      }
    },
    90_000,
  );
});
