/**
 * The mail templates: each turns its facts into a subject, a plain-text body and an HTML body
 * built from the same blocks, so the two parts say the same thing. Every value is escaped in the
 * HTML part (src/common/html.ts) and stripped of line breaks in the subject; links are http(s)
 * only. No template takes a PIN or a password: a mail can be read by whoever sees the mailbox, so
 * credentials travel as a one-time link to set them, never in clear.
 */
import { html, join } from '../common/html.ts';
import type { Html } from '../common/html.ts';
import { formatRounded, minorUnitDigits } from '../common/money-text.ts';
import { headerSafe } from './mail-message.ts';
import type { MailTemplate, RenderedMail } from './mail-message.ts';

export interface Money {
  micros: number;
  currency: string;
}

/** The facts each template needs. */
export interface TemplateData {
  email_verification: { code: string; link: string; expiresAt: Date };
  welcome: {
    name: string;
    accountNumber: string;
    username?: string;
    accessNumbers: string[];
    setPasswordLink: string;
    linkExpiresAt: Date;
    selfCareUrl: string;
  };
  topup_receipt: { accountNumber: string; amount: Money; balance?: Money; reference: string; at: Date };
  low_balance: { accountNumber: string; available: Money; threshold: Money; selfCareUrl: string };
  auto_topup_charged: { accountNumber: string; amount: Money; at: Date };
  auto_topup_declined: { accountNumber: string; amount: Money; reason: string; selfCareUrl: string };
  credential_changed: { accountNumber: string; what: 'PIN' | 'password' | 'SIP password'; at: Date };
  data_export_ready: { link: string; expiresAt?: Date };
  list_message: { subject: string; text: string; unsubscribeLink: string };
}

type Block = string | { link: string; label: string } | { items: string[] } | { facts: [string, string][] };

export function money(m: Money): string {
  return `${formatRounded(m.micros, minorUnitDigits(m.currency))} ${m.currency}`;
}

const when = (d: Date): string => `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;

function safeLink(url: string): string {
  const u = new URL(url);
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error('a mail link must be http(s)');
  return u.toString();
}

function textOf(b: Block): string {
  if (typeof b === 'string') return b;
  if ('link' in b) return `${b.label}:\n${safeLink(b.link)}`;
  if ('items' in b) return b.items.map((i) => `  - ${i}`).join('\n');
  return b.facts.map(([k, v]) => `  ${k}: ${v}`).join('\n');
}

function htmlOf(b: Block): Html {
  if (typeof b === 'string') return html`<p>${b}</p>`;
  if ('link' in b) return html`<p><a href="${safeLink(b.link)}">${b.label}</a></p>`;
  if ('items' in b) return html`<ul>${b.items.map((i) => html`<li>${i}</li>`)}</ul>`;
  return html`<table>${b.facts.map(([k, v]) => html`<tr><th align="left">${k}</th><td>${v}</td></tr>`)}</table>`;
}

const FOOTER = 'This mail was sent by the prepaid calling service because of your account. E-mail is how we reach you; we never ask for your PIN or password.';

function compose(subject: string, blocks: Block[]): RenderedMail {
  const s = headerSafe(subject);
  const text = [...blocks.map(textOf), '--', FOOTER].join('\n\n') + '\n';
  const body = join(blocks.map(htmlOf));
  const doc = html`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${s}</title></head><body>${body}<hr><p><small>${FOOTER}</small></p></body></html>`;
  return { subject: s, text, html: doc.text };
}

const TEMPLATES: { [T in MailTemplate]: (d: TemplateData[T]) => RenderedMail } = {
  email_verification: (d) =>
    compose('Confirm your e-mail address', [
      'Please confirm that this address is yours: open the link below, log in to self-care if asked, and enter this code:',
      { facts: [['Code', d.code]] },
      { link: d.link, label: 'Confirm my e-mail address' },
      `The code works once and until ${when(d.expiresAt)}. If you did not ask for this, ignore this mail: nothing changes.`,
    ]),
  welcome: (d) =>
    compose(`Welcome, ${d.name}: your calling account ${d.accountNumber}`, [
      `Hello ${headerSafe(d.name)},`,
      'your prepaid calling account is open.',
      {
        facts: [
          ['Account number', d.accountNumber],
          ['Self-care user name', d.username ?? d.accountNumber],
        ],
      },
      d.accessNumbers.length
        ? 'Call one of these access numbers, enter your PIN, then the number you want to reach:'
        : 'Your access numbers are shown in self-care.',
      ...(d.accessNumbers.length ? [{ items: d.accessNumbers }] : []),
      'For your safety this mail holds no PIN or password. Choose your self-care password with this link; it works once:',
      { link: d.setPasswordLink, label: 'Set my password' },
      `The link expires at ${when(d.linkExpiresAt)}. After that, ask for a new one in self-care or from support.`,
      { link: d.selfCareUrl, label: 'Self-care: balance, calls, PIN, caller IDs' },
    ]),
  topup_receipt: (d) =>
    compose(`Receipt: ${money(d.amount)} added to account ${d.accountNumber}`, [
      'Thank you. Your account was credited:',
      {
        facts: [
          ['Account', d.accountNumber],
          ['Amount', money(d.amount)],
          ...(d.balance ? ([['Balance after', money(d.balance)]] as [string, string][]) : []),
          ['Reference', d.reference],
          ['Date', when(d.at)],
        ],
      },
    ]),
  low_balance: (d) =>
    compose(`Low balance on account ${d.accountNumber}`, [
      `The balance of account ${d.accountNumber} is ${money(d.available)}, below the ${money(d.threshold)} you asked us to warn you about.`,
      { link: d.selfCareUrl, label: 'Top up or change the warning in self-care' },
    ]),
  auto_topup_charged: (d) =>
    compose(`Auto top-up: ${money(d.amount)} charged`, [
      `Your balance fell below your threshold, so we charged your saved payment method ${money(d.amount)} and credited account ${d.accountNumber}.`,
      { facts: [['Date', when(d.at)]] },
    ]),
  auto_topup_declined: (d) =>
    compose('Auto top-up declined', [
      `We tried to charge ${money(d.amount)} to your saved payment method for account ${d.accountNumber}, and it was declined (${d.reason}).`,
      'Auto top-up is now switched off. Your calls continue while credit remains.',
      { link: d.selfCareUrl, label: 'Update your payment method in self-care' },
    ]),
  credential_changed: (d) =>
    compose(`Your ${d.what} was changed`, [
      `The ${d.what} of account ${d.accountNumber} was changed at ${when(d.at)}.`,
      'If this was you, nothing more is needed. If it was not, contact support at once: someone may know your credentials.',
    ]),
  data_export_ready: (d) =>
    compose('Your personal data export is ready', [
      'The copy of your personal data you asked for is ready.',
      { link: d.link, label: 'Download it in self-care (you will be asked to log in)' },
      ...(d.expiresAt ? [`It can be fetched until ${when(d.expiresAt)}.`] : []),
    ]),
  list_message: (d) =>
    compose(d.subject, [
      ...d.text
        .split(/\r?\n\s*\r?\n/)
        .map((p) => p.trim())
        .filter((p) => p.length > 0),
      { link: d.unsubscribeLink, label: 'Unsubscribe from these e-mails (one click)' },
    ]),
};

export function renderMail<T extends MailTemplate>(template: T, data: TemplateData[T]): RenderedMail {
  return TEMPLATES[template](data);
}
