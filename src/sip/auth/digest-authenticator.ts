/**
 * Digest authentication of a SIP request (RFC 3261 §22, RFC 7616), for REGISTER (401 /
 * WWW-Authenticate) and INVITE (407 / Proxy-Authenticate) alike.
 *
 *   no credentials for our realm ─────────────────────────▶ challenge
 *   malformed credentials ────────────────────────────────▶ malformed (400)
 *   uri other than the Request-URI (when given) ──────────▶ malformed (400), nothing checked
 *   nonce not ours (bad MAC) ─────────────────────────────▶ challenge
 *   response wrong, or user unknown (same work, same answer) ▶ forbidden (403)
 *   response right, nonce expired ────────────────────────▶ challenge, stale=true
 *   response right, nonce count not increasing / reused ──▶ challenge, stale=true (replay refused)
 *   response right, nonce fresh and count new ────────────▶ authenticated
 */
import { createHmac } from 'node:crypto';
import { parseCredentials } from './digest-credentials-parser.ts';
import type { DigestCredentials } from './digest-credentials-parser.ts';
import { algorithmOf, digestLength, digestResponse, OFFERED_ALGORITHMS, sameDigest } from './digest-algorithm.ts';
import type { DigestAlgorithm } from './digest-algorithm.ts';
import { buildChallenges } from './digest-challenge.ts';
import { algorithmsForDevice } from './digest-offer.ts';
import type { DeviceDigest } from './digest-offer.ts';
import type { DigestMemory } from './digest-memory.ts';
import type { CredentialStore } from './credential-store.ts';
import { digestUriMatches } from './digest-uri.ts';
import type { NonceIssuer } from './nonce-issuer.ts';
import type { CallCounter, NonceUseTracker } from './nonce-use-tracker.ts';

export interface DigestRequest {
  method: string;
  /** Values of the Authorization (or Proxy-Authorization) header; empty when absent. */
  authorization: readonly string[];
  /**
   * The Request-URI: when given, the digest's `uri` must name it (RFC 2617 §3.2.2.5), so a digest
   * made for one destination cannot authorise a call to another.
   */
  requestUri?: string;
  /** The client's User-Agent: picks the algorithms of a challenge (digest-offer.ts). */
  userAgent?: string;
  /**
   * A call-rate counter of the authenticated account, raised in the same step as the nonce count
   * (one Redis round trip) when the request is authenticated; its new value is the result's `calls`.
   */
  countCall?: (accountId: number) => CallCounter;
  /**
   * The SIP username the request is from (its From user), before any credentials name it: its
   * device's setting or what was learned of it picks the challenge.
   */
  fromUser?: string;
  /** The address the request is judged by (guards/client-address.ts): what a device taught is kept per username and address. */
  source?: string;
}

export type AuthResult =
  | { kind: 'authenticated'; accountId: number; username: string; algorithm: DigestAlgorithm; calls?: number }
  | { kind: 'challenge'; stale: boolean; challenges: string[] }
  | { kind: 'forbidden'; username: string }
  | { kind: 'malformed'; reason: string };

export interface DigestAuthenticatorOptions {
  realm: string;
  credentials: CredentialStore;
  nonces: NonceIssuer;
  nonceUses: NonceUseTracker;
  /** Key for the dummy HA1 of unknown users (so their digest costs the same work). */
  dummyKey: string | Buffer;
  /**
   * Algorithms challenged with, in order (default MD5 alone: some clients give up on a response
   * naming an algorithm they lack, sipp answers only the first). Credentials with any supported
   * algorithm are accepted whatever this says.
   */
  algorithms?: readonly DigestAlgorithm[];
  /** User-Agent substrings of clients also offered SHA-256 (first). */
  sha256UserAgents?: readonly string[];
  /** What each device's last successful answer taught (SHA-256 or not); none: nothing is learned. */
  memory?: DigestMemory;
}

const NC = /^[0-9a-fA-F]{8}$/;

export class DigestAuthenticator {
  constructor(private readonly opts: DigestAuthenticatorOptions) {}

  get realm(): string {
    return this.opts.realm;
  }

  /** A fresh challenge (401/407 header values) for a client with this User-Agent (and what is known of its device). */
  challenge(stale = false, userAgent?: string, device?: DeviceDigest): AuthResult & { kind: 'challenge' } {
    const offer = { algorithms: this.opts.algorithms ?? OFFERED_ALGORITHMS, sha256UserAgents: this.opts.sha256UserAgents ?? [] };
    return {
      kind: 'challenge',
      stale,
      challenges: buildChallenges({
        realm: this.opts.realm,
        nonce: this.opts.nonces.issue(this.opts.realm),
        stale,
        algorithms: algorithmsForDevice(offer, userAgent, device),
      }),
    };
  }

  /** A challenge for the request's device: its setting, or what its last answer taught, else by User-Agent. */
  private async challengeFor(stale: boolean, req: DigestRequest): Promise<AuthResult & { kind: 'challenge' }> {
    return this.challenge(stale, req.userAgent, await this.deviceOf(req.fromUser, req.source));
  }

