/**
 * Stateless, self-validating nonces: base64url(timestamp ‖ random ‖ HMAC-SHA256(key, realm ‖ timestamp ‖ random)).
 * Any app instance sharing the key can validate any nonce without storage; the timestamp gives
 * the expiry (RFC 7616 §3.3: "stale" when the nonce is old but the credentials were right).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const TS_BYTES = 8;
const RANDOM_BYTES = 12;
const MAC_BYTES = 16;
const NONCE_BYTES = TS_BYTES + RANDOM_BYTES + MAC_BYTES;
/** A nonce issued up to this far in the future (clock skew between instances) is still accepted. */
const FUTURE_SKEW_MS = 5_000;

export interface NonceIssuerOptions {
  /** Server key (at least 32 bytes), shared by every app instance. */
  key: string | Buffer;
  /** How long a nonce is good for (ms). */
  lifetimeMs: number;
  now: () => number;
  random?: (n: number) => Buffer;
}

export type NonceCheck = { kind: 'valid'; issuedAt: number; remainingMs: number } | { kind: 'expired'; issuedAt: number } | { kind: 'invalid' };

export class NonceIssuer {
  private readonly key: Buffer;
  private readonly random: (n: number) => Buffer;

  constructor(private readonly opts: NonceIssuerOptions) {
    this.key = Buffer.isBuffer(opts.key) ? opts.key : Buffer.from(opts.key, 'utf8');
    if (this.key.length < 32) throw new RangeError('nonce key must be at least 32 bytes');
    if (!Number.isInteger(opts.lifetimeMs) || opts.lifetimeMs < 1000) throw new RangeError('nonce lifetime must be at least 1000 ms');
    this.random = opts.random ?? randomBytes;
  }

  get lifetimeMs(): number {
    return this.opts.lifetimeMs;
  }

  issue(realm: string): string {
    const body = Buffer.alloc(TS_BYTES + RANDOM_BYTES);
    body.writeBigUInt64BE(BigInt(Math.floor(this.opts.now())), 0);
    this.random(RANDOM_BYTES).copy(body, TS_BYTES);
    return Buffer.concat([body, this.mac(realm, body)]).toString('base64url');
  }

  check(realm: string, nonce: string): NonceCheck {
    if (nonce.length > 64 || !/^[A-Za-z0-9_-]+$/.test(nonce)) return { kind: 'invalid' };
    const raw = Buffer.from(nonce, 'base64url');
    if (raw.length !== NONCE_BYTES) return { kind: 'invalid' };
    const body = raw.subarray(0, TS_BYTES + RANDOM_BYTES);
    if (!timingSafeEqual(raw.subarray(TS_BYTES + RANDOM_BYTES), this.mac(realm, body))) return { kind: 'invalid' };
    const issuedAt = Number(body.readBigUInt64BE(0));
    const now = this.opts.now();
    if (issuedAt > now + FUTURE_SKEW_MS) return { kind: 'invalid' };
    const remainingMs = issuedAt + this.opts.lifetimeMs - now;
    if (remainingMs <= 0) return { kind: 'expired', issuedAt };
    return { kind: 'valid', issuedAt, remainingMs };
  }

  private mac(realm: string, body: Buffer): Buffer {
    return createHmac('sha256', this.key).update(`nonce:${realm}:`).update(body).digest().subarray(0, MAC_BYTES);
  }
}
