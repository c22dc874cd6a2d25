/**
 * Payment card numbers (PANs) in text that the service would store. The service never holds card
 * data (only a provider's tokens and references), so every free-text or reference field is
 * checked before it is stored, and refused when it carries something that looks like a card
 * number: 13 to 19 digits, written together or in groups split by single spaces or dashes, whose
 * first digit is a payment-card major industry identifier (1–6) and whose Luhn check digit is
 * right. A run that follows a `+` is an E.164 telephone number, not a card number; a run of more
 * than 19 digits written together is not a card number either (but a card number written in
 * groups inside a longer grouped run is found). About one random 13–19 digit string in ten
 * passes Luhn, so a false refusal is possible for long numbers in free text; the error tells the
 * user why, and identifiers with their own strict format (phone numbers, account numbers) are not
 * checked here.
 */

const MIN_DIGITS = 13;
const MAX_DIGITS = 19;

/** A card-number-like run in a text: where it starts and ends (end exclusive). */
export interface CardNumberMatch {
  readonly start: number;
  readonly end: number;
}

/** The Luhn (mod 10) check over a string of digits. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return digits.length > 0 && sum % 10 === 0;
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

interface Group {
  readonly start: number;
  readonly end: number;
  readonly digits: string;
}

/** Groups of digits that follow each other with at most one space or dash between them. */
function* digitSequences(text: string): Generator<{ groups: Group[]; afterPlus: boolean }> {
  let i = 0;
  while (i < text.length) {
    if (!isDigit(text[i])) {
      i++;
      continue;
    }
    const afterPlus = text[i - 1] === '+';
    const groups: Group[] = [];
    for (;;) {
      const start = i;
      while (isDigit(text[i])) i++;
      groups.push({ start, end: i, digits: text.slice(start, i) });
      const sep = text[i];
      if ((sep === ' ' || sep === '-') && isDigit(text[i + 1])) {
        i++;
        continue;
      }
      break;
    }
    yield { groups, afterPlus };
  }
}

function plausible(digits: string): boolean {
  return digits.length >= MIN_DIGITS && digits.length <= MAX_DIGITS && digits[0] !== undefined && digits[0] >= '1' && digits[0] <= '6' && luhnValid(digits);
}

/**
 * The first card-number-like run in `text`, or undefined. A sequence of groups is checked whole
 * and, when it is written in groups, every run of whole consecutive groups inside it.
 */
export function findCardNumber(text: string): CardNumberMatch | undefined {
  for (const { groups, afterPlus } of digitSequences(text)) {
    // after a `+` the first group starts a telephone number: a card number can only start later
    for (let from = afterPlus ? 1 : 0; from < groups.length; from++) {
      let digits = '';
      for (let to = from; to < groups.length; to++) {
        digits += groups[to]!.digits;
        if (digits.length > MAX_DIGITS) break;
        if (plausible(digits)) return { start: groups[from]!.start, end: groups[to]!.end };
      }
    }
  }
  return undefined;
}

export function containsCardNumber(text: string | null | undefined): boolean {
  return typeof text === 'string' && findCardNumber(text) !== undefined;
}

/** The text with every card-number-like run replaced by its first six and last four digits. */
export function maskCardNumbers(text: string): string {
  let out = text;
  for (let m = findCardNumber(out); m !== undefined; m = findCardNumber(out)) {
    const digits = out.slice(m.start, m.end).replace(/[ -]/g, '');
    out = `${out.slice(0, m.start)}${digits.slice(0, 6)}…${digits.slice(-4)}${out.slice(m.end)}`;
  }
  return out;
}

/** The message every refusal gives, naming the field. */
export function cardNumberRefusal(field: string): string {
  return `${field} must not contain a payment card number: the service keeps no card data (give the provider's reference or token instead)`;
}
