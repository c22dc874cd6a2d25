import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PROMPT_NAMES } from '../../src/media/prompts/catalog.ts';
import { ENGLISH, phraseBook, splitAmount } from '../../src/media/prompts/phrases.ts';
import { parseWav } from '../../src/media/embedded/wav.ts';

const SOUNDS = path.resolve(import.meta.dirname, '../../freeswitch/sounds');
const n = (...xs: (number | string)[]): string[] => xs.map((x) => (typeof x === 'number' ? `numbers/${x}` : x));

describe('phrase assembler: numbers (British English)', () => {
  it.each([
    [0, n(0)],
    [7, n(7)],
    [13, n(13)],
    [20, n(20)],
    [34, n(30, 4)],
    [99, n(90, 9)],
    [100, n(1, 'numbers/hundred')],
    [105, n(1, 'numbers/hundred', 'and', 5)],
    [250, n(2, 'numbers/hundred', 'and', 50)],
    [1000, n(1, 'numbers/thousand')],
    [1005, n(1, 'numbers/thousand', 'and', 5)],
    [1234, n(1, 'numbers/thousand', 2, 'numbers/hundred', 'and', 30, 4)],
    [20_000, n(20, 'numbers/thousand')],
    [1_000_001, n(1, 'numbers/million', 'and', 1)],
    [
      999_999_999,
      n(9, 'numbers/hundred', 'and', 90, 9, 'numbers/million', 9, 'numbers/hundred', 'and', 90, 9, 'numbers/thousand', 9, 'numbers/hundred', 'and', 90, 9),
    ],
  ])('%d', (value, want) => {
    expect(ENGLISH.number(value)).toEqual(want);
  });

  it('refuses negative, fractional and too large numbers', () => {
    for (const bad of [-1, 1.5, 1e9, Number.NaN]) expect(() => ENGLISH.number(bad)).toThrow(RangeError);
  });
});

describe('phrase assembler: balances in micro-units', () => {
  it.each([
    [12_500_000, 'GBP', ['you-have', ...n(12), 'currency/pounds', 'and', ...n(50), 'currency/pence']],
    [1_010_000, 'GBP', ['you-have', ...n(1), 'currency/pound', 'and', ...n(1), 'currency/penny']],
    [1_000_000, 'GBP', ['you-have', ...n(1), 'currency/pound']],
    [990_000, 'GBP', ['you-have', ...n(90, 9), 'currency/pence']],
    [0, 'GBP', ['you-have', ...n(0), 'currency/pounds']],
    [9_999, 'GBP', ['you-have', ...n(0), 'currency/pounds']], // under a penny rounds down to nothing
    [12_345_678, 'GBP', ['you-have', ...n(12), 'currency/pounds', 'and', ...n(30, 4), 'currency/pence']], // never rounded up
    [-2_500_000, 'GBP', ['you-have', 'minus', ...n(2), 'currency/pounds', 'and', ...n(50), 'currency/pence']],
    [3_010_000, 'USD', ['you-have', ...n(3), 'currency/dollars', 'and', ...n(1), 'currency/cent']],
    [1_990_000, 'EUR', ['you-have', ...n(1), 'currency/euro', 'and', ...n(90, 9), 'currency/cents']],
    [7_500_000, 'XYZ', ['you-have', ...n(7)]],
  ])('%d %s', (micro, currency, want) => {
    expect(ENGLISH.balance(micro, currency)).toEqual(want);
  });

  it('splits with integers only, exactly, up to the largest safe amount', () => {
    expect(splitAmount(Number.MAX_SAFE_INTEGER, 2)).toEqual({ negative: false, major: 9_007_199_254, minor: 74 });
    fc.assert(
      fc.property(fc.integer({ min: -1e15, max: 1e15 }), (micro) => {
        const { negative, major, minor } = splitAmount(micro, 2);
        const abs = Math.abs(micro);
        return negative === micro < 0 && major * 1_000_000 + minor * 10_000 <= abs && abs - (major * 1_000_000 + minor * 10_000) < 10_000;
      }),
    );
    expect(() => splitAmount(0.5, 2)).toThrow(RangeError);
  });

  it('minutes, singular and plural', () => {
    expect(ENGLISH.minutes(34)).toEqual(['you-have', ...n(30, 4), 'time/minutes']);
    expect(ENGLISH.minutes(1)).toEqual(['you-have', ...n(1), 'time/minute']);
    expect(ENGLISH.minutes(0)).toEqual(['you-have', ...n(0), 'time/minutes']);
  });

  it('time remaining says the real time: whole minutes from a minute up, seconds under a minute (never "0 minutes")', () => {
    expect(ENGLISH.remaining(150)).toEqual(['you-have', ...n(2), 'time/minutes']);
    expect(ENGLISH.remaining(60)).toEqual(['you-have', ...n(1), 'time/minute']);
    expect(ENGLISH.remaining(45)).toEqual(['you-have', ...n(40, 5), 'time/seconds']);
    expect(ENGLISH.remaining(1)).toEqual(['you-have', ...n(1), 'time/second']);
    expect(ENGLISH.remaining(30.7)).toEqual(['you-have', ...n(30), 'time/seconds']);
  });

  it('a language without a book falls back to English', () => {
    expect(phraseBook('xx')).toBe(ENGLISH);
  });

  it('every fragment the assembler can produce is in the catalog', () => {
    const names = new Set<string>(PROMPT_NAMES);
    fc.assert(
      fc.property(fc.integer({ min: -1e14, max: 1e14 }), fc.constantFrom('GBP', 'USD', 'EUR'), fc.integer({ min: 0, max: 1e6 }), (micro, cur, mins) => {
        return [...ENGLISH.balance(micro, cur), ...ENGLISH.minutes(mins)].every((f) => names.has(f));
      }),
    );
  });
});

describe('prompt files', () => {
  it('the catalog, the phrase list and the files agree, and every file is 8 kHz mono G.711', () => {
    const tsv = readFileSync(path.resolve(import.meta.dirname, '../../scripts/prompts/phrases-en.tsv'), 'utf8')
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('#'))
      .map((l) => l.split('\t')[0]);
    expect(PROMPT_NAMES.filter((p) => !p.startsWith('tones/'))).toEqual(tsv);
    const onDisk: string[] = [];
    const walk = (dir: string, prefix: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        if (e.isDirectory()) walk(path.join(dir, e.name), `${prefix}${e.name}/`);
        else onDisk.push(`${prefix}${e.name.replace(/\.wav$/, '')}`);
      }
    };
    walk(path.join(SOUNDS, 'en/prepaid'), '');
    expect(onDisk.sort()).toEqual([...PROMPT_NAMES].sort());
    let bytes = 0;
    for (const name of PROMPT_NAMES) {
      const file = path.join(SOUNDS, 'en/prepaid', `${name}.wav`);
      expect(existsSync(file)).toBe(true);
      const wav = parseWav(readFileSync(file));
      expect(wav).toMatchObject({ encoding: 'pcmu', sampleRate: 8000, channels: 1 });
      expect(wav.data.length, name).toBeGreaterThan(800);
      bytes += wav.data.length;
    }
    expect(bytes).toBeLessThan(1_000_000);
  });
});
