/** E.164 caller IDs: '+', a non-zero country digit, 7 to 15 digits in all. */
export const E164_PATTERN = /^\+[1-9][0-9]{6,14}$/;

export function isE164(s: string): boolean {
  return E164_PATTERN.test(s);
}

/**
 * Normalises a dialled or presented number to E.164, given the account's country calling code
 * and its dialling conventions (international prefix e.g. 00 or 011, national trunk prefix e.g. 0).
 * Returns undefined when the result is not a plausible E.164 number.
 */
export function normaliseNumber(raw: string, plan: { countryCode: string; internationalPrefix: string; trunkPrefix: string }): string | undefined {
  const s = raw.replace(/[\s().-]/g, '');
  let out: string;
  if (s.startsWith('+')) out = s;
  else if (plan.internationalPrefix && s.startsWith(plan.internationalPrefix)) out = `+${s.slice(plan.internationalPrefix.length)}`;
  else if (plan.trunkPrefix && s.startsWith(plan.trunkPrefix)) out = `+${plan.countryCode}${s.slice(plan.trunkPrefix.length)}`;
  else return undefined;
  return isE164(out) ? out : undefined;
}

/**
 * The E.164 number a SIP user part or presented number stands for, written with or without '+'
 * (carriers send both) and with visual separators; undefined when it is not one.
 */
export function e164FromUser(user: string | undefined): string | undefined {
  if (user === undefined) return undefined;
  const digits = user.replace(/[-.() ]/g, '').replace(/^\+/, '');
  return /^[1-9][0-9]{6,14}$/.test(digits) ? `+${digits}` : undefined;
}
