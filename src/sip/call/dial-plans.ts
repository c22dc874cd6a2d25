/** How subscribers of a country dial: country calling code, international and trunk prefixes. */
export interface DialPlan {
  countryCode: string;
  internationalPrefix: string;
  trunkPrefix: string;
  /** Fewest digits of a national significant number (after the country code): fewer is an incomplete number. */
  minNational?: number;
  /** Numbers that reach the emergency services (refused: calls here cannot carry a location). */
  emergency?: readonly string[];
}

export const DIAL_PLANS: Readonly<Record<string, DialPlan>> = {
  GB: { countryCode: '44', internationalPrefix: '00', trunkPrefix: '0', minNational: 7, emergency: ['999', '112'] },
  IE: { countryCode: '353', internationalPrefix: '00', trunkPrefix: '0', minNational: 7, emergency: ['999', '112'] },
  FR: { countryCode: '33', internationalPrefix: '00', trunkPrefix: '0', minNational: 9, emergency: ['112', '15', '17', '18', '114', '115', '119'] },
  DE: { countryCode: '49', internationalPrefix: '00', trunkPrefix: '0', minNational: 6, emergency: ['112', '110'] },
  ES: { countryCode: '34', internationalPrefix: '00', trunkPrefix: '', minNational: 9, emergency: ['112', '091', '092', '061', '080', '085', '062'] },
  IT: { countryCode: '39', internationalPrefix: '00', trunkPrefix: '', minNational: 6, emergency: ['112', '113', '115', '118'] },
  NL: { countryCode: '31', internationalPrefix: '00', trunkPrefix: '0', minNational: 9, emergency: ['112'] },
  IN: { countryCode: '91', internationalPrefix: '00', trunkPrefix: '0', minNational: 10, emergency: ['112', '100', '101', '102', '108'] },
  US: { countryCode: '1', internationalPrefix: '011', trunkPrefix: '1', minNational: 10, emergency: ['911', '112'] },
  CA: { countryCode: '1', internationalPrefix: '011', trunkPrefix: '1', minNational: 10, emergency: ['911', '112'] },
  AU: { countryCode: '61', internationalPrefix: '0011', trunkPrefix: '0', minNational: 9, emergency: ['000', '112', '106'] },
};

export function dialPlanFor(country: string): DialPlan {
  return DIAL_PLANS[country] ?? { countryCode: '', internationalPrefix: '00', trunkPrefix: '' };
}
