/**
 * The transport port (one method) and its SMTP implementation on nodemailer. SMTP_SECURITY
 * `starttls` requires the upgrade (a server that does not offer STARTTLS is refused rather than
 * spoken to in clear); `tls` is TLS from the first byte; `none` is for a loopback capture or relay.
 */
import nodemailer from 'nodemailer';
import type { Transporter } from 'nodemailer';
import type { OutgoingMail } from './mail-message.ts';

export interface SmtpSettings {
  host: string;
  port: number;
  security: 'starttls' | 'tls' | 'none';
  rejectUnauthorized: boolean;
  user: string;
  password: string;
  from: string;
  /** Connection, greeting and socket timeouts (ms). */
  timeoutMs?: number;
}

export type SendOutcome = { ok: true; messageId: string } | { ok: false; permanent: boolean; error: string };

export interface MailTransport {
  send(mail: OutgoingMail): Promise<SendOutcome>;
  close(): void;
}

export class SmtpTransport implements MailTransport {
  private readonly t: Transporter;

  constructor(private readonly s: SmtpSettings) {
    const timeout = s.timeoutMs ?? 30_000;
    this.t = nodemailer.createTransport({
      host: s.host,
      port: s.port,
      secure: s.security === 'tls',
      requireTLS: s.security === 'starttls',
      ignoreTLS: s.security === 'none',
      tls: { rejectUnauthorized: s.rejectUnauthorized },
      ...(s.user ? { auth: { user: s.user, pass: s.password } } : {}),
      connectionTimeout: timeout,
      greetingTimeout: timeout,
      socketTimeout: timeout,
      disableFileAccess: true,
      disableUrlAccess: true,
    });
  }

  async send(mail: OutgoingMail): Promise<SendOutcome> {
    try {
      const info = (await this.t.sendMail({
        from: this.s.from,
        to: mail.to,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        headers: mail.headers,
      })) as { messageId?: string; rejected?: unknown[] };
      return { ok: true, messageId: info.messageId ?? '' };
    } catch (err) {
      const e = err as { responseCode?: number; code?: string; command?: string; message?: string };
      // a 5xx to this mail's recipient or content is the server's final word on it; anything else
      // (no connection, timeout, 4xx, and a 5xx to our login or sender, which is our
      // configuration and hits every mail alike) is an outage to wait out
      const permanent =
        typeof e.responseCode === 'number' && e.responseCode >= 500 && e.responseCode < 600 && (e.command === 'RCPT TO' || e.command === 'DATA');
      return { ok: false, permanent, error: `${e.code ?? 'ERROR'}${e.responseCode ? ` ${e.responseCode}` : ''}: ${e.message ?? String(err)}` };
    }
  }

  close(): void {
    this.t.close();
  }
}
