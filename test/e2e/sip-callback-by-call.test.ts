/**
 * Callback by call: a carrier's INVITE to a callback access number (CALLBACK_ACCESS_NUMBERS) from
 * a caller ID registered to an account is never answered: 486 Busy Here, and a request
 * (origin 'caller-id') calls that caller ID back (leg A on carrier A's gateway) and connects it to
 * the account's callback destination (leg B on carrier B's). Withheld, unregistered caller IDs, no
 * destination, over the limits: the same 486 Busy Here (whose caller ID it is must not show), nothing
 * queued; withheld caller IDs and callbacks off: 403 with a reason phrase.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { callbackStreamKey } from '../../src/accounts/callback-queue.ts';
import type { CallbackQueue } from '../../src/accounts/callback-queue.ts';
import { callbackAccountCounterKey, CallbackRequests } from '../../src/accounts/callbacks.ts';
import { readDialled } from '../../src/sip/call/dialled-number.ts';
import { callbackCallIds } from '../../src/sip/call/callback-call.ts';
import { CALLBACK_KEY, clean, SipAppHarness, startAppSipp } from '../support/sip-app-harness.ts';
import type { Device } from '../support/sip-app-harness.ts';

const CALLBACK_NUMBER = '+441632960200';
/** The caller's phone: carrier-a (gateway 0) carries 44207…; the destination: carrier-b (gateway 1) carries 44161…. */
const CALLER = '+442071234567';
const DESTINATION = '441611234567';
const A = 0;
const B = 1;

let h: SipAppHarness;

beforeAll(async () => {
  h = await SipAppHarness.start('sipcbcall', {
    callback: true,
    callbackAccessNumbers: [CALLBACK_NUMBER],
    gateways: 1,
    sliceSeconds: 2,
    extendLeadSeconds: 1,
    keepAliveSeconds: 1,
  });
  await h.s.pool.query(`update carrier_prefixes set prefix = '44207' where carrier_id = 'carrier-a'`);
  await h.addCarrier('carrier-b', 'Carrier B', '44161');
});
afterAll(async () => {
  await h?.stop();
});
afterEach(async () => {
  await h.expectMoneyInvariant();
});

function callIn(harness: SipAppHarness, from: string, status: string, reason: string, privacy = 'none') {
  return startAppSipp({
    scenario: 'callback-number-call.xml',
    ip: harness.carrierIp,
    remote: harness.remote,
    service: CALLBACK_NUMBER,
    timeoutSec: 20,
    vars: { from, status, reason, privacy },
  }).done;
}

async function customer(cli: string, destination: string | null): Promise<Device> {
  const dev = await h.device(1_000_000);
  await h.accountsSvc.addCli(dev.account.id, cli, true);
  await h.s.pool.query('update accounts set callback_destination = $2 where id = $1', [dev.account.id, destination]);
  return dev;
}

const requestsOf = async (accountId: number) =>
  (await h.s.pool.query('select id, origin, call_me, connect_to, status from callback_requests where account_id = $1', [accountId])).rows;
const queued = async () => h.s.redis.xlen(callbackStreamKey(h.s.namespace));

