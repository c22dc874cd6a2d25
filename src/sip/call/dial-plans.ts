/** How subscribers of a country dial: country calling code, international and trunk prefixes. */
export interface DialPlan {
  countryCode: string;
  internationalPrefix: string;
  trunkPrefix: string;
}

export const DIAL_PLANS: Readonly<Record<string, DialPlan>> = {
  GB: { countryCode: '44', internationalPrefix: '00', trunkPrefix: '0' },
  IE: { countryCode: '353', internationalPrefix: '00', trunkPrefix: '0' },
  FR: { countryCode: '33', internationalPrefix: '00', trunkPrefix: '0' },
  DE: { countryCode: '49', internationalPrefix: '00', trunkPrefix: '0' },
  ES: { countryCode: '34', internationalPrefix: '00', trunkPrefix: '' },
  IT: { countryCode: '39', internationalPrefix: '00', trunkPrefix: '' },
  NL: { countryCode: '31', internationalPrefix: '00', trunkPrefix: '0' },
  IN: { countryCode: '91', internationalPrefix: '00', trunkPrefix: '0' },
  US: { countryCode: '1', internationalPrefix: '011', trunkPrefix: '1' },
  CA: { countryCode: '1', internationalPrefix: '011', trunkPrefix: '1' },
  AU: { countryCode: '61', internationalPrefix: '0011', trunkPrefix: '0' },
};

export function dialPlanFor(country: string): DialPlan {
  return DIAL_PLANS[country] ?? { countryCode: '', internationalPrefix: '00', trunkPrefix: '' };
}
