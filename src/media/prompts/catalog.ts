/**
 * Every prompt the IVR can play: the name is the file's path under freeswitch/sounds/<lang>/prepaid/
 * without .wav. The list matches scripts/prompts/phrases-en.tsv plus the tones (a unit test checks
 * both and that every file exists).
 */
export const PROMPT_NAMES = [
  'welcome',
  'enter-pin',
  'pin-incorrect',
  'pin-locked',
  'you-have',
  'and',
  'minus',
  'available',
  'currency/pound',
  'currency/pounds',
  'currency/penny',
  'currency/pence',
  'currency/dollar',
  'currency/dollars',
  'currency/euro',
  'currency/euros',
  'currency/cent',
  'currency/cents',
  'time/minute',
  'time/minutes',
  'time/second',
  'time/seconds',
  'enter-destination',
  'insufficient-credit',
  'unknown-destination',
  'destination-not-allowed',
  'call-failed',
  'connecting',
  'one-minute-remaining',
  'another-call',
  'register-cli',
  'cli-registered',
  'destination-options',
  'enter-voucher',
  'voucher-accepted',
  'voucher-invalid',
  'voucher-locked',
  'goodbye',
  'recording-notice',
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
  'numbers/20',
  'numbers/30',
  'numbers/40',
  'numbers/50',
  'numbers/60',
  'numbers/70',
  'numbers/80',
  'numbers/90',
  'numbers/hundred',
  'numbers/thousand',
  'numbers/million',
  'tones/beep',
  'tones/ringback',
] as const;

export type PromptName = (typeof PROMPT_NAMES)[number];

const NAMES: ReadonlySet<string> = new Set(PROMPT_NAMES);
export function isPromptName(s: string): s is PromptName {
  return NAMES.has(s);
}

/** The folder (under a sounds root) that holds a language's prompts. */
export function promptFolder(language: string): string {
  return `${language}/prepaid`;
}

/** A prompt's path relative to the sounds root. */
export function promptPath(language: string, name: PromptName): string {
  return `${promptFolder(language)}/${name}.wav`;
}
