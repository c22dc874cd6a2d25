/**
 * Which digest algorithms a client is challenged with. Every SIP client answers MD5; several
 * softphone stacks give up on a whole 401/407 as soon as one challenge names an algorithm they
 * lack, and sipp answers only the first. So SHA-256 is offered (first, MD5 after it) only to
 * clients known to answer it: those whose User-Agent contains one of the configured substrings
 * (SIP_DIGEST_SHA256_USER_AGENTS), or every client when SIP_DIGEST_ALGORITHMS lists it.
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

/** The setting's value: comma-separated substrings, blanks dropped. */
export function parseUserAgentList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}
