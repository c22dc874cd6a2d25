/**
 * Calls ended from outside the call: an operator's hang-up (the API publishes a command on Redis,
 * the SIP app holding the call ends both legs and settles it), and the hard maximum duration that
 * applies whatever the credit (stale-call guard); graceful shutdown; reconnecting to a restarted
 * SIP server.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EdgeServer } from '../../src/edge/core/edge-server.ts';
import { sipCommandsChannel } from '../../src/sip/sip-commands.ts';
import type { HangupCommand } from '../../src/sip/sip-commands.ts';
import { randomPort } from '../support/edge-apps/ports.ts';
import { clean, RATE_PER_SECOND, SipAppHarness, startAppSipp } from '../support/sip-app-harness.ts';
import { TEST_REDIS_URL } from '../support/services.ts';
import { onlyOnEdge } from '../support/sip-server-under-test.ts';

const UK = '441632960001';

/** Stops the harness's SIP server and starts a new one on its ports; resolves once the app has reconnected. */
async function restartEdge(h: SipAppHarness): Promise<EdgeServer> {
  const config = h.edge.config;
  if (config === undefined) throw new Error('restarting the SIP server needs the embedded edge');
  const adminPort = h.edge.adminPort;
  const srf = h.sip.srf as unknown as { once(event: 'connect', fn: () => void): void };
  const reconnected = new Promise<void>((resolve) => srf.once('connect', () => resolve()));
  await h.edge.stop();
  const edge = new EdgeServer({ ...config, admin: { ...config.admin, port: adminPort } });
  await edge.start();
  await reconnected;
  return edge;
}

describe('an operator hangs up a call', () => {
  let h: SipAppHarness;
  let subscriber: Redis;
  beforeAll(async () => {
    h = await SipAppHarness.start('sipops', { sliceSeconds: 6, extendLeadSeconds: 2 });
    subscriber = new Redis(TEST_REDIS_URL);
    await h.sip.listenForCommands(subscriber);
  });
  afterAll(async () => {
    subscriber.disconnect();
    await h.stop();
  });

  it('the command reaches the app holding the call: both legs get BYE, the call settles once with what was talked', async () => {
    const dev = await h.device(600 * RATE_PER_SECOND);
    const before = h.settled.length;
    const answeredBefore = h.answered.length;
    const carrier = h.carrier(0, 'uas-answer-recv-bye.xml', { timeoutSec: 30 });
    const caller = h.sipp({ scenario: 'device-call-recv-bye.xml', service: `00${UK}`, user: dev.username, password: dev.password, timeoutSec: 30 });
    const [answered] = (await h.waitAnswered(answeredBefore + 1)).slice(-1);
    const cmd: HangupCommand = { op: 'hangup', callId: answered!.facts.callId, accountId: dev.account.id, requestedBy: 'test', at: Date.now() };
    expect(await h.s.redis.publish(sipCommandsChannel(h.s.namespace), JSON.stringify(cmd))).toBeGreaterThanOrEqual(1);
    clean(await caller.done, await carrier.done);
    const [settled] = (await h.waitSettled(before + 1)).slice(-1);
    expect(settled!.disposition).toBe('hangup_requested');
    const [cdr] = await h.cdrs(dev.account.id);
    expect(cdr).toMatchObject({ disposition: 'hangup_requested' });
    expect(cdr!.cost).toBe(cdr!.billedSeconds * RATE_PER_SECOND);
    await h.expectMoneyInvariant();
  });

  it('a command for a call this app does not hold changes nothing', async () => {
    const cmd: HangupCommand = { op: 'hangup', callId: 'no-such-call', accountId: 1, requestedBy: 'test', at: Date.now() };
    const before = h.settled.length;
    await h.s.redis.publish(sipCommandsChannel(h.s.namespace), JSON.stringify(cmd));
    await h.s.redis.publish(sipCommandsChannel(h.s.namespace), 'not json');
    expect(h.settled.length).toBe(before);
    await h.expectMoneyInvariant();
  });
});

