/**
 * Digest computation (RFC 7616 §3.4.1, RFC 3261 §22.4). Only the non-session algorithms are
 * offered: MD5 (every SIP device) and SHA-256. HA1 is stored, never the password, so the
 * response is computed from HA1.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

export type DigestAlgorithm = 'MD5' | 'SHA-256';

/**
 * The algorithms offered by default: MD5 alone, which every client answers (see digest-offer.ts
 * for SHA-256 to the clients known to answer it). Accepted are both, whatever was offered.
 */
export const OFFERED_ALGORITHMS: readonly DigestAlgorithm[] = ['MD5'];

/** Maps the `algorithm` parameter (case-insensitive; absent = MD5) to an algorithm we support. */
export function algorithmOf(param: string | undefined): DigestAlgorithm | undefined {
  if (param === undefined) return 'MD5';
  const p = param.toUpperCase();
  if (p === 'MD5') return 'MD5';
  if (p === 'SHA-256') return 'SHA-256';
  return undefined;
}

export function digestHash(algorithm: DigestAlgorithm, data: string): string {
  return createHash(algorithm === 'MD5' ? 'md5' : 'sha256')
    .update(data, 'utf8')
    .digest('hex');
}

/** The hex length of a digest of this algorithm. */
export function digestLength(algorithm: DigestAlgorithm): number {
  return algorithm === 'MD5' ? 32 : 64;
}

export interface ResponseInput {
  algorithm: DigestAlgorithm;
  ha1: string;
  method: string;
  uri: string;
  nonce: string;
  /** With qop=auth: nc (8 hex digits as sent) and cnonce. Without: both undefined (RFC 2069 form). */
  qop?: { nc: string; cnonce: string };
}

/** request-digest = KD(HA1, nonce:nc:cnonce:qop:HA2) with qop=auth, or KD(HA1, nonce:HA2) without. */
export function digestResponse(input: ResponseInput): string {
  const ha2 = digestHash(input.algorithm, `${input.method}:${input.uri}`);
  const middle = input.qop ? `${input.nonce}:${input.qop.nc}:${input.qop.cnonce}:auth` : input.nonce;
  return digestHash(input.algorithm, `${input.ha1}:${middle}:${ha2}`);
}

/** Compares two hex strings in constant time (for equal lengths; unequal lengths return false after the same work). */
export function sameDigest(expected: string, given: string): boolean {
  const a = Buffer.from(expected.toLowerCase(), 'utf8');
  const b = Buffer.from(given.toLowerCase(), 'utf8');
  if (a.length !== b.length) {
    timingSafeEqual(a, a);
    return false;
  }
  return timingSafeEqual(a, b);
}
