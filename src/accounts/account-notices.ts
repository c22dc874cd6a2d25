/**
 * The mails an account's events send (src/mail): this finds the customer's address for an
 * account and hands the facts to the Mailer. A customer without an address, or erased, gets
 * nothing. Queuing a mail never fails the event it reports: the event has happened (a top-up
 * credited, a PIN changed); a failure to queue is logged at error, with the ids, for an operator.
 */
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Mailer } from '../mail/mailer.ts';

interface Contact {
  customerId: number;
  email: string;
  number: string;
  currency: string;
}

export class AccountNotices {
  constructor(
    private readonly pool: pg.Pool,
    readonly mailer: Mailer,
    private readonly log?: Logger,
  ) {}

  /** Where an account's mails go: the customer's verified address only (`anyAddress`: the welcome mail, whose link verifies it). */
  async contactOf(accountId: number, anyAddress = false): Promise<Contact | undefined> {
    const { rows } = await this.pool.query<{ customerId: string; email: string | null; number: string; currency: string }>(
      `select c.id as "customerId", c.email, a.number, a.currency from accounts a join customers c on c.id = a.customer_id
        where a.id = $1 and c.erased_at is null and ($2 or c.email_verified_at is not null)`,
      [accountId, anyAddress],
    );
    const r = rows[0];
    if (!r?.email) return undefined;
    return { customerId: Number(r.customerId), email: r.email, number: r.number, currency: r.currency };
  }

  private async send(what: string, ids: Record<string, unknown>, f: () => Promise<unknown>): Promise<void> {
    try {
      await f();
    } catch (err) {
      this.log?.error({ ...ids, err: (err as Error).message }, `could not queue the ${what} mail`);
    }
  }

  async topUp(accountId: number, topUpId: string, amount: number, reference: string, balanceAfter?: number): Promise<void> {
    await this.send('top-up receipt', { accountId }, async () => {
      const c = await this.contactOf(accountId);
      if (!c) return;
      await this.mailer.topUpReceipt({ to: c.email, customerId: c.customerId }, topUpId, {
        accountNumber: c.number,
        amount: { micros: amount, currency: c.currency },
        ...(balanceAfter !== undefined ? { balance: { micros: balanceAfter, currency: c.currency } } : {}),
        reference: reference || topUpId,
        at: new Date(),
      });
    });
  }

  async credentialChanged(accountId: number, what: 'PIN' | 'password' | 'SIP password', eventId: string): Promise<void> {
    await this.send('credential changed', { accountId }, async () => {
      const c = await this.contactOf(accountId);
      if (c) await this.mailer.credentialChanged({ to: c.email, customerId: c.customerId }, eventId, { accountNumber: c.number, what, at: new Date() });
    });
  }

  async autoTopUp(accountId: number, attemptKey: string, amount: number, outcome: { ok: true } | { ok: false; reason: string }): Promise<void> {
    await this.send('auto top-up', { accountId }, async () => {
      const c = await this.contactOf(accountId);
      if (!c) return;
      const money = { micros: amount, currency: c.currency };
      const to = { to: c.email, customerId: c.customerId };
      if (outcome.ok) await this.mailer.autoTopUpCharged(to, attemptKey, { accountNumber: c.number, amount: money, at: new Date() });
      else await this.mailer.autoTopUpDeclined(to, attemptKey, { accountNumber: c.number, amount: money, reason: outcome.reason });
    });
  }

  async lowBalance(accountId: number, crossing: number, available: number, threshold: number): Promise<void> {
    await this.send('low balance', { accountId }, async () => {
      const c = await this.contactOf(accountId);
      if (!c) return;
      await this.mailer.lowBalance({ to: c.email, customerId: c.customerId }, accountId, crossing, {
        accountNumber: c.number,
        available: { micros: available, currency: c.currency },
        threshold: { micros: threshold, currency: c.currency },
      });
    });
  }

  /**
   * The welcome mail: account number, user name, access numbers and a one-time link to choose the
   * password (issued only when there is an address). `verifiedOnly`: only to a verified address
   * (the CLI: an address an operator typed may be wrong, and the link sets the password).
   */
  async welcome(
    accountId: number,
    accessNumbers: string[],
    issueLink: (sentTo: string) => Promise<{ token: string; expiresAt: Date }>,
    o: { verifiedOnly?: boolean } = {},
  ): Promise<void> {
    await this.send('welcome', { accountId }, async () => {
      const c = await this.contactOf(accountId, !o.verifiedOnly);
      if (!c) return;
      const { rows } = await this.pool.query<{ name: string; username: string | null }>(
        'select c.name, a.username from accounts a join customers c on c.id = a.customer_id where a.id = $1',
        [accountId],
      );
      const link = await issueLink(c.email);
      await this.mailer.welcome(
        { to: c.email, customerId: c.customerId },
        {
          name: rows[0]?.name ?? '',
          accountNumber: c.number,
          ...(rows[0]?.username ? { username: rows[0].username } : {}),
          accessNumbers,
          setPasswordLink: this.mailer.link('/my/set-password', { token: link.token }),
          linkExpiresAt: link.expiresAt,
        },
      );
    });
  }

  async dataExportReady(customerId: number, eventId: string): Promise<void> {
    await this.send('data export ready', { customerId }, async () => {
      const { rows } = await this.pool.query<{ email: string | null }>(
        'select email from customers where id = $1 and erased_at is null and email_verified_at is not null',
        [customerId],
      );
      const email = rows[0]?.email;
      if (email) await this.mailer.dataExportReady({ to: email, customerId }, eventId);
    });
  }
}
