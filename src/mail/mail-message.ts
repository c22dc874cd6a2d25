/**
 * What a mail is once rendered, and the checks that keep one mail one mail: a recipient is a
 * single plain address, and no header value holds a line break (header injection: a "name" of
 * `x\r\nBcc: someone` must never become a second header or a second recipient).
 */
import { AppError } from '../errors.ts';

/** The mails the service sends. Each has a template in templates.ts. */
export const MAIL_TEMPLATES = [
  'email_verification',
  'welcome',
  'topup_receipt',
  'low_balance',
  'auto_topup_charged',
  'auto_topup_declined',
  'credential_changed',
  'data_export_ready',
  'list_message',
] as const;
export type MailTemplate = (typeof MAIL_TEMPLATES)[number];

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

/** A mail as the outbox holds it and the transport sends it. */
export interface OutgoingMail extends RenderedMail {
  to: string;
  /** Extra headers (List-Unsubscribe and the like); names and values checked by checkHeaders. */
  headers: Record<string, string>;
}

/** Any C0 control character, DEL, or a Unicode line or paragraph separator. */
function hasControl(s: string): boolean {
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c < 0x20 || c === 0x7f || c === 0x2028 || c === 0x2029) return true;
  }
  return false;
}

const ADDRESS = /^[^@\s<>,;"'()\\[\]:]+@[^@\s<>,;"'()\\[\]:]+\.[^@\s<>,;"'()\\[\]:]+$/;

/** One plain address (`user@host.tld`), at most 254 characters; no display name, list or group. */
export function isSingleAddress(s: string): boolean {
  return s.length <= 254 && ADDRESS.test(s) && !hasControl(s);
}

export function assertSingleAddress(s: string): void {
  if (!isSingleAddress(s)) throw new AppError('VALIDATION_FAILED', 'a mail goes to one plain e-mail address');
}

/** Removes line breaks and other control characters from text bound for a header (a subject). */
export function headerSafe(s: string): string {
  let out = '';
  let gap = false;
  for (const ch of s) {
    if (hasControl(ch)) gap = true;
    else {
      if (gap) out += ' ';
      gap = false;
      out += ch;
    }
  }
  return out.trim();
}

const HEADER_NAME = /^[A-Za-z][A-Za-z0-9-]{0,63}$/;
const RESERVED = new Set(['to', 'from', 'cc', 'bcc', 'subject', 'sender', 'reply-to', 'content-type', 'content-transfer-encoding', 'mime-version']);

/** Extra headers: token names, none that addresses or structures the mail, values on one line. */
export function checkHeaders(h: Record<string, string>): void {
  for (const [name, value] of Object.entries(h)) {
    if (!HEADER_NAME.test(name) || RESERVED.has(name.toLowerCase())) throw new Error(`header ${JSON.stringify(name)} may not be set by a template`);
    if (hasControl(value)) throw new Error(`header ${name} holds a line break`);
  }
}
