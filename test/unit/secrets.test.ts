import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isE164, normaliseNumber } from '../../src/accounts/e164.ts';
import { generatePin, hashPassword, isValidPin, pinHmac, sipHa1, verifyPassword } from '../../src/accounts/secrets.ts';
import { assertMicros } from '../../src/billing/money.ts';

describe('PINs', () => {
  it('are 6 to 12 digits', () => {
    expect(isValidPin('12345')).toBe(false);
    expect(isValidPin('123456')).toBe(true);
    expect(isValidPin('1234567890123')).toBe(false);
    expect(isValidPin('12345a')).toBe(false);
  });
  it('are stored as a keyed hash that depends on the pepper', () => {
    expect(pinHmac('k1'.repeat(16), '123456').equals(pinHmac('k1'.repeat(16), '123456'))).toBe(true);
    expect(pinHmac('k1'.repeat(16), '123456').equals(pinHmac('k2'.repeat(16), '123456'))).toBe(false);
    expect(pinHmac('k'.repeat(32), '123456').toString('hex')).not.toContain('123456');
  });
  it('generated PINs are valid and have no leading zero', () => {
    for (let i = 0; i < 200; i++) {
      const p = generatePin(8);
      expect(isValidPin(p)).toBe(true);
      expect(p[0]).not.toBe('0');
    }
  });
});

describe('passwords and SIP HA1', () => {
  it('scrypt hashes verify the right password only', async () => {
    const h = await hashPassword('correct horse battery');
    expect(h.startsWith('scrypt$')).toBe(true);
    expect(await verifyPassword('correct horse battery', h)).toBe(true);
    expect(await verifyPassword('correct horse batterx', h)).toBe(false);
  });
  it('HA1 is MD5/SHA-256 of user:realm:password (RFC 2617 / RFC 7616 example values)', () => {
    expect(sipHa1('Mufasa', 'testrealm@host.com', 'Circle Of Life').md5).toBe('939e7578ed9e3c518a452acee763bce9');
    expect(sipHa1('Mufasa', 'http-auth@example.org', 'Circle of Life').sha256).toBe('7987c64c30e25f1b74be53f966b49b90f2808aa92faf9a00262392d7b4794232');
  });
});

describe('numbers', () => {
  const gb = { countryCode: '44', internationalPrefix: '00', trunkPrefix: '0' };
  const us = { countryCode: '1', internationalPrefix: '011', trunkPrefix: '1' };
  it.each([
    ['+44 20 7946 0018', gb, '+442079460018'],
    ['00441632960001', gb, '+441632960001'],
    ['07700 900123', gb, '+447700900123'],
    ['011 33 1 23 45 67 89', us, '+33123456789'],
    ['12025550123', us, '+12025550123'],
    ['123', gb, undefined],
    ['+0123456789', gb, undefined],
  ])('%s → %s', (raw, plan, want) => expect(normaliseNumber(raw, plan)).toBe(want));
  it('E.164 accepts + and 7 to 15 digits not starting with 0', () => {
    expect(isE164('+4420794600')).toBe(true);
    expect(isE164('4420794600')).toBe(false);
    expect(isE164('+1234567890123456')).toBe(false);
  });
});

describe('money guards', () => {
  it('accept exactly the safe integers within the limit', () => {
    fc.assert(
      fc.property(fc.double(), (v) => {
        const ok = Number.isSafeInteger(v) && Math.abs(v) <= 1e15;
        if (ok) expect(assertMicros(v, 'x')).toBe(v);
        else expect(() => assertMicros(v, 'x')).toThrow(RangeError);
      }),
    );
    expect(() => assertMicros(-1, 'x', { nonNegative: true })).toThrow(/must not be negative/);
    expect(() => assertMicros(0, 'x', { positive: true })).toThrow(/must be positive/);
  });
});
