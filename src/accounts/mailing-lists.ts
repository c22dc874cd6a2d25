/**
 * Mailing lists on the consents kept per list (consents.ts). An operator's message goes only to
 * the list's recipients at the moment of sending (opted in, not opted out since, not restricted,
 * not erased); each mail carries its own one-click unsubscribe link (RFC 8058: `List-Unsubscribe`
 * with an https URL, and `List-Unsubscribe-Post: List-Unsubscribe=One-Click`). The link's token is
 * `<customer>.<list>.<HMAC>`: it names whom to opt out of which list and cannot be forged or
 * pointed at another person; following it records an opt-out as the person's own act.
 */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { AppError } from '../errors.ts';
import type { Mailer } from '../mail/mailer.ts';
import { LISTS } from './consents.ts';
import type { Consents, MarketingList } from './consents.ts';

const TOKEN = /^([1-9][0-9]{0,15})\.([a-z_]{1,40})\.([A-Za-z0-9_-]{43})$/;

export class MailingLists {
  constructor(
    private readonly consents: Pick<Consents, 'recipients' | 'set'>,
    private readonly mailer: Mailer,
    private readonly key: string,
  ) {}

  private mac(customerId: number, list: string): string {
    return createHmac('sha256', this.key).update(`unsubscribe\0${customerId}\0${list}`).digest('base64url');
  }

  unsubscribeToken(customerId: number, list: MarketingList): string {
    return `${customerId}.${list}.${this.mac(customerId, list)}`;
  }

  /** The customer and list a token names, or undefined when it is not one of ours. */
  readToken(token: string): { customerId: number; list: MarketingList } | undefined {
    const m = TOKEN.exec(token);
    if (!m) return undefined;
    const [, id, list, mac] = m as unknown as [string, string, string, string];
    if (!(LISTS as readonly string[]).includes(list)) return undefined;
    const want = Buffer.from(this.mac(Number(id), list));
    const got = Buffer.from(mac);
    if (want.length !== got.length || !timingSafeEqual(want, got)) return undefined;
    return { customerId: Number(id), list: list as MarketingList };
  }

  /** One click: the person named by the token leaves the list (again: idempotent). */
  async unsubscribe(token: string): Promise<{ list: MarketingList }> {
    const who = this.readToken(token);
    if (!who) throw new AppError('NOT_FOUND', 'this unsubscribe link is not valid');
    try {
      await this.consents.set(who.customerId, who.list, false, 'unsubscribe-link', 'person');
    } catch (err) {
      // an erased customer has no consent left to withdraw: the answer is the same
      if (!(err instanceof AppError && (err.code === 'UNKNOWN_CUSTOMER' || err.code === 'CUSTOMER_ERASED'))) throw err;
    }
    return { list: who.list };
  }

  /** Queues the message for every current recipient of the list; returns the send's id and how many. */
  async send(list: MarketingList, message: { subject: string; text: string }): Promise<{ sendId: string; recipients: number }> {
    if (!LISTS.includes(list)) throw new AppError('VALIDATION_FAILED', `list must be one of ${LISTS.join(', ')}`);
    const sendId = randomUUID();
    const recipients = await this.consents.recipients(list);
    for (const r of recipients) {
      const url = this.mailer.link('/unsubscribe', { t: this.unsubscribeToken(r.customerId, list) });
      await this.mailer.listMessage({ to: r.email, customerId: r.customerId }, `${sendId}:${r.customerId}`, { ...message, unsubscribeLink: url });
    }
    return { sendId, recipients: recipients.length };
  }
}
