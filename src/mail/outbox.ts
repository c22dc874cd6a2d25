/**
 * The durable outbox (migrations/0017_mail_outbox.sql). enqueue() writes a rendered mail once per
 * idempotency key; claim() hands due mails to one worker at a time (row lease, `skip locked`, so
 * several API processes share the work); sent()/failed() record the outcome. A failed attempt is
 * retried after base × 2^(attempts−1) seconds, capped, until maxAttempts; a permanent refusal
 * (SMTP 5xx) fails the mail at once.
 */
import type pg from 'pg';
import { assertSingleAddress, checkHeaders, MAIL_TEMPLATES } from './mail-message.ts';
import type { MailTemplate, OutgoingMail, RenderedMail } from './mail-message.ts';

export interface RetryPolicy {
  baseSeconds: number;
  maxSeconds: number;
  maxAttempts: number;
}

export interface QueuedMail extends OutgoingMail {
  id: number;
  key: string;
  template: MailTemplate;
  attempts: number;
}

export interface EnqueueRequest {
  key: string;
  template: MailTemplate;
  to: string;
  customerId?: number;
  mail: RenderedMail;
  headers?: Record<string, string>;
}

export interface OutboxFigures {
  queued: number;
  sent: number;
  failed: number;
  /** Seconds the oldest queued mail has waited (0: none waiting). */
  oldestQueuedSeconds: number;
}

/** Seconds to wait after the `attempts`-th failed attempt. */
export function backoffSeconds(attempts: number, p: Pick<RetryPolicy, 'baseSeconds' | 'maxSeconds'>): number {
  const n = Math.max(1, attempts);
  return Math.min(p.maxSeconds, p.baseSeconds * 2 ** Math.min(n - 1, 30));
}

/** Templates whose body holds a one-time code or link: blanked once sent. */
export const ONE_TIME_SECRETS: readonly MailTemplate[] = ['email_verification', 'welcome'];

const KEY = /^[A-Za-z0-9_.:@-]{1,200}$/;
const LEASE_SECONDS = 120;

export class MailOutbox {
  constructor(
    private readonly pool: pg.Pool,
    private readonly retry: RetryPolicy,
  ) {}

  /** Queues a mail; the same key queues nothing more (the first mail stands). Returns whether it was new. */
  async enqueue(r: EnqueueRequest): Promise<{ id: number; queued: boolean }> {
    if (!KEY.test(r.key)) throw new Error(`mail idempotency key ${JSON.stringify(r.key)} is not 1-200 of [A-Za-z0-9_.:@-]`);
    if (!MAIL_TEMPLATES.includes(r.template)) throw new Error(`unknown mail template ${r.template}`);
    assertSingleAddress(r.to);
    checkHeaders(r.headers ?? {});
    const { rows } = await this.pool.query<{ id: string; inserted: boolean }>(
      `with ins as (
         insert into mail_outbox (idempotency_key, template, customer_id, recipient, subject, body_text, body_html, headers)
         values ($1, $2, $3, $4, $5, $6, $7, $8) on conflict (idempotency_key) do nothing returning id)
       select id, true as inserted from ins union all select id, false from mail_outbox where idempotency_key = $1 and not exists (select 1 from ins)`,
      [r.key, r.template, r.customerId ?? null, r.to, r.mail.subject, r.mail.text, r.mail.html, JSON.stringify(r.headers ?? {})],
    );
    const row = rows[0];
    if (!row) throw new Error('mail outbox: insert returned nothing');
    return { id: Number(row.id), queued: row.inserted };
  }

  /** Claims up to `limit` due mails for LEASE_SECONDS (a worker that dies leaves them to another). */
  async claim(limit: number): Promise<QueuedMail[]> {
    const { rows } = await this.pool.query<{
      id: string;
      key: string;
      template: MailTemplate;
      to: string;
      subject: string;
      text: string;
      html: string;
      headers: Record<string, string>;
      attempts: number;
    }>(
      `update mail_outbox m set locked_until = now() + make_interval(secs => $2), attempts = m.attempts + 1
        where m.id in (select id from mail_outbox where status = 'queued' and next_attempt_at <= now()
                         and (locked_until is null or locked_until < now())
                       order by next_attempt_at, id limit $1 for update skip locked)
        returning m.id, m.idempotency_key as key, m.template, m.recipient as "to", m.subject, m.body_text as text, m.body_html as html,
                  m.headers, m.attempts`,
      [limit, LEASE_SECONDS],
    );
    return rows.map((r) => ({ ...r, id: Number(r.id) })).sort((a, b) => a.id - b.id);
  }

