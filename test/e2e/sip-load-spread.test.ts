/**
 * Calls spread over the SIP app processes: with two processes on one SIP server, a device's call
 * (an INVITE challenged 407, then the one with credentials, same Call-ID) is served by one
 * process, and successive calls alternate, so each process answers about half of them (within
 * 60/40). Plain round-robin of INVITEs gave every challenge to one process and every call to the other.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { clean, SipAppHarness } from '../support/sip-app-harness.ts';
import type { Device } from '../support/sip-app-harness.ts';
import { SIP_SERVER } from '../support/sip-server-under-test.ts';

const UK = '441632960001';
const CALLS = 20;
let h: SipAppHarness;
let dev: Device;

beforeAll(async () => {
  h = await SipAppHarness.start('sipspread');
  dev = await h.device(50_000_000);
});
afterAll(async () => {
  await h.stop();
});
afterEach(async () => {
  await h.expectMoneyInvariant();
});

describe('load spread over app processes', () => {
  // drachtio-server hands out INVITEs strictly in turn (docs/operations.md)
  it.skipIf(SIP_SERVER.kind === 'drachtio')(
    `${CALLS} device calls over two processes: each answers between 40 % and 60 %`,
    async () => {
      const second = await h.addApp();
      const before = h.answered.length;
      const settledBefore = h.settled.length;
      const carrier = h.carrier(0, 'uas-answer-recv-bye.xml', { calls: CALLS, timeoutSec: 60 });
      const run = await h.run({
        scenario: 'device-call.xml',
        service: `00${UK}`,
        user: dev.username,
        password: dev.password,
        pauseMs: 200,
        calls: CALLS,
        rate: 5,
        timeoutSec: 60,
      });
      clean(run, await carrier.done);
      await h.waitSettled(settledBefore + CALLS, 30_000);
      const total = h.answered.length - before;
      expect(total).toBe(CALLS);
      const onSecond = second.answered.length;
      expect(onSecond).toBeGreaterThanOrEqual(CALLS * 0.4);
      expect(onSecond).toBeLessThanOrEqual(CALLS * 0.6);
    },
    120_000,
  );

  it.skipIf(SIP_SERVER.kind === 'drachtio')(
    '21 device calls over three processes: 7 each',
    async () => {
      // the second process of the test above is still connected
      const third = await h.addApp();
      const before = h.answered.length;
      const settledBefore = h.settled.length;
      const carrier = h.carrier(0, 'uas-answer-recv-bye.xml', { calls: 21, timeoutSec: 60 });
      const run = await h.run({
        scenario: 'device-call.xml',
        service: `00${UK}`,
        user: dev.username,
        password: dev.password,
        pauseMs: 200,
        calls: 21,
        rate: 5,
        timeoutSec: 60,
      });
      clean(run, await carrier.done);
      await h.waitSettled(settledBefore + 21, 30_000);
      expect(h.answered.length - before).toBe(21);
      expect(third.answered.length).toBe(7);
    },
    120_000,
  );
});
