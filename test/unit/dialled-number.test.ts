import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sipStatusOf } from '../../src/errors.ts';
import { normaliseDialled, readDialled } from '../../src/sip/call/dialled-number.ts';

describe('dialled numbers: one normal form for screening, rating and routing', () => {
  it.each([
    ['+449098765432', 'GB', '449098765432'],
    ['+4409098765432', 'GB', '449098765432'],
    ['004409098765432', 'GB', '449098765432'],
    ['+44(0)9098765432', 'GB', '449098765432'],
    ['+44 0 909 876 5432', 'GB', '449098765432'],
    ['09098765432', 'GB', '449098765432'],
    ['01144 9098765432', 'US', '449098765432'],
    ['011440 9098765432', 'US', '449098765432'],
    ['+44009098765432', 'GB', undefined], // two trunk zeros: not a number anybody can be connected to
    ['+12125550100', 'GB', '12125550100'],
    ['+112125550100', 'GB', '12125550100'], // NANP trunk 1 after the country code
    ['+3906123456', 'GB', '3906123456'], // Italy keeps its leading 0
    ['+353014567890', 'GB', '35314567890'],
    ['+4400', 'GB', undefined],
    ['+44', 'GB', undefined],
    ['*44#', 'GB', undefined],
  ])('%s dialled from %s → %s', (dialled, country, want) => {
    expect(normaliseDialled(dialled, country)).toBe(want);
  });

  it('a GB number reads the same however it is written: +44, 0044, national 0, with a (0) or a 0 after the country code', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[1-9][0-9]{8,9}$/), (national) => {
        const want = `44${national}`;
        for (const written of [`+44${national}`, `0044${national}`, `0${national}`, `+440${national}`, `0044(0)${national}`, `+44 (0) ${national}`]) {
          expect(normaliseDialled(written, 'GB')).toBe(want);
        }
      }),
    );
  });

  it('whatever is dialled, a result starting with a blocked prefix is the only way to reach a number under it (no 44-0-90 bypass)', () => {
    const blocked = '4490';
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9]{6,9}$/), fc.constantFrom('+44', '0044', '+440', '00440', '+44(0)', '0'), (rest, lead) => {
        const dialled = `${lead}90${rest}`;
        const out = normaliseDialled(dialled, 'GB');
        if (out !== undefined) expect(out.startsWith(blocked)).toBe(true);
      }),
    );
  });
});

describe('numbers as people dial them (readDialled): a destination, or why not', () => {
  it.each([
    ['447700900123', 'GB', '447700900123'], // E.164 without the +
    ['+447700900123', 'GB', '447700900123'],
    ['00447700900123', 'GB', '447700900123'],
    ['07700 900123', 'GB', '447700900123'], // national, with the account's country
    ['33612345678', 'GB', '33612345678'], // another country, E.164 without the +
    ['612345678', 'ES', '34612345678'], // national where there is no trunk prefix
    ['34612345678', 'ES', '34612345678'],
    ['2125550100', 'US', '12125550100'], // NANP ten digits
    ['12125550100', 'US', '12125550100'],
    ['sip-user-part:%2B447700900123', 'GB', undefined],
  ])('%s from %s → %s', (dialled, country, want) => {
    const r = readDialled(dialled, country);
    if (want === undefined) expect(r.ok).toBe(false);
    else expect(r).toEqual({ ok: true, destination: want });
  });

  it.each([
    ['999', 'GB', 'EMERGENCY_NOT_SUPPORTED'],
    ['112', 'GB', 'EMERGENCY_NOT_SUPPORTED'],
    ['112', 'DE', 'EMERGENCY_NOT_SUPPORTED'],
    ['911', 'US', 'EMERGENCY_NOT_SUPPORTED'],
    ['000', 'AU', 'EMERGENCY_NOT_SUPPORTED'],
    ['118118', 'GB', 'SHORT_CODE_NOT_SUPPORTED'],
    ['123', 'GB', 'SHORT_CODE_NOT_SUPPORTED'],
    ['*44#', 'GB', 'SHORT_CODE_NOT_SUPPORTED'],
    ['9460000', 'GB', 'ADDRESS_INCOMPLETE'], // a local number without its area code
    ['0770090', 'GB', 'ADDRESS_INCOMPLETE'],
    ['+44', 'GB', 'ADDRESS_INCOMPLETE'],
    ['00', 'GB', 'SHORT_CODE_NOT_SUPPORTED'],
    ['+44009098765432', 'GB', 'NOT_A_PHONE_NUMBER'], // two trunk zeros
    ['+4412345678901234', 'GB', 'NOT_A_PHONE_NUMBER'], // longer than E.164 allows
    ['alice', 'GB', 'NOT_A_PHONE_NUMBER'],
    ['', 'GB', 'NOT_A_PHONE_NUMBER'],
  ])('%s from %s is refused: %s', (dialled, country, code) => {
    const r = readDialled(dialled, country);
    expect(r).toMatchObject({ ok: false, code });
  });

  it('every refusal has a SIP status of 404 or 484 with its own reason phrase, never 400', () => {
    for (const code of ['EMERGENCY_NOT_SUPPORTED', 'SHORT_CODE_NOT_SUPPORTED', 'ADDRESS_INCOMPLETE', 'NOT_A_PHONE_NUMBER'] as const) {
      const [status, reason] = sipStatusOf(code);
      expect([404, 484]).toContain(status);
      expect(reason).not.toMatch(/^(Bad Request|Not Found)$/);
    }
    expect(sipStatusOf('ADDRESS_INCOMPLETE')).toEqual([484, 'Address Incomplete']);
  });

  it('normaliseDialled is the destination of readDialled', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[+0-9*#]{0,17}$/), fc.constantFrom('GB', 'US', 'ES', 'AU', 'DE', 'XX'), (dialled, country) => {
        const r = readDialled(dialled, country);
        expect(normaliseDialled(dialled, country)).toBe(r.ok ? r.destination : undefined);
      }),
    );
  });
});
