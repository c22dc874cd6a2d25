/**
 * WWW-Authenticate / Proxy-Authenticate challenges (RFC 7616 §3.3, RFC 8760): one challenge
 * per offered algorithm, in the order given (SHA-256 before MD5 when both), each with qop="auth" and the same nonce.
 */
import { OFFERED_ALGORITHMS } from './digest-algorithm.ts';
import type { DigestAlgorithm } from './digest-algorithm.ts';

export interface ChallengeInput {
  realm: string;
  nonce: string;
  stale: boolean;
  algorithms?: readonly DigestAlgorithm[];
}

/** Quotes a value as a quoted-string (escaping `"` and `\`). */
export function quote(value: string): string {
  return `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/** The challenge header values, one per algorithm, most preferred first. */
export function buildChallenges(input: ChallengeInput): string[] {
  return (input.algorithms ?? OFFERED_ALGORITHMS).map(
    (algorithm) => `Digest realm=${quote(input.realm)}, nonce=${quote(input.nonce)}, algorithm=${algorithm}, qop="auth"${input.stale ? ', stale=true' : ''}`,
  );
}

/**
 * drachtio-srf takes response headers as an object (one value per name) and writes a string
 * value verbatim after `Name: `. Challenges must not be comma-joined into one header (RFC 3261
 * §7.3.1 excludes the authentication headers from that rule), so repeated values are written as
 * separate header lines: drachtio-server and the edge both read the header block line by line.
 */
export function repeatedHeader(name: string, values: readonly string[]): string {
  return values.join(`\r\n${name}: `);
}
