import { readDialled } from '../call/dialled-number.ts';
import type { OnNetCallee } from '../invite/device-call-type.ts';
import type { PersonalNumber, Subscriber } from './number-directory.ts';

export interface OnNetDirectory {
  personalNumber(e164: string): Promise<PersonalNumber | undefined>;
  personalNumberOf(accountId: number): Promise<string | undefined>;
  subscriber(name: string): Promise<Subscriber | undefined>;
}

/**
 * Who a device's dialled string names on-net, in this order (docs/architecture.md, "On-net calls"):
 *
 *   1. a complete phone number in the caller's dialling plan is a phone number: another
 *      subscriber's personal number rings them, any other goes to a carrier. A username or
 *      account number that reads as a number is never looked up, so nothing dialled as a
 *      phone number is taken away from the network;
 *   2. an emergency number is refused (404) whatever subscriber it might also name;
 *   3. what is no complete number (letters, a short or incomplete number) is looked up as a SIP
 *      username (exactly as dialled), then as an account number; a callee with no registered
 *      device under that username falls back to their personal number's own routing.
 *
 * Undefined: not a subscriber (the dialling plan's refusal or the carrier route applies).
 */
export async function onNetCallee(dir: OnNetDirectory, dialled: string, country: string): Promise<OnNetCallee | undefined> {
  const read = readDialled(dialled, country);
  if (read.ok) {
    const number = `+${read.destination}`;
    const owner = await dir.personalNumber(number);
    return owner && { number, accountId: owner.accountId, sipUsername: owner.sipUsername, destination: read.destination };
  }
  if (read.code === 'EMERGENCY_NOT_SUPPORTED') return undefined;
  const sub = await dir.subscriber(dialled);
  if (!sub) return undefined;
  const callee: OnNetCallee = { number: dialled, accountId: sub.accountId, sipUsername: sub.sipUsername, destination: dialled };
  if (sub.sipUsername === null) return callee;
  const own = await dir.personalNumberOf(sub.accountId);
  const did = own === undefined ? undefined : await dir.personalNumber(own);
  return did ? { ...callee, orElse: did.sipUsername } : callee;
}
