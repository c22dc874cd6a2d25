import { describe, expect, it } from 'vitest';
import type { Account } from '../../src/accounts/account-service.ts';
import { speedDialDialled, speedDialPosition } from '../../src/accounts/speed-dials.ts';
import { dialledText } from '../../src/api/web/customer-pages.ts';
import { loadConfig } from '../../src/config/config.ts';
import { deviceCallType } from '../../src/sip/invite/device-call-type.ts';
import { fakeInvite, fakeResponse } from '../support/invite-fakes.ts';

const base = { PIN_PEPPER: 'x'.repeat(32), DRACHTIO_SECRET: 'cymru-secret', SIP_NONCE_KEY: 'n'.repeat(32) };

describe('speed dial positions', () => {
  it.each([
    ['1', 1],
    ['07', 7],
    ['99', 99],
    ['0', undefined],
    ['00', undefined],
    ['100', undefined],
    ['', undefined],
    ['1a', undefined],
    [' 1', undefined],
  ])('%j is position %s', (s, n) => {
    expect(speedDialPosition(s)).toBe(n);
  });

  it.each([
    ['*7', '*', 7],
    ['*99', '*', 99],
    ['*100', '*', undefined],
    ['*0', '*', undefined],
    ['7', '*', undefined],
    ['#7', '*', undefined],
    ['**7', '**', 7],
    ['*07', '*0', 7],
    ['*7', '', undefined],
    ['+447700900123', '*', undefined],
  ])('%s dialled with prefix %j is speed dial %s', (dialled, prefix, n) => {
    expect(speedDialDialled(dialled, prefix)).toBe(n);
  });
});

describe('SPEED_DIAL_PREFIX', () => {
  it('defaults to * and takes * or # (one to three) then at most two digits', () => {
    expect(loadConfig(base).speedDialPrefix).toBe('*');
    expect(loadConfig({ ...base, SPEED_DIAL_PREFIX: '' }).speedDialPrefix).toBe('*'); // empty is unset, as for every setting
    for (const ok of ['#', '**', '*0', '##12']) expect(loadConfig({ ...base, SPEED_DIAL_PREFIX: ok }).speedDialPrefix).toBe(ok);
    for (const bad of ['1', '*123', '****', 'a', '* ']) expect(() => loadConfig({ ...base, SPEED_DIAL_PREFIX: bad }), bad).toThrow(/SPEED_DIAL_PREFIX/);
  });
});

describe('a device dialling a speed dial', () => {
  const account = { id: 7, currency: 'GBP', country: 'GB' } as unknown as Account;
  const setup = (prefix: string) => {
    const handled: unknown[][] = [];
    const device = deviceCallType({
      authenticate: () => Promise.resolve({ accountId: 7, username: 'alice' }),
      account: () => Promise.resolve(account),
      outbound: {
        handle: (...args: unknown[]) => {
          handled.push(args.slice(3, 5));
          return Promise.resolve();
        },
      },
      speedDials: { prefix, number: (accountId, position) => Promise.resolve(accountId === 7 && position === 12 ? '441632960001' : undefined) },
    });
    return { device, handled };
  };
  const ctx = { receivedAt: 1, callId: 'c-1', kind: 'device' as const, identity: { accountId: 7, username: 'alice' } };

  it('is placed to the number it stands for, the CDR keeping what was dialled; with another prefix, * is an ordinary dialled string', async () => {
    const star = setup('*');
    await star.device.route(fakeInvite({ uri: 'sip:*12@switch.test' }), fakeResponse(), ctx);
    expect(star.handled).toEqual([[expect.objectContaining({ dialledNumber: '*12' }), '+441632960001']]);
    const hash = setup('#');
    await hash.device.route(fakeInvite({ uri: 'sip:%2312@switch.test' }), fakeResponse(), ctx);
    await hash.device.route(fakeInvite({ uri: 'sip:*12@switch.test' }), fakeResponse(), ctx);
    expect(hash.handled).toEqual([
      [expect.objectContaining({ dialledNumber: '#12' }), '+441632960001'],
      [expect.objectContaining({ dialledNumber: '*12' }), '*12'],
    ]);
  });

  it('that is not set is refused 404 Speed Dial Not Set, and nothing is placed', async () => {
    const { device, handled } = setup('*');
    const res = fakeResponse();
    await device.route(fakeInvite({ uri: 'sip:*13@switch.test' }), res, ctx);
    expect(res.sent).toEqual([{ status: 404, reason: 'Speed Dial Not Set', headers: undefined }]);
    expect(handled).toEqual([]);
  });
});

describe('the calls page names speed-dialled calls', () => {
  const dials = [
    { position: 7, name: 'Mum', number: '+441632960001' },
    { position: 12, name: 'Office', number: '+441632960002' },
  ];
  it.each([
    [{ dialledNumber: '*7', destination: '441632960001' }, 'Mum (*7)'],
    [{ dialledNumber: '*07', destination: '441632960001' }, 'Mum (*07)'],
    [{ dialledNumber: '*12', destination: '441632960002' }, 'Office (*12)'],
    [{ dialledNumber: '*7', destination: '441632960009' }, '*7'],
    [{ dialledNumber: '01632960001', destination: '441632960001' }, '01632960001'],
    [{ dialledNumber: '*8', destination: '441632960001' }, '*8'],
    [{ dialledNumber: null, destination: null }, ''],
  ])('%j is shown as %j', (c, text) => {
    expect(dialledText(c, dials)).toBe(text);
  });
});
