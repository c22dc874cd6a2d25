/**
 * The service's mails, one function each: render the template and queue it in the outbox under a
 * key that names the event (so the event mails once however often it is reported). Links point at
 * the self-care pages under MAIL_LINK_BASE_URL. Nothing here sends: the outbox worker does.
 */
import { createHash } from 'node:crypto';
import type { MailTemplate } from './mail-message.ts';
import type { MailOutbox } from './outbox.ts';
import { renderMail } from './templates.ts';
import type { Money, TemplateData } from './templates.ts';

export interface MailerSettings {
  linkBaseUrl: string;
}

export interface Recipient {
  to: string;
  customerId?: number;
}

export class Mailer {
  constructor(
    private readonly outbox: MailOutbox,
    private readonly settings: MailerSettings,
  ) {}

  /** An absolute link to a self-care path (`/my/...`), with query parameters. */
  link(path: string, query: Record<string, string> = {}): string {
    const u = new URL(path, this.settings.linkBaseUrl);
    for (const [k, v] of Object.entries(query)) u.searchParams.set(k, v);
    return u.toString();
  }

  private queue<T extends MailTemplate>(
    template: T,
    key: string,
    r: Recipient,
    data: TemplateData[T],
    headers?: Record<string, string>,
  ): Promise<{ id: number; queued: boolean }> {
    return this.outbox.enqueue({
      key,
      template,
      to: r.to,
      ...(r.customerId !== undefined ? { customerId: r.customerId } : {}),
      mail: renderMail(template, data),
      ...(headers ? { headers } : {}),
    });
  }

  /** A message to a mailing list's recipient, with RFC 8058 one-click unsubscribe headers. */
  listMessage(r: Recipient, key: string, d: TemplateData['list_message']) {
    return this.queue('list_message', `list:${key}`, r, d, {
      'List-Unsubscribe': `<${new URL(d.unsubscribeLink).toString()}>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    });
  }

  /**
   * The e-mail verification mail: the code to enter in self-care and the page to enter it on. Fits
   * the verification flow's `VerificationMailer` seam (`sendVerification({ to, token, expiresAt })`);
   * one mail per token. `link`: the page to enter it on (an online order's page; default the self-care privacy page).
   */
  async sendVerification(m: { to: string; token: string; expiresAt: Date; customerId?: number; link?: string }): Promise<void> {
    const tokenId = createHash('sha256').update(m.token).digest('hex').slice(0, 32);
    const r: Recipient = { to: m.to, ...(m.customerId !== undefined ? { customerId: m.customerId } : {}) };
    await this.queue('email_verification', `verify:${tokenId}`, r, { code: m.token, link: m.link ?? this.link('/my/privacy'), expiresAt: m.expiresAt });
  }

  /** Welcome: account number, access numbers and a one-time link to choose the password (built by the caller). */
  welcome(r: Recipient, d: Omit<TemplateData['welcome'], 'selfCareUrl'>): Promise<{ id: number; queued: boolean }> {
    return this.queue('welcome', `welcome:${d.accountNumber}`, r, { ...d, selfCareUrl: this.link('/my') });
  }

  /** A receipt per top-up (its idempotency key: one receipt however often it is retried). */
  topUpReceipt(r: Recipient, topUpId: string, d: TemplateData['topup_receipt']): Promise<{ id: number; queued: boolean }> {
    return this.queue('topup_receipt', `topup:${topUpId}`, r, d);
  }

  /** The low-balance warning of one crossing (`crossing` counts the account's crossings). */
  lowBalance(r: Recipient, accountId: number, crossing: number, d: { accountNumber: string; available: Money; threshold: Money }) {
    return this.queue('low_balance', `low:${accountId}:${crossing}`, r, { ...d, selfCareUrl: this.link('/my') });
  }

  autoTopUpCharged(r: Recipient, attemptKey: string, d: TemplateData['auto_topup_charged']) {
    return this.queue('auto_topup_charged', `auto:${attemptKey}`, r, d);
  }

  autoTopUpDeclined(r: Recipient, attemptKey: string, d: Omit<TemplateData['auto_topup_declined'], 'selfCareUrl'>) {
    return this.queue('auto_topup_declined', `auto:${attemptKey}`, r, { ...d, selfCareUrl: this.link('/my') });
  }

  /** The PIN, password or SIP password changed: `eventId` names the change (one mail per change). */
  credentialChanged(r: Recipient, eventId: string, d: TemplateData['credential_changed']) {
    return this.queue('credential_changed', `cred:${eventId}`, r, d);
  }

  dataExportReady(r: Recipient, eventId: string, d: { expiresAt?: Date } = {}) {
    return this.queue('data_export_ready', `export:${eventId}`, r, { link: this.link('/my/privacy'), ...d });
  }
}
