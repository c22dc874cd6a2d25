/**
 * The calendar day of an account, for its daily spend cap: the cap resets at midnight in the
 * account's time zone, taken from its country (for a country spanning several zones, the zone of
 * its capital or largest population; an unknown country, or none, counts in UTC).
 */
const COUNTRY_ZONES: Readonly<Record<string, string>> = {
  GB: 'Europe/London',
  IE: 'Europe/Dublin',
  PT: 'Europe/Lisbon',
  ES: 'Europe/Madrid',
  FR: 'Europe/Paris',
  BE: 'Europe/Brussels',
  NL: 'Europe/Amsterdam',
  LU: 'Europe/Luxembourg',
  DE: 'Europe/Berlin',
  AT: 'Europe/Vienna',
  CH: 'Europe/Zurich',
  IT: 'Europe/Rome',
  DK: 'Europe/Copenhagen',
  NO: 'Europe/Oslo',
  SE: 'Europe/Stockholm',
  FI: 'Europe/Helsinki',
  PL: 'Europe/Warsaw',
  CZ: 'Europe/Prague',
  SK: 'Europe/Bratislava',
  HU: 'Europe/Budapest',
  RO: 'Europe/Bucharest',
  BG: 'Europe/Sofia',
  GR: 'Europe/Athens',
  TR: 'Europe/Istanbul',
  UA: 'Europe/Kyiv',
  RU: 'Europe/Moscow',
  US: 'America/New_York',
  CA: 'America/Toronto',
  MX: 'America/Mexico_City',
  BR: 'America/Sao_Paulo',
  AR: 'America/Argentina/Buenos_Aires',
  CO: 'America/Bogota',
  JM: 'America/Jamaica',
  NG: 'Africa/Lagos',
  GH: 'Africa/Accra',
  KE: 'Africa/Nairobi',
  ZA: 'Africa/Johannesburg',
  EG: 'Africa/Cairo',
  MA: 'Africa/Casablanca',
  AE: 'Asia/Dubai',
  SA: 'Asia/Riyadh',
  IL: 'Asia/Jerusalem',
  PK: 'Asia/Karachi',
  IN: 'Asia/Kolkata',
  BD: 'Asia/Dhaka',
  LK: 'Asia/Colombo',
  NP: 'Asia/Kathmandu',
  CN: 'Asia/Shanghai',
  HK: 'Asia/Hong_Kong',
  JP: 'Asia/Tokyo',
  KR: 'Asia/Seoul',
  PH: 'Asia/Manila',
  VN: 'Asia/Ho_Chi_Minh',
  TH: 'Asia/Bangkok',
  MY: 'Asia/Kuala_Lumpur',
  SG: 'Asia/Singapore',
  ID: 'Asia/Jakarta',
  AU: 'Australia/Sydney',
  NZ: 'Pacific/Auckland',
};

/** The IANA time zone of an ISO 3166 country code ('UTC' when unknown). */
export function timeZoneOfCountry(country: string | null | undefined): string {
  return (country && COUNTRY_ZONES[country.toUpperCase()]) || 'UTC';
}

const formats = new Map<string, Intl.DateTimeFormat>();

/** The calendar day (YYYY-MM-DD) at instant `ms` in `timeZone` (UTC for a zone the runtime does not know). */
export function dayIn(ms: number, timeZone: string): string {
  let f = formats.get(timeZone);
  if (f === undefined) {
    try {
      f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    } catch {
      return new Date(ms).toISOString().slice(0, 10);
    }
    formats.set(timeZone, f);
  }
  return f.format(new Date(ms));
}

/**
 * A zone's UTC offset at an instant and how long it holds: the balance scripts derive an account's
 * day from `offsetMs` (stored in the account's hash) for every instant before `until`, the zone's
 * next offset change; at or after `until` a script asks its caller to store the next one.
 */
export interface ZoneOffset {
  offsetMs: number;
  /** The first instant (epoch ms) with another offset, or the end of the span searched when none. */
  until: number;
}

const DAY_MS = 86_400_000;
/** How far ahead the next offset change is looked for; a zone without one is looked at again after this. */
export const ZONE_SEARCH_MS = 400 * DAY_MS;
const partFormats = new Map<string, Intl.DateTimeFormat | null>();

function partsFormat(timeZone: string): Intl.DateTimeFormat | null {
  let f = partFormats.get(timeZone);
  if (f === undefined) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch {
      f = null;
    }
    partFormats.set(timeZone, f);
  }
  return f;
}

/** The zone's offset from UTC at instant `ms`, in ms (0 for a zone the runtime does not know). */
export function offsetAt(ms: number, timeZone: string): number {
  const f = partsFormat(timeZone);
  if (f === null) return 0;
  const p: Record<string, number> = {};
  for (const { type, value } of f.formatToParts(new Date(ms))) if (type !== 'literal') p[type] = Number(value);
  const local = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!);
  return local - (ms - (((ms % 1000) + 1000) % 1000));
}

const zoneCache = new Map<string, { from: number; offsetMs: number; until: number }>();

/**
 * The zone's offset at `ms` and its next change (found by daily steps, then to the millisecond by
 * bisection; zones change offset at most a few times a year and never twice within a day).
 * Cached per zone while `ms` stays within the span found.
 */
export function zoneOffset(ms: number, timeZone: string): ZoneOffset {
  const hit = zoneCache.get(timeZone);
  if (hit !== undefined && ms >= hit.from && ms < hit.until) return { offsetMs: hit.offsetMs, until: hit.until };
  const offsetMs = offsetAt(ms, timeZone);
  let until = ms + ZONE_SEARCH_MS;
  if (partsFormat(timeZone) !== null) {
    for (let t = ms + DAY_MS; t <= ms + ZONE_SEARCH_MS; t += DAY_MS) {
      if (offsetAt(t, timeZone) === offsetMs) continue;
      let lo = t - DAY_MS; // same offset
      let hi = t; // another offset
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2);
        if (offsetAt(mid, timeZone) === offsetMs) lo = mid;
        else hi = mid;
      }
      until = hi;
      break;
    }
  }
  if (zoneCache.size >= 1000) zoneCache.clear();
  zoneCache.set(timeZone, { from: ms, offsetMs, until });
  return { offsetMs, until };
}

/** The calendar day (YYYY-MM-DD) at instant `ms` for a UTC offset: what the balance scripts compute. */
export function dayAtOffset(ms: number, offsetMs: number): string {
  return new Date(Math.floor((ms + offsetMs) / DAY_MS) * DAY_MS).toISOString().slice(0, 10);
}
