/**
 * One-time links to choose the self-care password (migrations/0019_password_links.sql): the
 * welcome mail carries one instead of a password. A token is `pl_` and 43 random characters; only
 * its SHA-256 is stored. use() takes the token and the new password in one transaction: the row
 * is locked, the password set (the password policy applies: a weak one leaves the link usable),
 * the link marked used. An account without a user name gets its account number as user name.
 */
import { createHash, randomBytes } from 'node:crypto';
import type pg from 'pg';
import { AppError } from '../errors.ts';
import type { CustomerLogins } from './account-ports.ts';

export const PASSWORD_LINK_HOURS = 72;
const TOKEN = /^pl_[A-Za-z0-9_-]{43}$/;
const hash = (t: string): string => createHash('sha256').update(t).digest('hex');

export class PasswordLinks {
  constructor(
    private readonly pool: pg.Pool,
    private readonly logins: Pick<CustomerLogins, 'setPassword'>,
    private readonly hours = PASSWORD_LINK_HOURS,
  ) {}

  /** `sentTo`: the address the link is mailed to; using the link verifies it if it is still the customer's. */
  async issue(accountId: number, sentTo?: string): Promise<{ token: string; expiresAt: Date }> {
    const token = `pl_${randomBytes(32).toString('base64url')}`;
    const expiresAt = new Date(Date.now() + this.hours * 3_600_000);
    await this.pool.query('insert into password_links (token_hash, account_id, expires_at, email_sha256) values ($1, $2, $3, $4)', [
      hash(token),
      accountId,
      expiresAt,
      sentTo === undefined ? null : hash(sentTo.toLowerCase()),
    ]);
    return { token, expiresAt };
  }

  /** Sets the password through a link; returns the user name to log in with. Unknown, used and expired links are one refusal. */
  async use(token: string, password: string): Promise<{ accountId: number; username: string }> {
    if (!TOKEN.test(token)) throw new AppError('NOT_FOUND', 'this link is not valid (it may have been used or have expired)');
    const client = await this.pool.connect();
    try {
      await client.query('begin');
      // the link's row is locked: a second use of the same link waits, then finds it used
      const { rows } = await client.query<{ accountId: string }>(
        `select l.account_id as "accountId" from password_links l join accounts a on a.id = l.account_id
          where l.token_hash = $1 and l.used_at is null and l.expires_at > now() and a.status <> 'closed' for update of l`,
        [hash(token)],
      );
      const accountId = rows[0] ? Number(rows[0].accountId) : undefined;
      if (accountId === undefined) throw new AppError('NOT_FOUND', 'this link is not valid (it may have been used or have expired)');
      await this.logins.setPassword(accountId, password); // the policy refuses a weak one: the link stays usable
      const { rows: named } = await this.pool.query<{ username: string }>(
        'update accounts set username = coalesce(username, number), updated_at = now() where id = $1 returning username',
        [accountId],
      );
      await client.query('update password_links set used_at = now() where token_hash = $1', [hash(token)]);
      // the link reached the mailbox it was sent to: that address is verified, if it is still the customer's
      await client.query(
        `update customers c set email_verified_at = now(), updated_at = now()
           from accounts a, password_links l
          where a.id = $1 and c.id = a.customer_id and l.token_hash = $2 and l.email_sha256 is not null
            and c.email is not null and c.email_verified_at is null and encode(sha256(convert_to(lower(c.email), 'UTF8')), 'hex') = l.email_sha256`,
        [accountId, hash(token)],
      );
      await client.query('commit');
      return { accountId, username: named[0]!.username };
    } catch (err) {
      await client.query('rollback').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }
}
