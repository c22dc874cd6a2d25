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

/** `length` random characters from [A-Za-z0-9] (about 5.95 bits each). */
export function randomToken(length: number): string {
  if (offset + length > POOL_SIZE) {
    pool = randomBytes(POOL_SIZE);
    offset = 0;
  }
  let out = '';
  for (let i = 0; i < length; i++) {
    // 248 = 4 * 62: rejecting values above it keeps the distribution uniform.
    let b = pool[offset++] as number;
    while (b >= 248) {
      if (offset >= POOL_SIZE) {
        pool = randomBytes(POOL_SIZE);
        offset = 0;
      }
      b = pool[offset++] as number;
    }
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
