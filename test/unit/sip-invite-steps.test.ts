/** The INVITE middleware one step at a time (src/sip/invite/*), with plain fakes of their ports. */
import { describe, expect, it } from 'vitest';
import { acceptCall } from '../../src/sip/invite/accept-call.ts';
import { InviteAdmission } from '../../src/sip/invite/admit-invite.ts';
import { authenticateCaller } from '../../src/sip/invite/authenticate-caller.ts';
import type { CallType, CallTypes } from '../../src/sip/invite/call-type.ts';
import { classifyInvite } from '../../src/sip/invite/classify-invite.ts';
import type { ClassifyPorts } from '../../src/sip/invite/classify-invite.ts';
import { inviteOf } from '../../src/sip/invite/invite-context.ts';
import { rateCalls } from '../../src/sip/invite/rate-calls.ts';
import { refuseAccessNumberOffCarrier } from '../../src/sip/invite/refuse-access-number-off-carrier.ts';
import { requireCallId } from '../../src/sip/invite/require-call-id.ts';
import { routeCall } from '../../src/sip/invite/route-call.ts';
import { fakeInvite, fakeResponse, runStep, silentLog } from '../support/invite-fakes.ts';

const CARRIER_IP = '198.51.100.7';
const ACCESS = '+441632960100';
const CALLBACK_NUMBER = '+441632960200';
const classifyPorts: ClassifyPorts = {
  carrierForAddress: (address) => Promise.resolve(address === CARRIER_IP ? 'carrier-a' : undefined),
  accessNumber: (e164) => Promise.resolve(e164 === ACCESS ? { number: ACCESS, language: 'en' } : undefined),
  callbackNumber: (e164) => e164 === CALLBACK_NUMBER,
};
const unreachable = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

function types(over: Partial<{ [K in keyof CallTypes]: Partial<CallType> }> = {}): CallTypes & { routed: string[] } {
  const routed: string[] = [];
  const make = <K extends keyof CallTypes>(kind: K): CallTypes[K] =>
    ({
      kind,
      accept: () => Promise.resolve(undefined),
      route: () => {
        routed.push(kind);
        return Promise.resolve();
      },
      ...over[kind],
    }) as CallTypes[K];
  return {
    device: make('device'),
    'access-number': make('access-number'),
    'personal-number': make('personal-number'),
    'callback-number': make('callback-number'),
    routed,
  };
}

describe('admit-invite: counts INVITEs, refuses them while draining', () => {
  it('an admitted INVITE is in flight until its handling ends', () => {
    let invites = 0;
    const admission = new InviteAdmission({
      onInvite: () => {
        invites++;
      },
      elapsed: () => 42,
    });
    const req = fakeInvite();
    const res = fakeResponse();
    let passed = false;
    admission.middleware(req, res, () => {
      passed = true;
    });
    expect(passed).toBe(true);
    expect(invites).toBe(1);
    expect(admission.inflight).toBe(1);
    expect(inviteOf(req).receivedAt).toBe(42);
  });
  it('while draining: 503 Service Unavailable with Retry-After: 5, counted as an INVITE but not in flight', () => {
    let invites = 0;
    const admission = new InviteAdmission({
      onInvite: () => {
        invites++;
      },
    });
    admission.drain();
    const res = fakeResponse();
    admission.middleware(fakeInvite(), res, () => {
      throw new Error('must not pass');
    });
    expect(res.sent).toEqual([{ status: 503, reason: 'Service Unavailable', headers: { 'Retry-After': '5' } }]);
    expect(invites).toBe(1);
    expect(admission.inflight).toBe(0);
  });
  it('a step that ends the handling takes the INVITE out of flight, once', async () => {
    const admission = new InviteAdmission();
    const req = fakeInvite({ headers: { 'call-id': '' } });
    const res = fakeResponse();
    admission.middleware(req, res, () => undefined);
    expect(admission.inflight).toBe(1);
    await new Promise<void>((resolve) => {
      requireCallId(silentLog)(req, res, () => undefined);
      setImmediate(resolve);
    });
    expect(res.sent.map((s) => s.status)).toEqual([400]);
    expect(admission.inflight).toBe(0);
  });
});

describe('require-call-id: every call is keyed by its Call-ID', () => {
  it.each([
    ['absent', undefined],
    ['empty', ''],
    ['with a space', 'a b@host'],
    ['longer than 256', 'x'.repeat(257)],
  ])('%s: 400 Bad Call-ID', async (_name, id) => {
    const res = fakeResponse();
    const r = await runStep(requireCallId(silentLog), fakeInvite({ headers: { 'call-id': id } }), res);
    expect(r.outcome).toBe('answered');
    expect(res.sent).toEqual([{ status: 400, reason: 'Bad Call-ID', headers: undefined }]);
  });
  it('a usable Call-ID is kept on the context and the INVITE passes on', async () => {
    const r = await runStep(requireCallId(silentLog), fakeInvite({ headers: { 'call-id': ' abc@host ' } }), fakeResponse());
    expect(r.outcome).toBe('next');
    expect(r.context.callId).toBe('abc@host');
  });
});

