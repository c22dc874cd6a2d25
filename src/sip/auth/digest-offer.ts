/**
 * Which digest algorithms a client is challenged with. Every SIP client answers MD5; several
 * softphone stacks give up on a whole 401/407 as soon as one challenge names an algorithm they
 * lack, and sipp answers only the first. So SHA-256 is offered (first, MD5 after it) only to
 * clients known to answer it, in this order:
 *
 *   1. the device's own setting (`digest_algorithms` of its SIP username, set through the API), exactly;
 *   2. a device (SIP username) that answered SHA-256 the last time it authenticated (DigestMemory);
 *   3. a User-Agent containing one of the configured substrings (SIP_DIGEST_SHA256_USER_AGENTS);
 *   4. every client when SIP_DIGEST_ALGORITHMS lists it; else MD5 alone.
 */
import type { DigestAlgorithm } from './digest-algorithm.ts';

export interface DigestOffer {
  /** Offered to every client, in order (default MD5 alone). */
  algorithms: readonly DigestAlgorithm[];
  /** User-Agent substrings (case-insensitive) of clients that are offered SHA-256 as well. */
  sha256UserAgents: readonly string[];
}

export function algorithmsFor(offer: DigestOffer, userAgent: string | undefined): readonly DigestAlgorithm[] {
  if (offer.algorithms.includes('SHA-256') || userAgent === undefined) return offer.algorithms;
  const ua = userAgent.toLowerCase();
  const known = offer.sha256UserAgents.some((s) => s !== '' && ua.includes(s.toLowerCase()));
  return known ? ['SHA-256', ...offer.algorithms] : offer.algorithms;
}

/** What is known of one device (its SIP username) when it is challenged. */
export interface DeviceDigest {
  /** Its own setting, when the operator or the customer set one. */
  setting?: readonly DigestAlgorithm[];
  /** It answered SHA-256 when it last authenticated. */
  answersSha256: boolean;
}

export function algorithmsForDevice(offer: DigestOffer, userAgent: string | undefined, device: DeviceDigest | undefined): readonly DigestAlgorithm[] {
  if (device?.setting) return device.setting;
  if (device?.answersSha256) return ['SHA-256', ...offer.algorithms.filter((a) => a !== 'SHA-256')];
  return algorithmsFor(offer, userAgent);
}

/** A stored per-device setting as algorithms in challenge order (undefined: not one we know). */
export function parseDigestAlgorithms(value: string): readonly DigestAlgorithm[] | undefined {
  if (value === 'MD5') return ['MD5'];
  if (value === 'SHA-256,MD5') return ['SHA-256', 'MD5'];
  return undefined;
}

/** The setting's value: comma-separated substrings, blanks dropped. */
export function parseUserAgentList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}
