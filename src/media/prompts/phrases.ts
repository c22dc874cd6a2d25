/**
 * The phrase assembler: amounts, numbers and durations as lists of prompt fragments. Pure and
 * integer-only (amounts arrive as micro-units, 10⁻⁶ of the currency; no float touches them).
 *
 *   balance(12_500_000, 'GBP') → you-have 12 pounds and 50 pence
 *   minutes(34)                → you-have 30 4 minutes
 *
 * Amounts are rounded towards zero to the currency's minor unit, so the caller never hears more
 * than they have. A language pack provides a PhraseBook; English (British usage: "two hundred
 * and five") is the one built in.
 */
import { minorUnitDigits, minorUnitsOf } from '../../common/money-text.ts';
import type { PromptName } from './catalog.ts';

/** How a currency is spoken: minor-unit digits and the singular/plural words. */
export interface CurrencyWords {
  minorDigits: number;
  major: readonly [one: PromptName, many: PromptName];
  minor: readonly [one: PromptName, many: PromptName] | null;
}

export interface PhraseBook {
  readonly language: string;
  readonly currencies: Readonly<Record<string, CurrencyWords>>;
  /** A whole number 0 ≤ n < 10⁹ as fragments. */
  number(n: number): PromptName[];
  /** "12 pounds and 50 pence". */
  amount(micro: number, currency: string): PromptName[];
  /** "you have 12 pounds and 50 pence". */
  balance(micro: number, currency: string): PromptName[];
  /** "you have 34 minutes". */
  minutes(minutes: number): PromptName[];
  /** Time left, as it is: "you have 2 minutes" from a minute up (whole minutes), "you have 45 seconds" under one. */
  remaining(seconds: number): PromptName[];
}

function checkWhole(n: number, what: string, max: number): void {
  if (!Number.isSafeInteger(n) || n < 0 || n >= max) throw new RangeError(`${what} must be a whole number in [0, ${max}), got ${n}`);
}

/** Integer division of two non-negative safe integers (exact: the remainder is taken first). */
function div(a: number, b: number): number {
  return (a - (a % b)) / b;
}

const UNITS: readonly PromptName[] = [
  'numbers/0',
  'numbers/1',
  'numbers/2',
  'numbers/3',
  'numbers/4',
  'numbers/5',
  'numbers/6',
  'numbers/7',
  'numbers/8',
  'numbers/9',
  'numbers/10',
  'numbers/11',
  'numbers/12',
  'numbers/13',
  'numbers/14',
  'numbers/15',
  'numbers/16',
  'numbers/17',
  'numbers/18',
  'numbers/19',
];
const TENS: readonly (PromptName | undefined)[] = [
  undefined,
  undefined,
  'numbers/20',
  'numbers/30',
  'numbers/40',
  'numbers/50',
  'numbers/60',
  'numbers/70',
  'numbers/80',
  'numbers/90',
];

function at<T>(list: readonly (T | undefined)[], i: number): T {
  const v = list[i];
  if (v === undefined) throw new Error(`no fragment at ${i}`);
  return v;
}

/** 1 ≤ n ≤ 99. */
function enBelowHundred(n: number): PromptName[] {
  if (n < 20) return [at(UNITS, n)];
  const unit = n % 10;
  const tens = at(TENS, div(n, 10));
  return unit === 0 ? [tens] : [tens, at(UNITS, unit)];
}

/** 1 ≤ n ≤ 999. */
function enBelowThousand(n: number): PromptName[] {
  const hundreds = div(n, 100);
  const rest = n % 100;
  if (hundreds === 0) return enBelowHundred(rest);
  const out: PromptName[] = [at(UNITS, hundreds), 'numbers/hundred'];
  if (rest > 0) out.push('and', ...enBelowHundred(rest));
  return out;
}