describe('classify-invite: device, access number or personal number, by carrier address and called number', () => {
  it('from a carrier to an access number: an access-number call', async () => {
    const r = await runStep(classifyInvite(classifyPorts, silentLog), fakeInvite({ source: CARRIER_IP, uri: `sip:${ACCESS}@switch.test` }), fakeResponse());
    expect(r.outcome).toBe('next');
    expect(r.context).toMatchObject({ kind: 'access-number', carrier: 'carrier-a', called: ACCESS, accessNumber: { number: ACCESS, language: 'en' } });
  });
  it('from a carrier to any other number: a personal-number call', async () => {
    const r = await runStep(classifyInvite(classifyPorts, silentLog), fakeInvite({ source: CARRIER_IP, uri: 'sip:+441632960555@switch.test' }), fakeResponse());
    expect(r.context).toMatchObject({ kind: 'personal-number', carrier: 'carrier-a', called: '+441632960555' });
    expect(r.context.accessNumber).toBeUndefined();
  });
  it('from a carrier to a callback access number: a callback-number call; from a device: a device call marked for the next guard', async () => {
    const r = await runStep(
      classifyInvite(classifyPorts, silentLog),
      fakeInvite({ source: CARRIER_IP, uri: `sip:${CALLBACK_NUMBER}@switch.test` }),
      fakeResponse(),
    );
    expect(r.context).toMatchObject({ kind: 'callback-number', carrier: 'carrier-a', called: CALLBACK_NUMBER, callbackNumber: true });
    const d = await runStep(classifyInvite(classifyPorts, silentLog), fakeInvite({ uri: `sip:${CALLBACK_NUMBER}@switch.test` }), fakeResponse());
    expect(d.context).toMatchObject({ kind: 'device', callbackNumber: true });
  });
  it('from anywhere else: a device call, even to an access number (refused by the next guard)', async () => {
    const r = await runStep(classifyInvite(classifyPorts, silentLog), fakeInvite({ uri: `sip:${ACCESS}@switch.test` }), fakeResponse());
    expect(r.context).toMatchObject({ kind: 'device', accessNumber: { number: ACCESS } });
    expect(r.context.carrier).toBeUndefined();
  });
  it('a Request-URI without a number is still classified (the call type refuses it)', async () => {
    const r = await runStep(classifyInvite(classifyPorts, silentLog), fakeInvite({ uri: 'sip:switch.test' }), fakeResponse());
    expect(r.outcome).toBe('next');
    expect(r.context.kind).toBe('device');
    expect(r.context.called).toBeUndefined();
  });
  it('Postgres unreachable: 503 with Retry-After, as every dependency failure', async () => {
    const res = fakeResponse();
    const r = await runStep(classifyInvite({ ...classifyPorts, carrierForAddress: () => Promise.reject(unreachable()) }, silentLog), fakeInvite(), res);
    expect(r.outcome).toBe('answered');
    expect(res.sent).toEqual([{ status: 503, reason: 'Service Unavailable', headers: { 'Retry-After': '5' } }]);
  });
});

describe('refuse-access-number-off-carrier: access numbers are reached through carriers only', () => {
  it('an access number from a device: 403 Access Number Only Via Carrier', async () => {
    const res = fakeResponse();
    const r = await runStep(refuseAccessNumberOffCarrier(silentLog), fakeInvite(), res, { kind: 'device', accessNumber: { number: ACCESS, language: 'en' } });
    expect(r.outcome).toBe('answered');
    expect(res.sent).toEqual([{ status: 403, reason: 'Access Number Only Via Carrier', headers: undefined }]);
  });
  it('a callback access number from a device: 403 Access Number Only Via Carrier (a device cannot present a registered caller ID)', async () => {
    const res = fakeResponse();
    const r = await runStep(refuseAccessNumberOffCarrier(silentLog), fakeInvite(), res, { kind: 'device', callbackNumber: true });
    expect(r.outcome).toBe('answered');
    expect(res.sent).toEqual([{ status: 403, reason: 'Access Number Only Via Carrier', headers: undefined }]);
  });
  it('an access number from a carrier, or another number from a device, passes', async () => {
    expect(
      (
        await runStep(refuseAccessNumberOffCarrier(silentLog), fakeInvite(), fakeResponse(), {
          kind: 'access-number',
          carrier: 'carrier-a',
          accessNumber: { number: ACCESS, language: 'en' },
        })
      ).outcome,
    ).toBe('next');
    expect((await runStep(refuseAccessNumberOffCarrier(silentLog), fakeInvite(), fakeResponse(), { kind: 'device' })).outcome).toBe('next');
  });
});