  private async deviceOf(username: string | undefined, source: string | undefined): Promise<DeviceDigest | undefined> {
    if (username === undefined || username === '' || username.length > 128) return undefined;
    const stored = await this.opts.credentials.findCredentials(username, this.opts.realm);
    // only known usernames: an unknown one is challenged like any client (by User-Agent)
    if (!stored) return undefined;
    if (stored.digestAlgorithms) return { setting: stored.digestAlgorithms, answersSha256: false };
    const memory = this.opts.memory;
    // what was learned is an optimisation: with Redis away the User-Agent rule still applies
    const answersSha256 = memory && source !== undefined ? await memory.answersSha256(username, source).catch(() => false) : false;
    return { answersSha256 };
  }

  async authenticate(req: DigestRequest): Promise<AuthResult> {
    if (req.authorization.length === 0) return this.challengeFor(false, req);
    const parsed = parseCredentials(req.authorization);
    if (!parsed.ok) return { kind: 'malformed', reason: parsed.reason };
    const ours = parsed.credentials.filter((c): c is DigestCredentials => c.scheme === 'digest' && c.params.get('realm') === this.opts.realm);
    if (ours.length === 0) return this.challengeFor(false, req);
    // Prefer a credential whose algorithm we support, SHA-256 first.
    const supported = ours
      .map((c) => ({ c, algorithm: algorithmOf(c.params.get('algorithm')) }))
      .filter((x): x is { c: DigestCredentials; algorithm: DigestAlgorithm } => x.algorithm !== undefined)
      .sort((a, b) => (a.algorithm === 'SHA-256' ? 0 : 1) - (b.algorithm === 'SHA-256' ? 0 : 1));
    const chosen = supported[0];
    if (!chosen) return this.challengeFor(false, req);
    const result = await this.verify(req.method, chosen.c, chosen.algorithm, req);
    // not awaited: what the device taught is written beside the request, adding no round trip to it
    if (result.kind === 'authenticated' && this.opts.memory && req.source !== undefined)
      void this.opts.memory.answered(result.username, req.source, result.algorithm).catch(() => undefined);
    return result;
  }

  private async verify(method: string, cred: DigestCredentials, algorithm: DigestAlgorithm, req: DigestRequest): Promise<AuthResult> {
    const requestUri = req.requestUri;
    const countCall = req.countCall;
    const p = cred.params;
    const username = p.get('username');
    const nonce = p.get('nonce');
    const uri = p.get('uri');
    const response = p.get('response');
    if (!username || !nonce || !uri || response === undefined) return { kind: 'malformed', reason: 'credentials lack username, nonce, uri or response' };
    if (username.length > 128 || uri.length > 1024) return { kind: 'malformed', reason: 'credentials too long' };
    if (!/^[0-9a-fA-F]*$/.test(response)) return { kind: 'malformed', reason: 'response is not hex' };
    if (requestUri !== undefined && !digestUriMatches(uri, requestUri)) return { kind: 'malformed', reason: 'uri does not match the Request-URI' };
    if (p.get('userhash')?.toLowerCase() === 'true') return { kind: 'malformed', reason: 'userhash is not supported' };
    const qopParam = p.get('qop');
    let qop: { nc: string; cnonce: string } | undefined;
    let count = 0;
    if (qopParam !== undefined) {
      if (qopParam.toLowerCase() !== 'auth') return { kind: 'malformed', reason: `qop ${qopParam} is not offered` };
      const nc = p.get('nc');
      const cnonce = p.get('cnonce');
      if (!nc || !NC.test(nc) || !cnonce) return { kind: 'malformed', reason: 'qop=auth needs nc (8 hex digits) and cnonce' };
      qop = { nc, cnonce };
      count = parseInt(nc, 16);
      if (count === 0) return { kind: 'malformed', reason: 'nc must start at 00000001' };
    }

    const nonceCheck = this.opts.nonces.check(this.opts.realm, nonce);
    if (nonceCheck.kind === 'invalid') return this.challengeFor(false, { ...req, fromUser: username });

    const stored = await this.opts.credentials.findCredentials(username, this.opts.realm);
    // Unknown users cost the same digest as known ones, against a per-user dummy HA1.
    const ha1 = stored ? (algorithm === 'MD5' ? stored.ha1Md5 : stored.ha1Sha256) : this.dummyHa1(username, algorithm);
    const expected = digestResponse({ algorithm, ha1, method, uri, nonce, ...(qop ? { qop } : {}) });
    const right = response.length === digestLength(algorithm) && sameDigest(expected, response);
    if (!right || !stored) return { kind: 'forbidden', username };

    if (nonceCheck.kind === 'expired') return this.challengeFor(true, { ...req, fromUser: username });
    const uses = this.opts.nonceUses;
    if (countCall !== undefined && uses.acceptAndCount !== undefined) {
      const r = await uses.acceptAndCount(nonce, count, nonceCheck.remainingMs, stored.accountId, countCall(stored.accountId));
      if (!r.fresh) return this.challengeFor(true, { ...req, fromUser: username });
      return { kind: 'authenticated', accountId: stored.accountId, username, algorithm, calls: r.calls };
    }
    const fresh = await uses.accept(nonce, count, nonceCheck.remainingMs, stored.accountId);
    if (!fresh) return this.challengeFor(true, { ...req, fromUser: username });
    return { kind: 'authenticated', accountId: stored.accountId, username, algorithm };
  }

  private dummyHa1(username: string, algorithm: DigestAlgorithm): string {
    const h = createHmac('sha256', this.opts.dummyKey).update(`dummy-ha1:${username}`).digest('hex');
    return h.slice(0, digestLength(algorithm));
  }
}
