import { createHash, randomBytes } from 'node:crypto';
import type pg from 'pg';
import { AppError } from '../errors.ts';

/**
 * E-mail verification. A customer's new address does not take effect when they enter it: it waits
 * in email_verifications until it is confirmed with a single-use token that expires (only the
 * token's SHA-256 is stored). An address an operator sets takes effect unverified. Until an
 * address is verified it is on no marketing list's recipients (Consents.recipients) and nothing
 * personal is sent to it (`deliverableAddress`).
 *
 * The token reaches the mailbox through a VerificationMailer: the seam where the mail path plugs
 * in. Until one is configured, an operator issues a token (`issue`, shown once in the console or
 * the CLI) and sends it to the address from the service's mailbox; the customer enters it on the
 * self-care page. The token is never logged and never returned to the session that asked for the
 * change: that would prove nothing about the mailbox (docs/privacy.md › E-mail verification).
 */
export interface VerificationMailer {
  /** Sends the token to the address; throws when it could not be handed over. */
  sendVerification(message: { to: string; token: string; expiresAt: Date }): Promise<void>;
}

export interface PendingEmail {
  email: string;
  expiresAt: Date;
  /** sent: by the mailer; by_support: an operator sends the code (no mail path configured yet). */
  delivery: 'sent' | 'by_support';
}

export const VERIFICATION_HOURS = 24;
const TOKEN = /^ev_[A-Za-z0-9_-]{43}$/;
const hash = (token: string): string => createHash('sha256').update(token).digest('hex');

export class EmailVerification {
  constructor(
    private readonly pool: pg.Pool,
    private readonly mailer?: VerificationMailer,
    private readonly hours = VERIFICATION_HOURS,
  ) {}

  /** The customer asks for a new address: it is pending, and the mailer (if any) sends the token. */
  async request(customerId: number, email: string, actor: string): Promise<PendingEmail> {
    const { token, expiresAt } = await this.store(customerId, email, actor);
    if (!this.mailer) return { email, expiresAt, delivery: 'by_support' };
    await this.mailer.sendVerification({ to: email, token, expiresAt });
    return { email, expiresAt, delivery: 'sent' };
  }

  /**
   * An operator issues a token for the pending address or, if none, the customer's unverified
   * current one, to send it by hand. The token is in the answer only.
   */
  async issue(customerId: number, actor: string): Promise<{ email: string; token: string; expiresAt: Date }> {
    const c = await this.customer(customerId);
    const pending = await this.pending(customerId);
    const email = pending?.email ?? (c.verified ? null : c.email);
    if (!email) throw new AppError('NOTHING_TO_VERIFY');
    const { token, expiresAt } = await this.store(customerId, email, actor);
    return { email, token, expiresAt };
  }

  /** The customer enters the token: the address becomes theirs, verified. Single use. */
  async confirm(customerId: number, token: string): Promise<{ email: string }> {
    if (!TOKEN.test(token)) throw new AppError('VERIFICATION_FAILED');
    const db = await this.pool.connect();
    try {
      await db.query('begin');
      const { rows } = await db.query<{ email: string }>(
        'delete from email_verifications where customer_id = $1 and token_hash = $2 and expires_at > now() returning email',
        [customerId, hash(token)],
      );
      if (!rows[0]) throw new AppError('VERIFICATION_FAILED');
      const { email } = rows[0];
      await db.query('update customers set email = $2, email_verified_at = now(), updated_at = now() where id = $1 and erased_at is null', [customerId, email]);
      await db.query('commit');
      return { email };
    } catch (err) {
      await db.query('rollback').catch(() => undefined);
      if ((err as { code?: string }).code === '23505') throw new AppError('ALREADY_EXISTS', 'another customer has that e-mail address');
      throw err;
    } finally {
      db.release();
    }
  }

  async pending(customerId: number): Promise<{ email: string; expiresAt: Date } | undefined> {
    const { rows } = await this.pool.query<{ email: string; expiresAt: Date }>(
      'select email, expires_at as "expiresAt" from email_verifications where customer_id = $1 and expires_at > now()',
      [customerId],
    );
    return rows[0];
  }

  /** An operator's change of the address supersedes a pending one. */
  async cancel(customerId: number): Promise<void> {
    await this.pool.query('delete from email_verifications where customer_id = $1', [customerId]);
  }

  /** Where something personal may be sent: the verified address only. */
  async deliverableAddress(customerId: number): Promise<string | undefined> {
    const c = await this.customer(customerId);
    return c.verified && c.email ? c.email : undefined;
  }

  private async store(customerId: number, email: string, actor: string): Promise<{ token: string; expiresAt: Date }> {
    const c = await this.customer(customerId);
    if (c.erased) throw new AppError('CUSTOMER_ERASED');
    const token = `ev_${randomBytes(32).toString('base64url')}`;
    const { rows } = await this.pool.query<{ expiresAt: Date }>(
      `insert into email_verifications (customer_id, email, token_hash, requested_by, expires_at)
       values ($1, $2, $3, $4, now() + make_interval(hours => $5))
       on conflict (customer_id) do update set email = excluded.email, token_hash = excluded.token_hash,
         requested_by = excluded.requested_by, created_at = now(), expires_at = excluded.expires_at
       returning expires_at as "expiresAt"`,
      [customerId, email, hash(token), actor, this.hours],
    );
    return { token, expiresAt: rows[0]!.expiresAt };
  }

  private async customer(customerId: number): Promise<{ email: string | null; verified: boolean; erased: boolean }> {
    const { rows } = await this.pool.query<{ email: string | null; verified: boolean; erased: boolean }>(
      'select email, email_verified_at is not null as verified, erased_at is not null as erased from customers where id = $1',
      [customerId],
    );
    if (!rows[0]) throw new AppError('UNKNOWN_CUSTOMER');
    return rows[0];
  }
}
