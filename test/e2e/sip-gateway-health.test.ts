/**
 * Gateway health: a gateway that answers no OPTIONS probe is marked down (state and transition
 * in Redis for the API and console) and calls skip it, without waiting on it at all; once it
 * answers a probe again it is up and back in the routes.
 */
import { createSocket } from 'node:dgram';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { gatewayHealthKeys } from '../../src/common/gateway-health-state.ts';
import type { GatewayState } from '../../src/common/gateway-health-state.ts';
import { REDIS_KINDS } from '../support/services.ts';
import { clean, SipAppHarness } from '../support/sip-app-harness.ts';
import type { Device } from '../support/sip-app-harness.ts';

const UK = '441632960001';
let h: SipAppHarness;
let dev: Device;

async function stateOf(gatewayIndex: number): Promise<GatewayState | undefined> {
  const { rows } = await h.s.pool.query<{ id: number }>('select id from gateways where port = $1', [h.gatewayPorts[gatewayIndex]]);
  const raw = await h.s.redis.hget(gatewayHealthKeys(h.s.namespace).state, String(rows[0]!.id));
  return raw === null ? undefined : (JSON.parse(raw) as GatewayState);
}

async function until(what: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await what())) {
    if (Date.now() > end) throw new Error(`condition not reached in time: ${JSON.stringify([await stateOf(0), await stateOf(1)])}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.each(REDIS_KINDS)('on %s Redis', (redis) => {
  beforeAll(async () => {
    // without its health a dead gateway would hold the call for Timer B (the provisional timeout is off here)
    h = await SipAppHarness.start('sipgwhealth', {
      redis,
      noAnswerTimeoutSeconds: 10,
      gatewayHealth: { intervalSeconds: 4, probeTimeoutSeconds: 1, downAfter: 2 },
      edgeTimers: { t1Ms: 500, t2Ms: 4000, t4Ms: 5000, pendingRequestMs: 64_000, inviteProvisionalMs: 0 },
    });
    dev = await h.device(5_000_000);
  });
  afterAll(async () => {
    await h.stop();
  });
  afterEach(async () => {
    await h.expectMoneyInvariant();
  });

  describe('gateway health', () => {
    it('a gateway that answers no probe is marked down and skipped; it comes back when it answers', async () => {
      // a UDP responder that answers OPTIONS 200 while `alive()`, reads everything else and never answers it
      const invites: number[] = [];
      const responder = async (port: number, alive: () => boolean) => {
        const sock = createSocket('udp4');
        sock.on('message', (m, from) => {
          const text = m.toString('latin1');
          if (text.startsWith('INVITE ')) invites.push(port);
          if (alive() && text.startsWith('OPTIONS ')) {
            const keep = text.split('\r\n').filter((l) => /^(via|from|to|call-id|cseq):/i.test(l));
            sock.send(Buffer.from(['SIP/2.0 200 OK', ...keep, 'Content-Length: 0', '', ''].join('\r\n')), from.port, from.address);
          }
        });
        await new Promise<void>((resolve) => sock.bind(port, h.carrierIp, resolve));
        return sock;
      };
      let gw0Alive = false;
      const gw0 = await responder(h.gatewayPorts[0]!, () => gw0Alive);
      // gateway 1 answers its probes until the call; then sipp takes its port to answer the call
      const gw1 = await responder(h.gatewayPorts[1]!, () => true);
      let answers: ReturnType<SipAppHarness['carrier']> | undefined;
      try {
        await until(async () => (await stateOf(0))?.up === false, 15_000);
        expect(await stateOf(0)).toMatchObject({ up: false, failures: 2 });
        expect(await stateOf(1)).toMatchObject({ up: true, lastStatus: 200 });

        // right after a probe round: the next one is seconds away, gateway 1 stays up for the call
        await new Promise<void>((resolve) => gw1.close(() => resolve()));
        answers = h.carrier(1, 'uas-answer-recv-bye.xml');
        const before = h.settled.length;
        const started = Date.now();
        const caller = h.run({ scenario: 'device-call.xml', service: `00${UK}`, user: dev.username, password: dev.password, pauseMs: 200, timeoutSec: 30 });
        await h.waitAnswered(h.answered.length + 1, 30_000);
        // had gateway 0 been tried, the call would have waited the no-answer timeout (10 s) on it
        expect(Date.now() - started).toBeLessThan(3000);
        clean(await caller, await answers.done);
        await h.waitSettled(before + 1);
        expect(invites).toEqual([]);

        gw0Alive = true;
        await until(async () => (await stateOf(0))?.up === true, 15_000);
        const history = (await h.s.redis.lrange(gatewayHealthKeys(h.s.namespace).history, 0, -1)).map(
          (t) => JSON.parse(t) as { gatewayId: number; up: boolean },
        );
        const gw0Id = (await stateOf(0))!.gatewayId;
        expect(history.filter((t) => t.gatewayId === gw0Id).map((t) => t.up)).toEqual([true, false]); // newest first
      } finally {
        answers?.kill();
        gw0.close();
      }
    }, 90_000);
  });
});
