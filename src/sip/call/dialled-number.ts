import { DIAL_PLANS, dialPlanFor } from './dial-plans.ts';
import type { DialPlan } from './dial-plans.ts';

/** Why a dialled string is no destination: each has its SIP status (404 or 484) and reason phrase (src/errors.ts). */
export type DiallingRefusal = 'EMERGENCY_NOT_SUPPORTED' | 'SHORT_CODE_NOT_SUPPORTED' | 'ADDRESS_INCOMPLETE' | 'NOT_A_PHONE_NUMBER';

export type Dialled = { ok: true; destination: string } | { ok: false; code: DiallingRefusal; detail: string };

/** Dialled anywhere: the numbers phones treat as emergency numbers whatever the network. */
const EMERGENCY_EVERYWHERE = ['112', '911', '999'];
/** A number written without '+' or a prefix and shorter than this is not read as E.164. */
const MIN_BARE_E164 = 10;

const refuse = (code: DiallingRefusal, detail: string): Dialled => ({ ok: false, code, detail });

/**
 * A number as a subscriber dials it, read with the dialling plan of the account's country
 * (dial-plans.ts): `+447700900123`, `00447700900123` (the international prefix), `07700900123`
 * (national, trunk prefix), `447700900123` (E.164 without '+': 10 digits or more), national
 * numbers without a trunk prefix where the country has none (Spain, Italy) and NANP's ten digits.
 * Emergency numbers, short codes and service codes (`*44#`) are refused, each with its reason;
 * a number too short to be complete is `ADDRESS_INCOMPLETE` (484). Separators ` ().-` are ignored.
 */
export function readDialled(dialled: string, accountCountry: string): Dialled {
  const s = dialled.replace(/[\s().-]/g, '');
  if (s === '' || !/^\+?[0-9*#]+$/.test(s)) return refuse('NOT_A_PHONE_NUMBER', 'only digits, with an optional leading +, can be dialled');
  if (/[*#]/.test(s)) return refuse('SHORT_CODE_NOT_SUPPORTED', 'service codes (* and #) are not supported');
  const plan = dialPlanFor(accountCountry);
  if (!s.startsWith('+')) {
    if (EMERGENCY_EVERYWHERE.includes(s) || (plan.emergency ?? []).includes(s))
      return refuse('EMERGENCY_NOT_SUPPORTED', `${s} is an emergency number: call it from a mobile or landline phone`);
    if (s.length <= 6) return refuse('SHORT_CODE_NOT_SUPPORTED', 'short codes are not supported: dial the full number');
  }
  const e164 = toE164(s, plan);
  if (typeof e164 !== 'string') return e164;
  if (e164.length > 15) return refuse('NOT_A_PHONE_NUMBER', 'longer than an international number can be (15 digits)');
  if (!/^[1-9]/.test(e164)) return refuse('NOT_A_PHONE_NUMBER', 'no country code starts with 0');
  const known = Object.values(DIAL_PLANS).find((p) => p.countryCode !== '' && e164.startsWith(p.countryCode));
  const national = known ? e164.length - known.countryCode.length : e164.length;
  if (e164.length < 7 || national < (known?.minNational ?? 4)) return refuse('ADDRESS_INCOMPLETE', 'the number is too short: dial it with its area code');
  const destination = withoutInnerTrunkPrefix(e164);
  if (destination === undefined) return refuse('NOT_A_PHONE_NUMBER', 'a trunk prefix written twice after the country code');
  return { ok: true, destination };
}

/** E.164 digits (no '+') of a cleaned dialled string, or the refusal. */
function toE164(s: string, plan: DialPlan): string | Dialled {
  if (s.startsWith('+')) return s.slice(1);
  if (plan.internationalPrefix && s.startsWith(plan.internationalPrefix)) return s.slice(plan.internationalPrefix.length);
  if (plan.trunkPrefix && s.startsWith(plan.trunkPrefix)) {
    if (plan.countryCode === '') return refuse('NOT_A_PHONE_NUMBER', "the account's country has no dialling plan here: dial the number with +");
    return `${plan.countryCode}${s.slice(plan.trunkPrefix.length)}`;
  }
  if (plan.countryCode !== '' && plan.trunkPrefix === '' && !s.startsWith(plan.countryCode)) return `${plan.countryCode}${s}`;
  if (plan.countryCode === '1' && s.length === 10) return `1${s}`;
  if (s.length < MIN_BARE_E164) return refuse('ADDRESS_INCOMPLETE', 'the number is incomplete: dial it with its area code, or with + and the country code');
  return s;
}

/**
 * The one place a dialled number becomes the destination that is screened (blocklist), rated,
 * routed and recorded: E.164 digits without '+', or undefined when it is not a diallable number.
 *
 * Beyond the caller's own dialling conventions (international and trunk prefixes of the account's
 * country, `normaliseNumber`), a national trunk prefix written after the country code is removed:
 * `+44 (0)90…`, `0044 0 90…` and `+4409…` are all `4490…`. Carriers drop that digit and connect the
 * call to `4490…`, so a blocklist or a rate looked up on `44090…` would screen and price a
 * different number from the one called (a premium-rate `4490` block bypassed, the call rated as
 * an ordinary `44` one). Where the national number can never begin with the trunk prefix, a
 * second one (`+44 00 90…`) makes the number undiallable rather than guessed at. Countries whose
 * national numbers keep their leading digit (Italy's 0, trunk prefix '') are left alone, as are
 * countries not in DIAL_PLANS.
 */
export function normaliseDialled(dialled: string, accountCountry: string): string | undefined {
  const r = readDialled(dialled, accountCountry);
  return r.ok ? r.destination : undefined;
}

/** E.164 digits with a national trunk prefix after the country code removed (see normaliseDialled); undefined when written twice. */
function withoutInnerTrunkPrefix(digits: string): string | undefined {
  for (const [countryCode, trunkPrefix] of TRUNK_PREFIXES) {
    if (!digits.startsWith(countryCode)) continue;
    let national = digits.slice(countryCode.length);
    if (!national.startsWith(trunkPrefix)) return digits;
    national = national.slice(trunkPrefix.length);
    if (national.startsWith(trunkPrefix)) return undefined;
    const out = `${countryCode}${national}`;
    return /^[1-9][0-9]{6,14}$/.test(out) ? out : undefined;
  }
  return digits;
}

/** Country code → national trunk prefix, for the countries whose national numbers never start with it; longest code first. */
const TRUNK_PREFIXES: ReadonlyArray<readonly [string, string]> = [
  ...new Map(
    Object.values(DIAL_PLANS)
      .filter((p) => p.countryCode !== '' && p.trunkPrefix !== '')
      .map((p) => [p.countryCode, p.trunkPrefix] as const),
  ),
].sort((a, b) => b[0].length - a[0].length);
