import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { callerIdentity } from '../../src/sip/ivr/caller-identity.ts';
import { IllegalIvrTransition, IvrState, nextIvrState } from '../../src/sip/ivr/ivr-state.ts';
import type { IvrEventType } from '../../src/sip/ivr/ivr-state.ts';
import { userOf } from '../../src/sip/sip-app.ts';

describe('IVR state machine', () => {
  it('PIN-less path: welcome → balance → destination → authorising → dialling → connected → another call → goodbye → ended', () => {
    const events: IvrEventType[] = ['cli-login', 'done', 'destination', 'authorised', 'answered', 'far-end-hangup', 'done', 'done'];
    let s: IvrState = IvrState.Welcome;
    const seen: IvrState[] = [s];
    for (const e of events) {
      s = nextIvrState(s, e);
      seen.push(s);
    }
    expect(seen).toEqual(['welcome', 'balance', 'destination', 'authorising', 'dialling', 'connected', 'another-call', 'goodbye', 'ended']);
  });
  it('PIN path with a refusal: welcome → pin-entry → offer-cli → balance → destination → authorising → refusal → goodbye', () => {
    let s: IvrState = IvrState.Welcome;
    for (const e of ['pin-needed', 'pin-accepted', 'done', 'done', 'destination', 'refused', 'done'] as IvrEventType[]) s = nextIvrState(s, e);
    expect(s).toBe(IvrState.Goodbye);
  });
  it('another call goes back to the destination prompt without a new login', () => {
    expect(nextIvrState(IvrState.AnotherCall, 'another')).toBe(IvrState.Destination);
  });
  it('voucher top-up: 9 at the destination prompt opens the voucher menu, which goes back to the destination prompt, or to a refusal when the attempts are used up', () => {
    expect(nextIvrState(IvrState.Destination, 'voucher')).toBe(IvrState.Voucher);
    expect(nextIvrState(IvrState.Voucher, 'done')).toBe(IvrState.Destination);
    expect(nextIvrState(IvrState.Voucher, 'refused')).toBe(IvrState.Refusal);
    expect(() => nextIvrState(IvrState.Voucher, 'destination')).toThrow(IllegalIvrTransition);
    expect(() => nextIvrState(IvrState.Balance, 'voucher')).toThrow(IllegalIvrTransition);
  });
  it('hang-up ends any state but ended; an event a state cannot take throws', () => {
    for (const st of Object.values(IvrState)) if (st !== IvrState.Ended) expect(nextIvrState(st, 'hangup')).toBe(IvrState.Ended);
    expect(() => nextIvrState(IvrState.Ended, 'hangup')).toThrow(IllegalIvrTransition);
    expect(() => nextIvrState(IvrState.Welcome, 'answered')).toThrow(IllegalIvrTransition);
    expect(() => nextIvrState(IvrState.Connected, 'pin-accepted')).toThrow(IllegalIvrTransition);
  });
});

describe('caller identity', () => {
  const id = (h: Record<string, string>) => callerIdentity((n) => h[n]);
  it.each([
    [{ From: '<sip:+447700900123@carrier>;tag=1' }, { cli: '+447700900123', withheld: false }],
    [{ From: '"Bob" <sip:447700900123@carrier>;tag=1' }, { cli: '+447700900123', withheld: false }],
    [{ From: '<sip:anonymous@anonymous.invalid>;tag=1' }, { cli: null, withheld: true }],
    [
      { From: '<sip:+447700900123@carrier>;tag=1', Privacy: 'id' },
      { cli: '+447700900123', withheld: true },
    ],
    [
      { From: '<sip:anonymous@anonymous.invalid>;tag=1', 'P-Asserted-Identity': '<sip:+447700900999@carrier>', Privacy: 'id' },
      { cli: '+447700900999', withheld: true },
    ],
    [{ From: '<sip:alice@carrier>;tag=1' }, { cli: null, withheld: false }],
    [{ From: '<sip:%E0%A4%A@carrier>;tag=1' }, { cli: null, withheld: false }],
    [{}, { cli: null, withheld: true }],
  ])('%o → %o', (headers, want) => expect(id(headers)).toEqual(want));

  it('never throws on any header text', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), (from, pai, privacy) => {
        const r = id({ From: from, 'P-Asserted-Identity': pai, Privacy: privacy });
        expect(r.cli === null || /^\+[1-9][0-9]{6,14}$/.test(r.cli)).toBe(true);
      }),
    );
  });
});

describe('dialled number from the Request-URI', () => {
  it('reads sip, sips and tel users; a malformed escape gives no number instead of an error', () => {
    expect(userOf('sip:00441632960001@127.0.0.1')).toBe('00441632960001');
    expect(userOf('sips:+441632960001@example.com;user=phone')).toBe('+441632960001');
    expect(userOf('tel:+441632960001')).toBe('+441632960001');
    expect(userOf('sip:%E0%A4%A@host')).toBeUndefined();
    expect(userOf('sip:host')).toBeUndefined();
  });
});