describe('the hard maximum call duration', () => {
  let h: SipAppHarness;
  beforeAll(async () => {
    h = await SipAppHarness.start('sipmax', { sliceSeconds: 6, extendLeadSeconds: 2, maxCallSeconds: 4 });
  });
  afterAll(async () => {
    await h.stop();
  });

  it('ends a call with plenty of credit at the limit and bills exactly that', async () => {
    const dev = await h.device(600 * RATE_PER_SECOND);
    const before = h.settled.length;
    const carrier = h.carrier(0, 'uas-answer-recv-bye.xml', { timeoutSec: 30 });
    const caller = h.sipp({ scenario: 'device-call-recv-bye.xml', service: `00${UK}`, user: dev.username, password: dev.password, timeoutSec: 30 });
    clean(await caller.done, await carrier.done);
    const [settled] = (await h.waitSettled(before + 1)).slice(-1);
    expect(settled!.disposition).toBe('max_duration');
    const [cdr] = await h.cdrs(dev.account.id);
    expect(cdr).toMatchObject({ disposition: 'max_duration', billedSeconds: 4, cost: 4 * RATE_PER_SECOND });
    await h.expectMoneyInvariant();
  });
});

describe('graceful shutdown', () => {
  let h: SipAppHarness;
  beforeAll(async () => {
    h = await SipAppHarness.start('sipdrain', { sliceSeconds: 6, extendLeadSeconds: 2 });
  });
  afterAll(async () => {
    await h.stop();
  });

  it('refuses new calls with 503, lets the call in progress go on until the deadline, then hangs it up and settles it', async () => {
    const dev = await h.device(600 * RATE_PER_SECOND);
    const before = h.settled.length;
    const answeredBefore = h.answered.length;
    const carrier = h.carrier(0, 'uas-answer-recv-bye.xml', { timeoutSec: 30 });
    const caller = h.sipp({ scenario: 'device-call-recv-bye.xml', service: `00${UK}`, user: dev.username, password: dev.password, timeoutSec: 30 });
    await h.waitAnswered(answeredBefore + 1);
    const drained = h.sip.drain(1500);
    const refused = await h.sipp({ scenario: 'device-call-unavailable.xml', service: `00${UK}`, user: dev.username, password: dev.password, timeoutSec: 15 })
      .done;
    clean(refused);
    expect(h.settled.length).toBe(before); // the call in progress is still up
    expect(await drained).toEqual({ cut: 1 });
    clean(await caller.done, await carrier.done);
    const [settled] = (await h.waitSettled(before + 1)).slice(-1);
    expect(settled!.disposition).toBe('hangup_requested');
    expect(h.sip.callsInProgress).toBe(0);
    await h.expectMoneyInvariant();
  });
});

describe.skipIf(onlyOnEdge)('the app and the SIP server', () => {
  let h: SipAppHarness;
  let edge2: EdgeServer | undefined;
  beforeAll(async () => {
    h = await SipAppHarness.start('sipreconnect', { sliceSeconds: 6, extendLeadSeconds: 2 });
  });
  afterAll(async () => {
    await h.stop();
    await edge2?.stop();
  });

  async function oneCall(accountId: number, username: string, password: string): Promise<void> {
    const before = h.settled.length;
    const carrier = h.carrier(0, 'uas-answer-recv-bye.xml', { timeoutSec: 20 });
    const caller = h.sipp({ scenario: 'device-call.xml', service: `00${UK}`, user: username, password, timeoutSec: 20, pauseMs: 200 });
    clean(await caller.done, await carrier.done);
    const [settled] = (await h.waitSettled(before + 1)).slice(-1);
    expect(settled!.facts.accountId).toBe(accountId);
  }

  it('the app reconnects by itself when the SIP server restarts, and calls flow again', async () => {
    const dev = await h.device(600 * RATE_PER_SECOND);
    await oneCall(dev.account.id, dev.username, dev.password);
    edge2 = await restartEdge(h);
    await oneCall(dev.account.id, dev.username, dev.password);
    await h.expectMoneyInvariant();
  });
});

