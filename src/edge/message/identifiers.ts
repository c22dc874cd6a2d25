/**
 * Random identifiers: tags (RFC 3261 §19.3, at least 32 bits of randomness), branches
 * (§8.1.1.7, magic cookie `z9hG4bK`) and Call-IDs (§8.1.1.4). Random bytes are drawn from a
 * pooled crypto buffer so that generating an id costs no system call.
 */
import { randomBytes, randomUUID } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const POOL_SIZE = 4096;
let pool = randomBytes(POOL_SIZE);
let offset = 0;

function nextByte(): number {
  if (offset >= POOL_SIZE) {
    pool = randomBytes(POOL_SIZE);
    offset = 0;
  }
  return pool[offset++]!;
}

/** `length` random characters from [A-Za-z0-9] (about 5.95 bits each). */
export function randomToken(length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) {
    // 248 = 4 * 62: rejecting values above it keeps the distribution uniform. Rejected bytes are
    // drawn too, so the pool is refilled wherever it runs out, not only between tokens.
    let b = nextByte();
    while (b >= 248) b = nextByte();
    out += ALPHABET[b % 62];
  }
  return out;
}

/** RFC 3261 §8.1.1.7 magic cookie that starts every branch. */
export const BRANCH_MAGIC_COOKIE = 'z9hG4bK';

/** A From/To tag: 13 alphanumerics, like the reference server's tags. */
export function generateTag(): string {
  return randomToken(13);
}

/** A Via branch: `z9hG4bK` + 13 alphanumerics (the reference server's format). */
export function generateBranch(): string {
  return BRANCH_MAGIC_COOKIE + randomToken(13);
}

/** A Call-ID: a random UUID. */
export function generateCallId(): string {
  return randomUUID();
}
