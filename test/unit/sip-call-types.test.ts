/** The call types behind one interface (src/sip/invite/*-call-type.ts), with plain fakes of the call flows they hand calls to. */
import { describe, expect, it } from 'vitest';
import type { Account } from '../../src/accounts/account-service.ts';
import { accessNumberCallType } from '../../src/sip/invite/access-number-call-type.ts';
import type { CallType } from '../../src/sip/invite/call-type.ts';
import { deviceCallType } from '../../src/sip/invite/device-call-type.ts';
import type { InviteContext } from '../../src/sip/invite/invite-context.ts';
import { personalNumberCallType } from '../../src/sip/invite/personal-number-call-type.ts';
import { fakeInvite, fakeResponse } from '../support/invite-fakes.ts';

const account = { id: 7, currency: 'GBP' } as unknown as Account;
const context = (over: Partial<InviteContext>): InviteContext => ({ receivedAt: 12.5, callId: 'c-1@host', ...over });

describe('device calls', () => {
  const handled: unknown[][] = [];
  const device = deviceCallType({
    authenticate: () => Promise.resolve({ accountId: 7, username: 'alice' }),
    account: (id) => Promise.resolve({ ...account, id }),
    outbound: {
      handle: (...args: unknown[]) => {
        handled.push(args.slice(2));
        return Promise.resolve();
      },
    },
  });
  it("authenticate by digest, and are routed as outbound prepaid calls with the caller's facts", async () => {
    handled.length = 0;
    const req = Object.assign(fakeInvite({ uri: 'sip:00441632960001@switch.test' }), { callingNumber: '441632960999' });
    expect(await device.accept(req, context({}))).toBeUndefined();
    expect(await device.authenticate!(req, fakeResponse())).toEqual({ accountId: 7, username: 'alice' });
    await device.route(req, fakeResponse(), context({ kind: 'device', identity: { accountId: 7, username: 'alice' } }));
    expect(handled).toEqual([
      [
        { ...account, id: 7 },
        {
          callId: 'c-1@host',
          kind: 'device',
          cli: '+441632960999',
          sourceIp: '192.0.2.10',
          accessNumber: null,
          device: 'alice',
          dialledNumber: '00441632960001',
        },
        '00441632960001',
        12.5,
      ],
    ]);
  });
  it('a Request-URI without a number: 400 Bad Request-URI, nothing routed', async () => {
    handled.length = 0;
    const res = fakeResponse();
    await device.route(fakeInvite({ uri: 'sip:switch.test' }), res, context({ kind: 'device', identity: { accountId: 7, username: 'alice' } }));
    expect(res.sent).toEqual([{ status: 400, reason: 'Bad Request-URI', headers: undefined }]);
    expect(handled).toEqual([]);
  });
});

describe('access-number calls', () => {
  it('without a media server: 503 No Media Server', async () => {
    expect(await accessNumberCallType({ ivr: undefined }).accept(fakeInvite(), context({}))).toBe('NO_MEDIA_SERVER');
  });
  it("are handed to the IVR with the access number, the carrier and the caller's identity", async () => {
    const facts: unknown[] = [];
    const type = accessNumberCallType({
      ivr: {
        handle: (_req, _res, f) => {
          facts.push(f);
          return Promise.resolve();
        },
      },
    });
    const req = fakeInvite({ source: '198.51.100.7', headers: { From: '<sip:+441632960999@carrier.test>;tag=1' } });
    expect(await type.accept(req, context({}))).toBeUndefined();
    expect(type.authenticate).toBeUndefined();
    await type.route(req, fakeResponse(), context({ kind: 'access-number', carrier: 'carrier-a', accessNumber: { number: '+441632960100', language: 'cy' } }));
    expect(facts).toEqual([
      {
        callId: 'c-1@host',
        accessNumber: '+441632960100',
        language: 'cy',
        sourceIp: '198.51.100.7',
        carrierId: 'carrier-a',
        identity: { cli: '+441632960999', withheld: false },
      },
    ]);
  });
});

describe('personal-number calls', () => {
  const routed: unknown[][] = [];
  const type = personalNumberCallType({
    personalNumber: (n) => Promise.resolve(n === '+441632960555' ? { accountId: 3, sipUsername: 'bob' } : undefined),
    did: {
      handle: (_req, _res, did, facts) => {
        routed.push([did, facts]);
        return Promise.resolve();
      },
    },
  });
  it.each([
    ['a number nobody owns', '+441632960556'],
    ['no number at all', undefined],
  ])('%s: 404 Number Not Found', async (_name, called) => {
    expect(await type.accept(fakeInvite(), context(called === undefined ? {} : { called }))).toBe('NUMBER_NOT_FOUND');
  });
  it("are forked to the owner's devices, the caller ID given a +", async () => {
    routed.length = 0;
    const ctx = context({ kind: 'personal-number', carrier: 'carrier-a', called: '+441632960555' });
    expect(await type.accept(fakeInvite(), ctx)).toBeUndefined();
    expect(ctx.personalNumber).toEqual({ number: '+441632960555', accountId: 3, sipUsername: 'bob' });
    await type.route(fakeInvite({ source: '198.51.100.7', headers: { From: 'sip:441632960999@carrier.test' } }), fakeResponse(), ctx);
    expect(routed).toEqual([
      [
        { number: '+441632960555', accountId: 3, sipUsername: 'bob' },
        { callId: 'c-1@host', cli: '+441632960999', sourceIp: '198.51.100.7', carrier: 'carrier-a' },
      ],
    ]);
  });
  it.each([
    ['a name-addr with a display name and a tag', '"Alice Smith" <sip:+441632960999@carrier.test>;tag=a1b2'],
    ['a name-addr without a display name', '<sip:441632960999@carrier.test;user=phone>;tag=x'],
    ['a tel URI', '<tel:+441632960999>;tag=x'],
  ])('keep the caller ID from %s', async (_name, from) => {
    routed.length = 0;
    const ctx = context({ kind: 'personal-number', carrier: 'carrier-a', called: '+441632960555' });
    expect(await type.accept(fakeInvite(), ctx)).toBeUndefined();
    await type.route(fakeInvite({ source: '198.51.100.7', headers: { From: from } }), fakeResponse(), ctx);
    expect(routed[0]![1]).toMatchObject({ cli: '+441632960999' });
  });
  it('an anonymous or withheld caller has no caller ID', async () => {
    routed.length = 0;
    const ctx = context({ kind: 'personal-number', carrier: 'carrier-a', called: '+441632960555' });
    await type.accept(fakeInvite(), ctx);
    await type.route(fakeInvite({ headers: { From: '"Anonymous" <sip:anonymous@anonymous.invalid>;tag=1' } }), fakeResponse(), ctx);
    await type.route(fakeInvite({ headers: { From: '<sip:+441632960999@carrier.test>;tag=1', Privacy: 'id' } }), fakeResponse(), ctx);
    expect(routed.map((r) => (r[1] as { cli: unknown }).cli)).toEqual([null, null]);
  });
});

describe('one interface', () => {
  it('each call type is a peer with its own kind', () => {
    const all: CallType[] = [
      deviceCallType({
        authenticate: () => Promise.resolve(undefined),
        account: () => Promise.resolve(account),
        outbound: { handle: () => Promise.resolve() },
      }),
      accessNumberCallType({ ivr: undefined }),
      personalNumberCallType({ personalNumber: () => Promise.resolve(undefined), did: { handle: () => Promise.resolve() } }),
    ];
    expect(all.map((t) => t.kind)).toEqual(['device', 'access-number', 'personal-number']);
  });
});