describe("accept-call: the call type's own refusals", () => {
  it('a refusal is answered from the registry and ends the INVITE', async () => {
    const res = fakeResponse();
    const r = await runStep(acceptCall(types({ 'access-number': { accept: () => Promise.resolve('NO_MEDIA_SERVER') } }), silentLog), fakeInvite(), res, {
      kind: 'access-number',
    });
    expect(r.outcome).toBe('answered');
    expect(res.sent).toEqual([{ status: 503, reason: 'No Media Server', headers: undefined }]);
  });
  it('only the classified type is asked', async () => {
    const asked: string[] = [];
    const t = types({
      device: {
        accept: () => {
          asked.push('device');
          return Promise.resolve(undefined);
        },
      },
      'personal-number': {
        accept: () => {
          asked.push('personal');
          return Promise.resolve('NUMBER_NOT_FOUND');
        },
      },
    });
    expect((await runStep(acceptCall(t, silentLog), fakeInvite(), fakeResponse(), { kind: 'device' })).outcome).toBe('next');
    expect(asked).toEqual(['device']);
  });
});

describe('authenticate-caller: only call types that authenticate', () => {
  it('a type that answered the request itself (407 challenge) ends the INVITE', async () => {
    const res = fakeResponse();
    const t = types({
      device: {
        authenticate: (_req, r) => {
          r.send(407, 'Proxy Authentication Required');
          return Promise.resolve(undefined);
        },
      },
    });
    const r = await runStep(authenticateCaller(t, silentLog), fakeInvite(), res, { kind: 'device' });
    expect(r.outcome).toBe('answered');
    expect(res.sent.map((s) => s.status)).toEqual([407]);
  });
  it('an authenticated caller is kept on the context', async () => {
    const t = types({ device: { authenticate: () => Promise.resolve({ accountId: 7, username: 'alice' }) } });
    const r = await runStep(authenticateCaller(t, silentLog), fakeInvite(), fakeResponse(), { kind: 'device' });
    expect(r.outcome).toBe('next');
    expect(r.context.identity).toEqual({ accountId: 7, username: 'alice' });
  });
  it('a type without authentication (carrier calls) passes untouched', async () => {
    const r = await runStep(authenticateCaller(types(), silentLog), fakeInvite(), fakeResponse(), { kind: 'personal-number' });
    expect(r.outcome).toBe('next');
    expect(r.context.identity).toBeUndefined();
  });
});

describe('rate-calls: every call counted, authenticated callers held to their rate', () => {
  it("over the account's rate: 480 Call Rate Limit Exceeded with Retry-After: 1 (no failover to another server), the refusal recorded", async () => {
    let recorded = 0;
    const checked: number[] = [];
    const refusals: unknown[] = [];
    const res = fakeResponse();
    const r = await runStep(
      rateCalls(
        {
          record: () => {
            recorded++;
          },
          check: (id) => {
            checked.push(id);
            return Promise.resolve({ kind: 'limited' });
          },
          refused: (_req, context, code) => {
            refusals.push([context.identity?.accountId, code]);
            return Promise.resolve();
          },
        },
        silentLog,
      ),
      fakeInvite(),
      res,
      { kind: 'device', identity: { accountId: 9, username: 'bob' } },
    );
    expect(r.outcome).toBe('answered');
    expect(res.sent).toEqual([{ status: 480, reason: 'Call Rate Limit Exceeded', headers: { 'Retry-After': '1' } }]);
    expect([recorded, checked]).toEqual([1, [9]]);
    expect(refusals).toEqual([[9, 'CALL_RATE_LIMITED']]);
  });
  it('within the rate, or without an authenticated caller, the call passes (and is counted)', async () => {
    let recorded = 0;
    let checks = 0;
    const ports = {
      record: () => {
        recorded++;
      },
      check: () => {
        checks++;
        return Promise.resolve({ kind: 'allowed' });
      },
    };
    expect(
      (await runStep(rateCalls(ports, silentLog), fakeInvite(), fakeResponse(), { kind: 'device', identity: { accountId: 9, username: 'bob' } })).outcome,
    ).toBe('next');
    expect((await runStep(rateCalls(ports, silentLog), fakeInvite(), fakeResponse(), { kind: 'access-number' })).outcome).toBe('next');
    expect([recorded, checks]).toEqual([2, 1]);
  });
});

describe('route-call: the classified call type carries the call', () => {
  it("hands the call to its type and ends the INVITE's handling", async () => {
    const t = types();
    const r = await runStep(routeCall(t, silentLog), fakeInvite(), fakeResponse(), { kind: 'personal-number' });
    expect(r.outcome).toBe('finished');
    expect(t.routed).toEqual(['personal-number']);
  });
  it('a bug in a call flow: 500 Server Internal Error', async () => {
    const res = fakeResponse();
    const r = await runStep(routeCall(types({ device: { route: () => Promise.reject(new TypeError('boom')) } }), silentLog), fakeInvite(), res, {
      kind: 'device',
    });
    expect(r.outcome).toBe('answered');
    expect(res.sent).toEqual([{ status: 500, reason: 'Server Internal Error', headers: undefined }]);
  });
  it('a step run out of order (no call kind) is a bug: 500, never a pass', async () => {
    const res = fakeResponse();
    const r = await runStep(routeCall(types(), silentLog), fakeInvite(), res);
    expect(r.outcome).toBe('answered');
    expect(res.sent.map((s) => s.status)).toEqual([500]);
  });
});