function enNumber(n: number): PromptName[] {
  checkWhole(n, 'number', 1_000_000_000);
  if (n === 0) return ['numbers/0'];
  const millions = div(n, 1_000_000);
  const thousands = div(n % 1_000_000, 1000);
  const rest = n % 1000;
  const out: PromptName[] = [];
  if (millions > 0) out.push(...enBelowThousand(millions), 'numbers/million');
  if (thousands > 0) out.push(...enBelowThousand(thousands), 'numbers/thousand');
  if (rest > 0) {
    // "one thousand and five", "two million and ten": British usage joins a last part under 100 with "and".
    if (out.length > 0 && rest < 100) out.push('and');
    out.push(...enBelowThousand(rest));
  }
  return out;
}

const EN_CURRENCIES: Readonly<Record<string, CurrencyWords>> = Object.freeze({
  GBP: { minorDigits: minorUnitDigits('GBP'), major: ['currency/pound', 'currency/pounds'], minor: ['currency/penny', 'currency/pence'] },
  USD: { minorDigits: minorUnitDigits('USD'), major: ['currency/dollar', 'currency/dollars'], minor: ['currency/cent', 'currency/cents'] },
  EUR: { minorDigits: minorUnitDigits('EUR'), major: ['currency/euro', 'currency/euros'], minor: ['currency/cent', 'currency/cents'] },
});

/** Split micro-units into whole major and minor units, rounded towards zero. */
export function splitAmount(micro: number, minorDigits: number): { negative: boolean; major: number; minor: number } {
  if (!Number.isSafeInteger(micro)) throw new RangeError(`amount must be a safe integer of micro-units, got ${micro}`);
  if (!Number.isInteger(minorDigits) || minorDigits < 0 || minorDigits > 6) throw new RangeError(`minorDigits must be 0..6, got ${minorDigits}`);
  const units = minorUnitsOf(micro, minorDigits, 'toward-zero');
  const scale = 10n ** BigInt(minorDigits);
  return { negative: micro < 0, major: Number(units / scale), minor: Number(units % scale) };
}

function makeBook(language: string, number: (n: number) => PromptName[], currencies: Readonly<Record<string, CurrencyWords>>): PhraseBook {
  const plural = (n: number, words: readonly [PromptName, PromptName]): PromptName => (n === 1 ? words[0] : words[1]);
  const amount = (micro: number, currency: string): PromptName[] => {
    const words = currencies[currency];
    const { negative, major, minor } = splitAmount(micro, words?.minorDigits ?? 2);
    const out: PromptName[] = negative && (major > 0 || minor > 0) ? ['minus'] : [];
    // A currency without words: the whole units only, no unit name.
    if (words === undefined) return [...out, ...number(major)];
    const sayMinor = words.minor !== null && minor > 0;
    if (major > 0 || !sayMinor) out.push(...number(major), plural(major, words.major));
    if (sayMinor && words.minor !== null) {
      if (major > 0) out.push('and');
      out.push(...number(minor), plural(minor, words.minor));
    }
    return out;
  };
  return Object.freeze({
    language,
    currencies,
    number,
    amount,
    balance: (micro: number, currency: string): PromptName[] => ['you-have', ...amount(micro, currency)],
    minutes: (minutes: number): PromptName[] => {
      checkWhole(minutes, 'minutes', 1_000_000_000);
      return ['you-have', ...number(minutes), plural(minutes, ['time/minute', 'time/minutes'])];
    },
    remaining: (seconds: number): PromptName[] => {
      const s = Math.max(0, Math.floor(seconds));
      checkWhole(s, 'seconds', 1_000_000_000);
      if (s >= 60) return ['you-have', ...number(div(s, 60)), plural(div(s, 60), ['time/minute', 'time/minutes'])];
      return ['you-have', ...number(s), plural(s, ['time/second', 'time/seconds'])];
    },
  });
}

export const ENGLISH: PhraseBook = makeBook('en', enNumber, EN_CURRENCIES);

const BOOKS: Readonly<Record<string, PhraseBook>> = Object.freeze({ en: ENGLISH });

/** The phrase book for a language (English when the language has none). */
export function phraseBook(language: string): PhraseBook {
  return BOOKS[language] ?? ENGLISH;
}
