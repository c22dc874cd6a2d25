import { e164FromUser } from '../../accounts/e164.ts';
import { addressOf } from '../sip-address.ts';

/**
 * Who is calling an access number, as the carrier presented it: the caller ID (E.164, from
 * P-Asserted-Identity when present, else From) and whether the caller withheld it (RFC 3323
 * Privacy: id/user/header, or an anonymous From, RFC 3325 §9.3).
 */
export interface CallerIdentity {
  /** E.164 with '+', or null when absent or not a number. */
  cli: string | null;
  withheld: boolean;
}

function userOfNameAddr(value: string | undefined): string | undefined {
  const a = addressOf(value);
  return a?.user ?? a?.rawUser;
}

const asE164 = (user: string | undefined): string | null => e164FromUser(user) ?? null;

export function callerIdentity(get: (name: string) => string | undefined): CallerIdentity {
  const from = get('From');
  const fromUser = userOfNameAddr(from);
  const privacy = (get('Privacy') ?? '').toLowerCase().split(/[;,\s]+/);
  const anonymousFrom = fromUser === undefined || /^anonymous$/i.test(fromUser) || /anonymous\.invalid/i.test(from ?? '');
  const withheld = anonymousFrom || privacy.includes('id') || privacy.includes('user') || privacy.includes('header');
  const cli = asE164(userOfNameAddr(get('P-Asserted-Identity'))) ?? asE164(anonymousFrom ? undefined : fromUser);
  return { cli, withheld };
}
