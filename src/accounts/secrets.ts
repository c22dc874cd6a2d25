import { createHash, createHmac, randomBytes, randomInt, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const scrypt = promisify(scryptCb) as (pw: string, salt: Buffer, len: number, opts: { N: number; r: number; p: number; maxmem: number }) => Promise<Buffer>;

/** PINs: 6 to 12 digits. Stored only as HMAC-SHA256 under a server-side pepper: lookup-able, not readable. */
export const PIN_PATTERN = /^[0-9]{6,12}$/;

export function isValidPin(pin: string): boolean {
  return PIN_PATTERN.test(pin);
}

export function pinHmac(pepper: string, pin: string): Buffer {
  return createHmac('sha256', pepper).update(`pin:${pin}`).digest();
}

/**
 * A PIN anyone would try first: one digit repeated (000000), a run up or down (123456, 987654,
 * wrapping 890123), or a short block repeated (121212, 123123, 12341234).
 */
export function isTrivialPin(pin: string): boolean {
  const d = [...pin].map(Number);
  const steps = new Set(d.slice(1).map((x, i) => (x - d[i]! + 10) % 10));
  if (steps.size === 1 && (steps.has(0) || steps.has(1) || steps.has(9))) return true;
  for (let block = 1; block <= pin.length / 2; block++) {
    if (pin.length % block === 0 && pin.slice(0, block).repeat(pin.length / block) === pin) return true;
  }
  return false;
}

/** A random PIN of `length` digits with no leading zero (callers drop leading zeros on some phones). */
export function generatePin(length = 8): string {
  let s = String(randomInt(1, 10));
  while (s.length < length) s += String(randomInt(0, 10));
  return s;
}

/** Passwords: scrypt (N=2^15, r=8, p=1), self-describing `scrypt$N$r$p$salt$hash`. */
const SCRYPT = { N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scrypt(password.normalize('NFKC'), salt, 32, SCRYPT);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  const salt = Buffer.from(parts[4]!, 'base64');
  const want = Buffer.from(parts[5]!, 'base64');
  const got = await scrypt(password.normalize('NFKC'), salt, want.length, { N, r, p, maxmem: SCRYPT.maxmem });
  return got.length === want.length && timingSafeEqual(got, want);
}

/** SIP digest HA1 = H(username:realm:password), for MD5 and SHA-256 (RFC 7616). */
export function sipHa1(username: string, realm: string, password: string): { md5: string; sha256: string } {
  const s = `${username}:${realm}:${password}`;
  return { md5: createHash('md5').update(s).digest('hex'), sha256: createHash('sha256').update(s).digest('hex') };
}
