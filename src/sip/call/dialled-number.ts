import { normaliseNumber } from '../../accounts/e164.ts';
import { DIAL_PLANS, dialPlanFor } from './dial-plans.ts';

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
  const e164 = normaliseNumber(dialled, dialPlanFor(accountCountry));
  if (e164 === undefined) return undefined;
  const digits = e164.slice(1);
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
