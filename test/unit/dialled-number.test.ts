import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normaliseDialled } from '../../src/sip/call/dialled-number.ts';

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
