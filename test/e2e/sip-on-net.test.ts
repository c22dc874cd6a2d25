/**
 * Calls between subscribers stay on-net: a device dialling another subscriber's personal number
 * (in any form the dialling plan reads), SIP username or account number rings that subscriber's
 * registered devices directly, never a carrier (none is listening here), at the on-net rate (free
 * here, the default); the callee sees the caller's own personal number, else their username.
 * With no device registered the personal number's normal routing applies, else 480. Both sides
 * get a CDR.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { randomPort } from '../support/edge-apps/ports.ts';
import { clean, REALM, SipAppHarness } from '../support/sip-app-harness.ts';
import type { Device } from '../support/sip-app-harness.ts';

const CALLER_DID = '+441632000401';
const CALLEE_DID = '+441632000402';
const CAROL_DID = '+441632000403';
/** The From a callee must be shown for a caller with this personal number (a regular expression). */
const fromDid = (did: string) => `\\${did}`;
let h: SipAppHarness;
/** Has a personal number. */
let caller: Device;
/** Has a personal number ringing all their devices, and a second device user. */
let callee: Device;
let calleeSecond: Device;
/** Has no personal number. */
let plain: Device;
/** Their personal number rings their second device user only. */
let carol: Device;
let carolPhone: Device;

async function secondUser(of: Device, name: string): Promise<Device> {
  const d = { account: of.account, username: `${name}${of.account.id}`, password: `pw-${name}-${of.account.id}-0123456789` };
  await h.accountsSvc.setSipPassword(of.account.id, d.username, REALM, d.password);
  return d;
}

/** Registers `d` on a fresh port, runs `fn` with that port, unregisters. */
async function registered<T>(d: Device, fn: (port: number) => Promise<T>): Promise<T> {
  const port = randomPort();
  clean(await h.run({ scenario: 'register.xml', user: d.username, password: d.password, port }));
  try {
    return await fn(port);
  } finally {
    clean(await h.run({ scenario: 'unregister.xml', user: d.username, password: d.password, port }));
  }
}

beforeAll(async () => {
  h = await SipAppHarness.start('siponnet');
  caller = await h.device(1_000_000);
  callee = await h.device(1_000_000);
  plain = await h.device(1_000_000);
  carol = await h.device(1_000_000);
  calleeSecond = await secondUser(callee, 'desk');
  carolPhone = await secondUser(carol, 'phone');
  await h.s.pool.query('insert into dids (number, account_id, sip_username) values ($1, $2, null), ($3, $4, null), ($5, $6, $7)', [
    CALLER_DID,
    caller.account.id,
    CALLEE_DID,
    callee.account.id,
    CAROL_DID,
    carol.account.id,
    carolPhone.username,
  ]);
});
afterAll(async () => {
  await h.stop();
});
afterEach(async () => {
  for (const d of [caller, callee, plain, carol]) {
    expect(await h.money(d.account.id)).toMatchObject({ reserved: 0, callsInProgress: 0, redisBalance: 1_000_000, costs: 0 });
  }
  await h.expectMoneyInvariant();
});

