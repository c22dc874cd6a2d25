/**
 * The UTC offset and next offset change stored per account (account-day.ts): for every zone the
 * project maps a country to, and zones with odd offsets or rules, the day derived from the stored
 * offset at any instant before its `until` is the zone's own calendar day, and `until` is exactly
 * the zone's next change.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dayAtOffset, dayIn, offsetAt, ZONE_SEARCH_MS, zoneOffset } from '../../src/billing/balance/account-day.ts';
import { ZONES } from '../support/time-zones.ts';

const HOUR = 3_600_000;
const instant = fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2040, 0, 1) });

describe('account day from a stored UTC offset', () => {
  it('the day at the stored offset is the zone day at every instant before the next change (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ZONES), instant, fc.integer({ min: 0, max: ZONE_SEARCH_MS }), (zone, t0, dt) => {
        const z = zoneOffset(t0, zone);
        expect(z.until).toBeGreaterThan(t0);
        const t1 = Math.min(t0 + dt, z.until - 1);
        expect(dayAtOffset(t1, z.offsetMs)).toBe(dayIn(t1, zone));
      }),
      { numRuns: 400 },
    );
  });

  it('`until` is the instant of the next change: the offset holds just before it and not at it (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ZONES), instant, (zone, t0) => {
        const z = zoneOffset(t0, zone);
        expect(offsetAt(t0, zone)).toBe(z.offsetMs);
        expect(offsetAt(z.until - 1, zone)).toBe(z.offsetMs);
        if (offsetAt(z.until, zone) === z.offsetMs) {
          // no change found: the end of the span searched (from this or an earlier instant), never beyond it
          expect(z.until - t0).toBeLessThanOrEqual(ZONE_SEARCH_MS);
          for (let t = t0; t < z.until; t += 6 * HOUR) expect(offsetAt(t, zone)).toBe(z.offsetMs);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('known changes: New York spring forward 2026, London autumn 2026, no change in Kolkata', () => {
    expect(zoneOffset(Date.parse('2026-01-10T00:00:00Z'), 'America/New_York')).toEqual({
      offsetMs: -5 * HOUR,
      until: Date.parse('2026-03-08T07:00:00Z'),
    });
    expect(zoneOffset(Date.parse('2026-07-01T00:00:00Z'), 'Europe/London')).toEqual({ offsetMs: HOUR, until: Date.parse('2026-10-25T01:00:00Z') });
    const t = Date.parse('2026-07-01T00:00:00Z');
    // no change: the end of the span searched (cached per zone from the first instant asked)
    for (const [zone, offsetMs] of [
      ['Asia/Kolkata', 5.5 * HOUR],
      ['Not/AZone', 0],
    ] as const) {
      const z = zoneOffset(t, zone);
      expect(z.offsetMs).toBe(offsetMs);
      expect(z.until).toBeGreaterThan(t);
      expect(z.until).toBeLessThanOrEqual(t + ZONE_SEARCH_MS);
    }
    expect(dayAtOffset(Date.parse('2026-03-09T03:30:00Z'), -4 * HOUR)).toBe('2026-03-08');
  });
});
