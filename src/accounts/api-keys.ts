import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type pg from 'pg';
import { AppError } from '../errors.ts';

/**
 * Operator API keys. A key reads `sk_<id>_<secret>`: the id finds the row, the 32-byte random
 * secret is checked against its stored SHA-256 (a slow hash adds nothing for a secret of this
 * entropy, and would cost every request). Scopes: read (GET routes), billing (money and tariffs),
 * admin (everything, including keys and data-protection requests).
 */
export const SCOPES = ['read', 'billing', 'admin', 'recordings'] as const;
export type Scope = (typeof SCOPES)[number];

export interface ApiKeyInfo {
  id: string;
  name: string;
  scopes: Scope[];
  createdBy: string;
  createdAt: Date;
  revokedAt: Date | null;
}

const KEY_FORMAT = /^sk_([a-f0-9]{12})_([A-Za-z0-9_-]{43})$/;
const hashSecret = (secret: string): Buffer => createHash('sha256').update(secret).digest();

/** Does a key holding `held` satisfy a route needing `needed`? admin ⊇ billing ⊇ read. */
export function scopeAllows(held: readonly Scope[], needed: Scope): boolean {
  if (held.includes('admin')) return true;
  if (needed === 'read') return held.includes('read') || held.includes('billing');
  return held.includes(needed);
}

export class ApiKeyStore {
  constructor(private readonly pool: pg.Pool) {}

  /** Creates a key; the returned `key` is shown once and never stored. */
  async create(name: string, scopes: Scope[], createdBy: string): Promise<{ key: string; info: ApiKeyInfo }> {
    if (name.trim().length === 0 || name.length > 100) throw new AppError('VALIDATION_FAILED', 'name must be 1-100 characters');
    if (scopes.length === 0 || scopes.some((s) => !SCOPES.includes(s))) throw new AppError('VALIDATION_FAILED', `scopes must be some of ${SCOPES.join(', ')}`);
    const id = randomBytes(6).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    const { rows } = await this.pool.query<ApiKeyInfo>(
      `insert into api_keys (id, name, scopes, secret_hash, created_by) values ($1, $2, $3, $4, $5)
       returning id, name, scopes, created_by as "createdBy", created_at as "createdAt", revoked_at as "revokedAt"`,
      [id, name.trim(), [...new Set(scopes)], hashSecret(secret), createdBy],
    );
    return { key: `sk_${id}_${secret}`, info: rows[0]! };
  }

  async list(): Promise<ApiKeyInfo[]> {
    const { rows } = await this.pool.query<ApiKeyInfo>(
      `select id, name, scopes, created_by as "createdBy", created_at as "createdAt", revoked_at as "revokedAt" from api_keys order by created_at, id`,
    );
    return rows;
  }

  /** Revokes a key (idempotent: revoking a revoked key keeps the first revocation time). */
  async revoke(id: string): Promise<ApiKeyInfo> {
    const { rows } = await this.pool.query<ApiKeyInfo>(
      `update api_keys set revoked_at = coalesce(revoked_at, now()) where id = $1
       returning id, name, scopes, created_by as "createdBy", created_at as "createdAt", revoked_at as "revokedAt"`,
      [id],
    );
    if (!rows[0]) throw new AppError('UNKNOWN_API_KEY');
    return rows[0];
  }

  /** The key's id and scopes when it is well-formed, known, not revoked and its secret matches. */
  async verify(key: string): Promise<{ id: string; scopes: Scope[] } | undefined> {
    const m = KEY_FORMAT.exec(key);
    if (!m) return undefined;
    const { rows } = await this.pool.query<{ scopes: Scope[]; secret_hash: Buffer }>(
      'select scopes, secret_hash from api_keys where id = $1 and revoked_at is null',
      [m[1]],
    );
    const row = rows[0];
    if (!row) return undefined;
    const got = hashSecret(m[2]!);
    if (got.length !== row.secret_hash.length || !timingSafeEqual(got, row.secret_hash)) return undefined;
    return { id: m[1]!, scopes: row.scopes };
  }
}