describe('a subscriber calls another subscriber', () => {
  it("dialled nationally: the callee's device rings and answers, shown the caller's personal number; no carrier, nothing charged", async () => {
    await registered(callee, async (port) => {
      const before = h.settled.length;
      const answers = h.sipp({ scenario: 'device-answer-caller-id.xml', port, remote: undefined, vars: { cli: CALLER_DID } });
      const call = h.run({ scenario: 'device-call.xml', service: '01632000402', user: caller.username, password: caller.password, pauseMs: 500 });
      clean(await call, await answers.done);
      await h.waitSettled(before + 2);
    });
    expect((await h.cdrs(callee.account.id)).at(-1)).toMatchObject({
      kind: 'did',
      disposition: 'answered',
      cost: 0,
      cli: CALLER_DID,
      device: callee.username,
      carrier: null,
    });
    expect((await h.cdrs(caller.account.id)).at(-1)).toMatchObject({
      kind: 'device',
      disposition: 'answered',
      cost: 0,
      cli: CALLER_DID,
      device: caller.username,
      dialledNumber: '01632000402',
      destination: '441632000402',
      carrier: `on-net:${callee.username}`,
      ratePrefix: '0',
    });
  });

  it("by SIP username: that user's device rings and answers; both sides have a CDR", async () => {
    await registered(callee, async (port) => {
      const before = h.settled.length;
      const answers = h.sipp({ scenario: 'device-answer-from.xml', port, remote: undefined, vars: { from: fromDid(CALLER_DID) } });
      const call = h.run({ scenario: 'device-call.xml', service: callee.username, user: caller.username, password: caller.password, pauseMs: 500 });
      clean(await call, await answers.done);
      await h.waitSettled(before + 2);
    });
    const [theirs] = (await h.cdrs(callee.account.id)).slice(-1);
    const [mine] = (await h.cdrs(caller.account.id)).slice(-1);
    expect(mine).toMatchObject({
      kind: 'device',
      disposition: 'answered',
      sipCode: 200,
      cost: 0,
      cli: CALLER_DID,
      device: caller.username,
      dialledNumber: callee.username,
      destination: callee.username,
      carrier: `on-net:${callee.username}`,
    });
    expect(mine!.durationMs).toBeGreaterThan(0);
    expect(theirs).toMatchObject({
      kind: 'did',
      disposition: 'answered',
      cost: 0,
      cli: CALLER_DID,
      device: callee.username,
      destination: callee.username,
      callId: mine!.callId,
    });
  });

  it('by account number, two devices registered: both ring, one answers, the other is cancelled; a caller with no personal number is shown by username', async () => {
    await registered(callee, (port) =>
      registered(calleeSecond, async (secondPort) => {
        const before = h.settled.length;
        const answers = h.sipp({ scenario: 'device-answer-from.xml', port, remote: undefined, vars: { from: plain.username } });
        const rings = h.sipp({ scenario: 'uas-ring-recv-cancel.xml', port: secondPort, remote: undefined });
        const call = h.run({ scenario: 'device-call.xml', service: callee.account.number, user: plain.username, password: plain.password, pauseMs: 500 });
        clean(await call, await answers.done, await rings.done);
        await h.waitSettled(before + 2);
      }),
    );
    expect((await h.cdrs(plain.account.id)).at(-1)).toMatchObject({
      kind: 'device',
      disposition: 'answered',
      cli: plain.username,
      destination: callee.account.number,
      carrier: `on-net:${callee.username}`,
      cost: 0,
    });
    expect((await h.cdrs(callee.account.id)).at(-1)).toMatchObject({ kind: 'did', disposition: 'answered', cli: plain.username, device: callee.username });
  });

  it("a username with no device registered: the callee's personal number's own routing (its device user) answers", async () => {
    await registered(carolPhone, async (port) => {
      const before = h.settled.length;
      const answers = h.sipp({ scenario: 'device-answer-from.xml', port, remote: undefined, vars: { from: fromDid(CALLER_DID) } });
      const call = h.run({ scenario: 'device-call.xml', service: carol.username, user: caller.username, password: caller.password, pauseMs: 500 });
      clean(await call, await answers.done);
      await h.waitSettled(before + 2);
    });
    expect((await h.cdrs(caller.account.id)).at(-1)).toMatchObject({
      disposition: 'answered',
      destination: carol.username,
      carrier: `on-net:${carolPhone.username}`,
    });
    expect((await h.cdrs(carol.account.id)).at(-1)).toMatchObject({ kind: 'did', disposition: 'answered', device: carolPhone.username });
  });

  it('no device registered: 480 Temporarily Unavailable, and both CDRs say so', async () => {
    for (const service of [CALLEE_DID, carol.username, carol.account.number]) {
      const before = h.settled.length;
      clean(
        await h.run({
          scenario: 'device-call-refused.xml',
          service,
          user: caller.username,
          password: caller.password,
          vars: { status: '480', reason: 'Temporarily Unavailable' },
        }),
      );
      await h.waitSettled(before + 2);
      const owner = service === CALLEE_DID ? callee : carol;
      const expected = { disposition: 'unavailable', sipCode: 480, sipReason: 'Temporarily Unavailable', cost: 0 };
      expect((await h.cdrs(owner.account.id)).at(-1)).toMatchObject({ kind: 'did', ...expected });
      expect((await h.cdrs(caller.account.id)).at(-1)).toMatchObject({ kind: 'device', dialledNumber: service, carrier: 'on-net', ...expected });
    }
  });

  it('precedence: a username that reads as a phone number or an emergency number is that number; an unknown name is no subscriber', async () => {
    // subscribers whose usernames are digits: a national number that is another's personal number, and an emergency number
    const password = `pw-digits-${plain.account.id}-0123456789`;
    await h.accountsSvc.setSipPassword(plain.account.id, '01632000402', REALM, password);
    await h.accountsSvc.setSipPassword(plain.account.id, '999', REALM, password);
    // the personal number's owner answers, not the subscriber whose username is those digits
    await registered(callee, async (port) => {
      const before = h.settled.length;
      const answers = h.sipp({ scenario: 'device-answer-from.xml', port, remote: undefined, vars: { from: fromDid(CALLER_DID) } });
      const call = h.run({ scenario: 'device-call.xml', service: '01632000402', user: caller.username, password: caller.password, pauseMs: 200 });
      clean(await call, await answers.done);
      await h.waitSettled(before + 2);
    });
    expect((await h.cdrs(callee.account.id)).at(-1)).toMatchObject({ kind: 'did', device: callee.username });
    let before = h.settled.length;
    clean(
      await h.run({
        scenario: 'device-call-refused.xml',
        service: '999',
        user: caller.username,
        password: caller.password,
        vars: { status: '404', reason: 'Emergency Calls Not Supported' },
      }),
    );
    await h.waitSettled(before + 1);
    before = h.settled.length;
    clean(
      await h.run({
        scenario: 'device-call-refused.xml',
        service: 'nobody-here',
        user: caller.username,
        password: caller.password,
        vars: { status: '404', reason: 'Not A Phone Number' },
      }),
    );
    await h.waitSettled(before + 1);
    expect((await h.cdrs(caller.account.id)).at(-1)).toMatchObject({ kind: 'device', disposition: 'refused', sipCode: 404, carrier: null });
  });
});