  /** Sent: a mail that carried a one-time code or link keeps no body (the outbox is no second key store). */
  async sent(id: number, messageId: string): Promise<void> {
    await this.pool.query(
      `update mail_outbox set status = 'sent', sent_at = now(), message_id = $2, locked_until = null, last_error = null,
         body_text = case when template = any($3) then null else body_text end, body_html = case when template = any($3) then null else body_html end
        where id = $1 and status = 'queued'`,
      [id, messageId.slice(0, 300), ONE_TIME_SECRETS],
    );
  }

  /** Records a failed attempt: retried later with backoff, or failed for good. Returns which. */
  async failed(mail: Pick<QueuedMail, 'id' | 'attempts'>, error: string, permanent: boolean): Promise<'retry' | 'failed'> {
    const final = permanent || mail.attempts >= this.retry.maxAttempts;
    await this.pool.query(
      `update mail_outbox set status = case when $3 then 'failed' else status end, locked_until = null, last_error = $4,
         next_attempt_at = now() + make_interval(secs => $2) where id = $1 and status = 'queued'`,
      [mail.id, backoffSeconds(mail.attempts, this.retry), final, error.slice(0, 500)],
    );
    return final ? 'failed' : 'retry';
  }

  /** Gives claimed mails back untried (their attempt is not counted). */
  async release(ids: number[]): Promise<void> {
    if (ids.length === 0) return;
    await this.pool.query(`update mail_outbox set locked_until = null, attempts = greatest(attempts - 1, 0) where id = any($1) and status = 'queued'`, [ids]);
  }

  /** Puts failed mails back in the queue (an operator, after fixing the cause). */
  async requeueFailed(): Promise<number> {
    const r = await this.pool.query(
      `update mail_outbox set status = 'queued', attempts = 0, next_attempt_at = now(), last_error = null where status = 'failed' and recipient is not null`,
    );
    return r.rowCount ?? 0;
  }

  async figures(): Promise<OutboxFigures> {
    const { rows } = await this.pool.query<{ queued: string; sent: string; failed: string; oldest: number | null }>(
      `select count(*) filter (where status = 'queued') as queued, count(*) filter (where status = 'sent') as sent,
              count(*) filter (where status = 'failed') as failed,
              extract(epoch from now() - min(created_at) filter (where status = 'queued'))::float8 as oldest
         from mail_outbox`,
    );
    const r = rows[0]!;
    return { queued: Number(r.queued), sent: Number(r.sent), failed: Number(r.failed), oldestQueuedSeconds: Math.max(0, r.oldest ?? 0) };
  }

  /** The latest mails, newest first, without their bodies (console view). */
  async recent(
    limit: number,
  ): Promise<{ id: number; template: string; status: string; attempts: number; createdAt: Date; sentAt: Date | null; lastError: string | null }[]> {
    const { rows } = await this.pool.query<{
      id: string;
      template: string;
      status: string;
      attempts: number;
      createdAt: Date;
      sentAt: Date | null;
      lastError: string | null;
    }>(
      `select id, template, status, attempts, created_at as "createdAt", sent_at as "sentAt", last_error as "lastError"
         from mail_outbox order by id desc limit $1`,
      [limit],
    );
    return rows.map((r) => ({ ...r, id: Number(r.id) }));
  }
}

/**
 * Erasure (src/privacy/erasure.ts runs it in its transaction): the customer's mails, queued or
 * sent (by customer, or to their address), lose recipient, subject, bodies and headers; queued
 * ones are never sent.
 */
export async function eraseMailsOf(db: Pick<pg.PoolClient, 'query'>, customerId: number, email: string | null): Promise<number> {
  const r = await db.query(
    `update mail_outbox set recipient = null, subject = null, body_text = null, body_html = null, headers = '{}', last_error = null, message_id = null,
       status = case when status = 'queued' then 'erased' else status end, customer_id = null
      where customer_id = $1 or ($2::text is not null and lower(recipient) = lower($2))`,
    [customerId, email],
  );
  return r.rowCount ?? 0;
}
