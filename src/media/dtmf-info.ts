/**
 * DTMF in SIP INFO bodies, the two forms phones send:
 *
 *   Content-Type: application/dtmf-relay      Content-Type: application/dtmf
 *   Signal=5                                   5
 *   Duration=160
 */
import { isDigit } from './media-port.ts';
import type { Digit } from './media-port.ts';

export interface InfoDtmf {
  digit: Digit;
  durationMs?: number;
}

/** The key in an INFO body, or undefined when it is not a DTMF INFO (or names no valid key). */
export function parseDtmfInfo(contentType: string | undefined, body: string | undefined): InfoDtmf | undefined {
  if (contentType === undefined || body === undefined) return undefined;
  const type = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  if (type === 'application/dtmf') {
    return keyOf(body.trim());
  }
  if (type !== 'application/dtmf-relay') return undefined;
  let signal: string | undefined;
  let duration: number | undefined;
  for (const line of body.split(/\r?\n/)) {
    const m = /^\s*([A-Za-z-]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (m === null) continue;
    const name = (m[1] ?? '').toLowerCase();
    const value = m[2] ?? '';
    if (name === 'signal') signal = value;
    else if (name === 'duration' && /^\d{1,6}$/.test(value)) duration = Number(value);
  }
  if (signal === undefined) return undefined;
  const key = keyOf(signal);
  if (key === undefined) return undefined;
  return duration === undefined ? key : { ...key, durationMs: duration };
}

function keyOf(s: string): InfoDtmf | undefined {
  // Some phones send the event number (10 = *, 11 = #) instead of the character.
  if (s === '10') return { digit: '*' };
  if (s === '11') return { digit: '#' };
  const c = s.toUpperCase();
  return isDigit(c) ? { digit: c } : undefined;
}
