import type { Config } from '../config/config.ts';
import type { RetryPolicy } from './outbox.ts';
import type { SmtpSettings } from './smtp-transport.ts';

/** The e-mail settings (docs/operations.md › E-mail), read once from the configuration. */
export interface MailSettings {
  smtp: SmtpSettings;
  /** False when SMTP_HOST is empty: mails are queued, and wait for a server to be configured. */
  sending: boolean;
  linkBaseUrl: string;
  retry: RetryPolicy;
  pollMs: number;
  batchSize: number;
}

export const DEFAULT_RETRY: RetryPolicy = { baseSeconds: 30, maxSeconds: 3600, maxAttempts: 40 };

export function mailSettingsOf(c: Config): MailSettings {
  return {
    smtp: {
      host: c.smtpHost,
      port: c.smtpPort,
      security: c.smtpSecurity as SmtpSettings['security'],
      rejectUnauthorized: c.smtpTlsRejectUnauthorized,
      user: c.smtpUser,
      password: c.smtpPassword,
      from: c.mailFrom,
    },
    sending: c.smtpHost !== '',
    linkBaseUrl: c.mailLinkBaseUrl,
    retry: { baseSeconds: c.mailRetryBaseSeconds, maxSeconds: c.mailRetryMaxSeconds, maxAttempts: c.mailMaxAttempts },
    pollMs: c.mailPollMs,
    batchSize: c.mailBatchSize,
  };
}