describe('callback by call', () => {
  it('a registered caller ID: 486 Busy Here (never answered), then called back and connected to the destination', async () => {
    const dev = await customer(CALLER, DESTINATION);
    const before = h.settled.length;
    const phone = h.carrier(A, 'offerless-answer-send-bye.xml', { pauseMs: 1000 });
    const destination = h.carrier(B, 'uas-answer-recv-bye.xml');
    clean(await callIn(h, CALLER, '486', 'Busy Here'));
    clean(await phone.done, await destination.done);
    await h.waitSettled(before + 2);
    const rows = await requestsOf(dev.account.id);
    expect(rows).toEqual([{ id: expect.any(String), origin: 'caller-id', call_me: '442071234567', connect_to: DESTINATION, status: expect.any(String) }]);
    await expect.poll(async () => (await requestsOf(dev.account.id))[0]!.status).toBe('completed');
    const ids = callbackCallIds(rows[0]!.id as string);
    const cdrs = await h.cdrs(dev.account.id);
    expect(cdrs.find((c) => c.callId === ids.a)).toMatchObject({
      kind: 'callback',
      disposition: 'answered',
      carrier: 'carrier-a',
      destination: '442071234567',
    });
    expect(cdrs.find((c) => c.callId === ids.b)).toMatchObject({ kind: 'callback', disposition: 'answered', carrier: 'carrier-b', destination: DESTINATION });
    // the call to the callback number itself left no CDR that costs anything
    expect(
      cdrs
        .filter((c) => c.cost > 0)
        .map((c) => c.callId)
        .sort(),
    ).toEqual([ids.a, ids.b].sort());
  });

  it('an unregistered caller ID: the same 486 Busy Here (no oracle for registered caller IDs), nothing queued', async () => {
    const before = await queued();
    clean(await callIn(h, '+442079999001', '486', 'Busy Here'));
    expect(await queued()).toBe(before);
    const { rows } = await h.s.pool.query("select count(*)::int as n from callback_requests where call_me = '442079999001'");
    expect(rows[0].n).toBe(0);
  });

  it('a withheld caller ID (Privacy: id, or an anonymous From): 403 Caller ID Required, nothing queued, even when the number is registered', async () => {
    const dev = await customer('+442071234568', DESTINATION);
    const before = await queued();
    clean(await callIn(h, '+442071234568', '403', 'Caller ID Required', 'id'));
    clean(await callIn(h, 'anonymous', '403', 'Caller ID Required'));
    expect(await queued()).toBe(before);
    expect(await requestsOf(dev.account.id)).toEqual([]);
  });

  it('no callback destination set: the same 486 Busy Here, nothing queued, a refused CDR that says why', async () => {
    const dev = await customer('+442071234569', null);
    const before = await queued();
    clean(await callIn(h, '+442071234569', '486', 'Busy Here'));
    expect(await queued()).toBe(before);
    expect(await requestsOf(dev.account.id)).toEqual([]);
    await expect
      .poll(async () => (await h.cdrs(dev.account.id)).map((c) => [c.kind, c.disposition, c.sipCode, c.sipReason, c.cost, c.cli]))
      .toEqual([['callback', 'refused', 404, 'No Callback Destination', 0, '+442071234569']]);
  });

  it('over the hourly limits (the counters the API requests share): the same 486 Busy Here, nothing queued, a refused CDR', async () => {
    const dev = await customer('+442071234570', DESTINATION);
    await h.s.redis.set(callbackAccountCounterKey(h.s.namespace, dev.account.id), '100', 'EX', 3600);
    const before = await queued();
    clean(await callIn(h, '+442071234570', '486', 'Busy Here'));
    expect(await queued()).toBe(before);
    expect(await requestsOf(dev.account.id)).toEqual([]);
    await expect
      .poll(async () => (await h.cdrs(dev.account.id)).map((c) => [c.disposition, c.sipCode, c.sipReason, c.cost]))
      .toEqual([['refused', 486, 'Callback Limit', 0]]);
  });
});

describe('callback by call: the per-number limit, shared with the API', () => {
  it('requests the API made ringing the caller ID use up its hourly limit: the call gets the same 486 Busy Here, nothing queued', async () => {
    const dev = await customer('+442071234571', DESTINATION);
    // another account's API requests to the same number (the harness's limit per number is 100)
    const api = new CallbackRequests(
      h.s.pool,
      h.s.redis,
      { add: () => Promise.resolve('0-1') } as unknown as CallbackQueue,
      { read: readDialled, isBlocked: () => Promise.resolve(false) },
      { enabled: true, namespace: h.s.namespace, key: CALLBACK_KEY, maxPerHour: 1000, maxPerNumberPerHour: 100 },
    );
    const other = await h.device(1_000_000);
    for (let i = 0; i < 100; i++)
      await api.request({ id: other.account.id, country: 'GB', status: 'active' }, '+442071234571', `+4416112340${String(i).padStart(2, '0')}`, 'self-care');
    await h.s.pool.query("update callback_requests set status = 'failed', reason = 'test' where account_id = $1", [other.account.id]);
    const before = await queued();
    clean(await callIn(h, '+442071234571', '486', 'Busy Here'));
    expect(await queued()).toBe(before);
    expect(await requestsOf(dev.account.id)).toEqual([]);
  });
});

describe('callback by call: callbacks off', () => {
  it('CALLBACK_ENABLED off: 403 Callback Unavailable, nothing queued', async () => {
    const off = await SipAppHarness.start('sipcbcalloff', { callbackAccessNumbers: [CALLBACK_NUMBER] });
    try {
      const dev = await off.device(1_000_000);
      await off.accountsSvc.addCli(dev.account.id, CALLER, true);
      await off.s.pool.query('update accounts set callback_destination = $2 where id = $1', [dev.account.id, DESTINATION]);
      clean(await callIn(off, CALLER, '403', 'Callback Unavailable'));
      expect(await off.s.redis.exists(callbackStreamKey(off.s.namespace))).toBe(0);
      const { rows } = await off.s.pool.query('select count(*)::int as n from callback_requests');
      expect(rows[0].n).toBe(0);
    } finally {
      await off.stop();
    }
  });
});