describe.skipIf(onlyOnEdge)('a SIP server restart during a call', () => {
  let h: SipAppHarness;
  let edge2: EdgeServer | undefined;
  beforeAll(async () => {
    h = await SipAppHarness.start('sipsiglost', { sliceSeconds: 6, extendLeadSeconds: 2 });
  });
  afterAll(async () => {
    await h.stop();
    await edge2?.stop();
  });

  it('the restarted server holds no dialog: after reconnecting the app ends the call, BYEs both legs from their stored state, and settles it up to then', async () => {
    const dev = await h.device(600 * RATE_PER_SECOND);
    const before = h.settled.length;
    const answeredBefore = h.answered.length;
    const carrier = h.carrier(0, 'uas-answer-recv-bye.xml', { timeoutSec: 30 });
    const caller = h.sipp({ scenario: 'device-call-recv-bye.xml', service: `00${UK}`, user: dev.username, password: dev.password, timeoutSec: 30 });
    try {
      const [answered] = (await h.waitAnswered(answeredBefore + 1)).slice(-1);
      await new Promise((r) => setTimeout(r, 1200)); // talk a little
      edge2 = await restartEdge(h);
      const reconnectedAt = Date.now();
      const [settled] = (await h.waitSettled(before + 1)).slice(-1);
      expect(settled!.facts.callId).toBe(answered!.facts.callId);
      expect(settled!.disposition).toBe('signalling_lost');
      const [cdr] = await h.cdrs(dev.account.id);
      expect(cdr).toMatchObject({ disposition: 'signalling_lost' });
      // billed from the answer to when the loss was found, not on until the credit or the maximum
      const talked = Math.ceil((reconnectedAt - answered!.answerTime!) / 1000);
      expect(cdr!.billedSeconds).toBeGreaterThanOrEqual(2);
      expect(cdr!.billedSeconds).toBeLessThanOrEqual(talked + 2);
      expect(cdr!.cost).toBe(cdr!.billedSeconds * RATE_PER_SECOND);
      expect(h.sip.callsInProgress).toBe(0);
      await h.expectMoneyInvariant();
      // the restarted server knew neither dialog: the caller and the carrier still got their BYE
      clean(await caller.done, await carrier.done);
    } finally {
      caller.kill();
      carrier.kill();
    }
  });
});

describe.skipIf(onlyOnEdge)('a SIP server restart during a call to a personal number', () => {
  let h: SipAppHarness;
  let edge2: EdgeServer | undefined;
  beforeAll(async () => {
    h = await SipAppHarness.start('sipdidlost');
  });
  afterAll(async () => {
    await h.stop();
    await edge2?.stop();
  });

  it('after reconnecting the app ends the call: the carrier and the device get a BYE from the stored state, one CDR signalling_lost at cost 0', async () => {
    const dev = await h.device(1_000_000);
    const did = '+441632000780';
    await h.s.pool.query('insert into dids (number, account_id) values ($1, $2)', [did, dev.account.id]);
    const port = randomPort();
    clean(await h.run({ scenario: 'register.xml', user: dev.username, password: dev.password, port }));
    const before = h.settled.length;
    const answeredBefore = h.answered.length;
    const device = h.sipp({ scenario: 'uas-answer-recv-bye.xml', port, remote: undefined, timeoutSec: 30 });
    const carrier = startAppSipp({ scenario: 'did-call-recv-bye.xml', ip: h.carrierIp, remote: h.remote, service: did, timeoutSec: 30 });
    try {
      const [answered] = (await h.waitAnswered(answeredBefore + 1)).slice(-1);
      await new Promise((r) => setTimeout(r, 1200)); // talk a little
      edge2 = await restartEdge(h);
      const [settled] = (await h.waitSettled(before + 1)).slice(-1);
      expect(settled!.facts.callId).toBe(answered!.facts.callId);
      expect(settled!.disposition).toBe('signalling_lost');
      const cdrs = await h.cdrs(dev.account.id);
      expect(cdrs).toHaveLength(1);
      expect(cdrs[0]).toMatchObject({ kind: 'did', disposition: 'signalling_lost', cost: 0 });
      expect(cdrs[0]!.durationMs).toBeGreaterThanOrEqual(1000);
      expect(h.sip.callsInProgress).toBe(0);
      // the restarted server knew neither dialog: the carrier and the device still got their BYE
      clean(await carrier.done, await device.done);
    } finally {
      carrier.kill();
      device.kill();
    }
  });
});
