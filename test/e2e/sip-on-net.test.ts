/**
 * Calls between subscribers stay on-net: a device dialling another subscriber's personal number
 * (in any form the dialling plan reads) rings that subscriber's registered devices directly,
 * never a carrier (none is listening here), free; the callee sees the caller's own personal
 * number. With no device registered the personal number's normal routing applies (480).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { randomPort } from '../support/edge-apps/ports.ts';
import { clean, SipAppHarness } from '../support/sip-app-harness.ts';
import type { Device } from '../support/sip-app-harness.ts';

const CALLER_DID = '+441632000401';
const CALLEE_DID = '+441632000402';
let h: SipAppHarness;
let caller: Device;
let callee: Device;

beforeAll(async () => {
  h = await SipAppHarness.start('siponnet');
  caller = await h.device(1_000_000);
  callee = await h.device(1_000_000);
  await h.s.pool.query('insert into dids (number, account_id) values ($1, $2), ($3, $4)', [CALLER_DID, caller.account.id, CALLEE_DID, callee.account.id]);
});
afterAll(async () => {
  await h.stop();
});
afterEach(async () => {
  for (const d of [caller, callee]) {
    expect(await h.money(d.account.id)).toMatchObject({ reserved: 0, callsInProgress: 0, redisBalance: 1_000_000, costs: 0 });
  }
});

describe('a subscriber calls another subscriber', () => {
  it("dialled nationally: the callee's device rings and answers, shown the caller's personal number; no carrier, nothing charged", async () => {
    const port = randomPort();
    clean(await h.run({ scenario: 'register.xml', user: callee.username, password: callee.password, port }));
    const before = h.settled.length;
    const answers = h.sipp({ scenario: 'device-answer-caller-id.xml', port, remote: undefined, vars: { cli: CALLER_DID } });
    const call = h.run({ scenario: 'device-call.xml', service: '01632000402', user: caller.username, password: caller.password, pauseMs: 500 });
    clean(await call, await answers.done);
    await h.waitSettled(before + 1);
    expect((await h.cdrs(callee.account.id)).at(-1)).toMatchObject({
      kind: 'did',
      disposition: 'answered',
      cost: 0,
      cli: CALLER_DID,
      device: callee.username,
      carrier: null,
    });
    clean(await h.run({ scenario: 'unregister.xml', user: callee.username, password: callee.password, port }));
  });

  it('no device registered: 480 Temporarily Unavailable, as for a call from the network', async () => {
    const before = h.settled.length;
    clean(
      await h.run({
        scenario: 'device-call-refused.xml',
        service: CALLEE_DID,
        user: caller.username,
        password: caller.password,
        vars: { status: '480', reason: 'Temporarily Unavailable' },
      }),
    );
    await h.waitSettled(before + 1);
    expect((await h.cdrs(callee.account.id)).at(-1)).toMatchObject({ kind: 'did', disposition: 'unavailable', sipCode: 480, cost: 0 });
  });
});
