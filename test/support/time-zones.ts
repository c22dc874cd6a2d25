import { timeZoneOfCountry } from '../../src/billing/balance/account-day.ts';

/** Zones for the account-day properties: those countries map to, and zones with odd offsets or rules. */
const COUNTRIES = 'GB IE PT ES FR DE PL GR TR RU US CA MX BR AR CO NG KE ZA EG MA AE IL PK IN NP CN JP KR AU NZ'.split(' ');
export const ZONES = [
  ...new Set([
    ...COUNTRIES.map(timeZoneOfCountry),
    'UTC',
    'Australia/Lord_Howe', // a 30-minute change
    'America/St_Johns', // -03:30 / -02:30
    'Pacific/Chatham', // +12:45 / +13:45
    'Pacific/Apia', // changed side of the date line (2011)
    'America/Santiago', // southern-hemisphere rules
  ]),
];
