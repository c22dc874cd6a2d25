// A SIP application process killed (SIGKILL) while a menu callback's customer is in the menu, and
// while they are in a call placed from the menu, with another process on the same SIP server: the
// survivor finds the legs' keep-alives stale, sends the customer's phone (and the destination) a
// BYE from the dialog state kept in Redis, and settles each leg up to its last keep-alive
// (disposition `orphaned`). The customer's phone answers the offer-less INVITE on the carrier's
// gateway (test/support/ivr-caller.ts); the destination is sipp on a second carrier.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CallbackQueue } from '../../src/accounts/callback-queue.ts';
import { CallbackRequests } from '../../src/accounts/callbacks.ts';
import type { CallbackRequest } from '../../src/accounts/callbacks.ts';
import { callbackCallIds } from '../../src/sip/call/callback-call.ts';
import { readDialled } from '../../src/sip/call/dialled-number.ts';
import { randomPort } from '../support/edge-apps/ports.ts';
import { IvrCaller } from '../support/ivr-caller.ts';
import { startAppSipp } from '../support/sip-app-harness.ts';
import { RATE_PER_SECOND, SoakHarness } from './soak-harness.ts';

let h: SoakHarness;
let requests: CallbackRequests;
const destinationPort = randomPort();

beforeAll(async () => {
  h = await SoakHarness.start('cbmenuorphan', { CALL_KEEPALIVE_SECONDS: '1', CALLBACK_ENABLED: 'true', IVR_MENU_HINTS: 'false' });
  // the destinations (44161…) on a second carrier; the customers' phones on the first (every other number)
  await h.s.pool.query(`insert into carriers (id, name) values ('carrier-b', 'Carrier B')`);
  await h.s.pool.query(`insert into carrier_prefixes (carrier_id, prefix) values ('carrier-b', '44161')`);
  await h.s.pool.query('insert into gateways (carrier_id, address, port, priority) values ($1, $2, $3, 10)', ['carrier-b', h.carrierIp, destinationPort]);
  requests = new CallbackRequests(
    h.s.pool,
    h.s.redis,
    new CallbackQueue(h.s.redis, h.namespace),
    { read: readDialled, isBlocked: () => Promise.resolve(false) },
    { enabled: true, namespace: h.namespace, key: 'callback-soak-key', maxPerHour: 100, maxPerNumberPerHour: 100 },
  );
  await Promise.all([h.startApp('app-1', { MEDIA_RTP_PORT_MIN: '31000', MEDIA_RTP_PORT_MAX: '31199' })]);
}, 90_000);

afterAll(async () => {
  await h?.stop();
}, 60_000);

/** The process that placed the request (it logs the callback answered into the menu). */
function placer(r: CallbackRequest) {
  return h.apps.find((a) => a.log.some((l) => l.includes('"msg":"callback answered into the menu"') && l.includes(r.id)));
}

async function cdrsOf(r: CallbackRequest) {
  const { rows } = await h.s.pool.query<{ callId: string; disposition: string; billed: number; cost: string }>(
    `select call_id as "callId", disposition, billed_seconds as billed, cost from cdrs where call_id like $1 order by start_time`,
    [`callback-${r.id}-%`],
  );
  return rows;
}

async function expectMoneyInvariant(accountId: number): Promise<void> {
  const m = await h.money(accountId);
  expect(m).toMatchObject({ reserved: 0, callsInProgress: 0, duplicateCdrs: 0 });
  expect(m.topUps - m.costs).toBe(m.redisBalance);
  expect(m.postgresBalance).toBe(m.redisBalance);
}

