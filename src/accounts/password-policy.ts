import { readFileSync } from 'node:fs';

/**
 * Which passwords are refused: shorter than 10 or longer than 200 characters, fewer than 4
 * different characters (aaaaaaaaaa, ababababab), a run of consecutive characters (abcdefghij,
 * 0987654321), or one of the common passwords in common-passwords.txt (compared without case,
 * and also with trailing digits and punctuation removed: "Password2024!" is "password").
 */
const COMMON = new Set(
  readFileSync(new URL('./common-passwords.txt', import.meta.url), 'utf8')
    .split('\n')
    .map((l) => l.trim().toLowerCase())
    .filter((l) => l.length > 0 && !l.startsWith('#')),
);

export const PASSWORD_MIN_LENGTH = 10;
export const PASSWORD_MAX_LENGTH = 200;

/** Why a password is refused, or undefined when it is acceptable. */
export function passwordProblem(password: string): string | undefined {
  if (password.length < PASSWORD_MIN_LENGTH || password.length > PASSWORD_MAX_LENGTH)
    return `a password is ${PASSWORD_MIN_LENGTH}-${PASSWORD_MAX_LENGTH} characters`;
  const chars = [...password.toLowerCase()];
  if (new Set(chars).size < 4) return 'the password repeats too few different characters';
  const codes = chars.map((c) => c.codePointAt(0)!);
  const steps = new Set(codes.slice(1).map((c, i) => c - codes[i]!));
  if (steps.size === 1 && (steps.has(1) || steps.has(-1))) return 'the password is a run of consecutive characters';
  const lower = password.toLowerCase();
  if (COMMON.has(lower) || COMMON.has(lower.replace(/[0-9\W_]+$/u, ''))) return 'the password is one of the most common passwords';
  return undefined;
}