it('kill -9 of the process while the customer is in the menu: another process sends the phone a BYE and bills leg A up to its last keep-alive', async () => {
  const survivor = h.startApp('app-2', { MEDIA_RTP_PORT_MIN: '31200', MEDIA_RTP_PORT_MAX: '31399' });
  const phone = await IvrCaller.answering({ ip: h.carrierIp, port: h.gatewayPort });
  try {
    const d = await h.device(600 * RATE_PER_SECOND);
    const r = await requests.request({ id: d.accountId, country: 'GB', status: 'active' }, '+442071234567', null, 'self-care');
    await phone.waitAnswered(30_000);
    await phone.waitPrompt('enter-destination', 30_000);
    await survivor;
    await h.until(async () => placer(r) !== undefined, 10_000, 'the placing process to log the menu');
    await placer(r)!.kill('SIGKILL');
    const bye = await phone.waitBye(30_000);
    expect(bye.reason).toContain('signalling_lost');
    await h.until(async () => (await cdrsOf(r)).length === 1, 30_000, "leg A's CDR to reach Postgres");
    const [a] = await cdrsOf(r);
    expect(a).toMatchObject({ callId: callbackCallIds(r.id).a, disposition: 'orphaned' });
    expect(a!.billed).toBeGreaterThan(0);
    expect(Number(a!.cost)).toBe(a!.billed * RATE_PER_SECOND);
    await h.until(async () => (await h.unwritten()) === 0, 30_000, 'the ledger to catch up');
    await expectMoneyInvariant(d.accountId);
    expect(await h.live(d.accountId)).toEqual([]);
  } finally {
    await phone.close();
  }
}, 120_000);

it('kill -9 of the process during a call placed from the menu: both phones get a BYE, both legs billed up to their last keep-alive', async () => {
  if (h.apps.filter((a) => a.child.exitCode === null && a.child.signalCode === null).length < 2)
    await h.startApp('app-3', { MEDIA_RTP_PORT_MIN: '31400', MEDIA_RTP_PORT_MAX: '31599' });
  const phone = await IvrCaller.answering({ ip: h.carrierIp, port: h.gatewayPort });
  const destination = startAppSipp({ scenario: 'uas-answer-recv-bye.xml', ip: h.carrierIp, port: destinationPort, timeoutSec: 60 });
  try {
    const d = await h.device(600 * RATE_PER_SECOND);
    const r = await requests.request({ id: d.accountId, country: 'GB', status: 'active' }, '+442071234567', null, 'self-care');
    await phone.waitAnswered(30_000);
    await phone.waitPrompt('enter-destination', 30_000);
    phone.skipHeard();
    phone.press('01611234567#');
    await phone.expectHeard(['connecting'], { anywhere: true, timeoutMs: 30_000 });
    // leg B is answered and its legs recorded beside leg A in the live-call registry
    const ids = callbackCallIds(r.id);
    const registered = async () => h.s.redis.zrange(`${h.namespace}:sip:live`, '0', '-1');
    await h.until(async () => (await registered()).includes(`${d.accountId}:${ids.b}`), 30_000, 'leg B in the live-call registry');
    expect(await registered()).toContain(`${d.accountId}:${ids.a}`);
    await placer(r)!.kill('SIGKILL');
    const [bye, dest] = await Promise.all([phone.waitBye(30_000), destination.done]);
    expect(bye.reason).toContain('signalling_lost');
    expect(dest.code, `destination: ${dest.errors}\n${dest.stdout.slice(-1500)}`).toBe(0);
    await h.until(async () => (await cdrsOf(r)).length === 2, 30_000, 'both CDRs to reach Postgres');
    const cdrs = await cdrsOf(r);
    expect(cdrs.map((c) => [c.callId, c.disposition])).toEqual([
      [ids.a, 'orphaned'],
      [ids.b, 'orphaned'],
    ]);
    for (const c of cdrs) expect(Number(c.cost)).toBe(c.billed * RATE_PER_SECOND);
    await h.until(async () => (await h.unwritten()) === 0, 30_000, 'the ledger to catch up');
    await expectMoneyInvariant(d.accountId);
    expect(await h.live(d.accountId)).toEqual([]);
  } finally {
    destination.kill();
    await phone.close();
  }
}, 120_000);
