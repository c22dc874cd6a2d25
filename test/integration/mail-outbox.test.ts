import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backoffSeconds, eraseMailsOf, MailOutbox } from '../../src/mail/outbox.ts';
import { OutboxWorker } from '../../src/mail/outbox-worker.ts';
import { Mailer } from '../../src/mail/mailer.ts';
import { renderMail } from '../../src/mail/templates.ts';
import { setupServices } from '../support/services.ts';
import type { TestServices } from '../support/services.ts';
import { SmtpSink } from '../support/smtp-sink.ts';

let s: TestServices;
let sink: SmtpSink;
const retry = { baseSeconds: 1, maxSeconds: 2, maxAttempts: 50 };

beforeAll(async () => {
  s = await setupServices('mailoutbox');
  sink = await new SmtpSink().start();
});
afterAll(async () => {
  await sink.stop();
  await s.teardown();
});

function transport() {
  return sink.transport('Prepaid calling <noreply@softswitch.test>', 5000);
}

async function row(id: number) {
  const { rows } = await s.pool.query<{ status: string; attempts: number; recipient: string | null; body_text: string | null; due_in: number }>(
    'select status, attempts, recipient, body_text, extract(epoch from next_attempt_at - now())::float8 as due_in from mail_outbox where id = $1',
    [id],
  );
  return rows[0]!;
}

const receipt = (n: number) =>
  renderMail('topup_receipt', {
    accountNumber: '700100',
    amount: { micros: n * 1_000_000, currency: 'GBP' },
    reference: `ref-${n}`,
    at: new Date('2026-12-07T10:00:00Z'),
  });

describe('mail outbox against a real SMTP server on loopback', () => {
  it('backoff doubles from the base and stops at the cap', () => {
    const p = { baseSeconds: 30, maxSeconds: 3600 };
    expect([1, 2, 3, 4, 7, 8, 100].map((n) => backoffSeconds(n, p))).toEqual([30, 60, 120, 240, 1920, 3600, 3600]);
  });

  it('the same idempotency key queues one mail, and one arrives', async () => {
    const outbox = new MailOutbox(s.pool, retry);
    const a = await outbox.enqueue({ key: 'topup:t-1', template: 'topup_receipt', to: 'one@example.test', mail: receipt(1) });
    const b = await outbox.enqueue({ key: 'topup:t-1', template: 'topup_receipt', to: 'one@example.test', mail: receipt(99) });
    expect(a.queued).toBe(true);
    expect(b).toEqual({ id: a.id, queued: false });
    const before = sink.received.length;
    const worker = new OutboxWorker(outbox, transport(), { pollMs: 50, batchSize: 10 });
    expect(await worker.runOnce()).toEqual({ sent: 1, retried: 0, failed: 0 });
    expect(await worker.runOnce()).toEqual({ sent: 0, retried: 0, failed: 0 });
    await worker.stop();
    expect(sink.received.length).toBe(before + 1);
    const got = sink.received.at(-1)!;
    expect(got.envelopeTo).toEqual(['one@example.test']);
    expect(got.parsed.subject).toBe('Receipt: 1.00 GBP added to account 700100');
    expect(got.parsed.text).toContain('Reference: ref-1');
    expect(got.parsed.html).toContain('<th align="left">Amount</th><td>1.00 GBP</td>');
    expect((await row(a.id)).status).toBe('sent');
  });

  it('a server refusing mail (421) delays it, backing off; once it accepts, every mail arrives exactly once', async () => {
    const outbox = new MailOutbox(s.pool, retry);
    sink.mode = 'refuse';
    const ids: number[] = [];
    for (let i = 0; i < 3; i++)
      ids.push((await outbox.enqueue({ key: `refuse-${i}`, template: 'topup_receipt', to: `r${i}@example.test`, mail: receipt(10 + i) })).id);
    const worker = new OutboxWorker(outbox, transport(), { pollMs: 50, batchSize: 10 });
    const first = await worker.runOnce();
    // the first refusal tells the worker the server is not taking mail: the rest wait, uncounted
    expect(first).toEqual({ sent: 0, retried: 1, failed: 0 });
    const r0 = await row(ids[0]!);
    expect(r0).toMatchObject({ status: 'queued', attempts: 1 });
    expect(r0.due_in).toBeGreaterThan(0.5); // backing off: not due again at once
    expect((await row(ids[1]!)).attempts).toBe(0);
    const before = sink.received.length;
    worker.start();
    // still refusing for a while: nothing is lost, nothing is failed
    while (sink.attempts < 4) await new Promise((r) => setTimeout(r, 50));
    expect((await Promise.all(ids.map(row))).map((r) => r.status)).toEqual(['queued', 'queued', 'queued']);
    sink.mode = 'accept';
    await sink.waitFor(before + 3);
    await worker.stop();
    const got = sink.received
      .slice(before)
      .map((m) => m.envelopeTo[0])
      .sort();
    expect(got).toEqual(['r0@example.test', 'r1@example.test', 'r2@example.test']);
    expect((await Promise.all(ids.map(row))).map((r) => r.status)).toEqual(['sent', 'sent', 'sent']);
  });

  it('a server that is away (connection refused) and comes back on its port gets the mail', async () => {
    const outbox = new MailOutbox(s.pool, retry);
    const port = sink.port;
    await sink.stop();
    const { id } = await outbox.enqueue({ key: 'down-1', template: 'topup_receipt', to: 'down@example.test', mail: receipt(5) });
    const worker = new OutboxWorker(outbox, transport(), { pollMs: 50, batchSize: 10 });
    expect(await worker.runOnce()).toEqual({ sent: 0, retried: 1, failed: 0 });
    expect(await row(id)).toMatchObject({ status: 'queued', attempts: 1 });
    const before = sink.received.length;
    await sink.start(port);
    worker.start();
    await sink.waitFor(before + 1);
    await worker.stop();
    expect(sink.received.at(-1)!.envelopeTo).toEqual(['down@example.test']);
    expect((await row(id)).status).toBe('sent');
  });

  it('a recipient the server refuses for good (550) fails at once; the next mail still goes', async () => {
    const outbox = new MailOutbox(s.pool, retry);
    sink.rejectRecipients.add('nobody@example.test');
    const bad = await outbox.enqueue({ key: 'bad-1', template: 'topup_receipt', to: 'nobody@example.test', mail: receipt(6) });
    const good = await outbox.enqueue({ key: 'good-1', template: 'topup_receipt', to: 'somebody@example.test', mail: receipt(7) });
    const worker = new OutboxWorker(outbox, transport(), { pollMs: 50, batchSize: 10 });
    expect(await worker.runOnce()).toEqual({ sent: 1, retried: 0, failed: 1 });
    await worker.stop();
    expect((await row(bad.id)).status).toBe('failed');
    expect((await row(good.id)).status).toBe('sent');
    expect(await outbox.figures()).toMatchObject({ failed: 1 });
  });

  it('two workers on one outbox deliver each mail once', async () => {
    const outbox = new MailOutbox(s.pool, retry);
    for (let i = 0; i < 12; i++) await outbox.enqueue({ key: `pair-${i}`, template: 'topup_receipt', to: `p${i}@example.test`, mail: receipt(20 + i) });
    const before = sink.received.length;
    const w1 = new OutboxWorker(outbox, transport(), { pollMs: 50, batchSize: 3 });
    const w2 = new OutboxWorker(new MailOutbox(s.pool, retry), transport(), { pollMs: 50, batchSize: 3 });
    w1.start();
    w2.start();
    await sink.waitFor(before + 12);
    await Promise.all([w1.stop(), w2.stop()]);
    const to = sink.received.slice(before).map((m) => m.envelopeTo[0]);
    expect(new Set(to).size).toBe(12);
    expect(to.length).toBe(12);
  });

  it('a name carrying a header (CR LF Bcc) stays text: one recipient, no Bcc, escaped HTML', async () => {
    const outbox = new MailOutbox(s.pool, retry);
    const mailer = new Mailer(outbox, { linkBaseUrl: 'https://selfcare.example.test' });
    const before = sink.received.length;
    await mailer.welcome(
      { to: 'victim@example.test' },
      {
        name: 'Eve\r\nBcc: thief@example.test\r\n<script>alert(1)</script>',
        accountNumber: '700200',
        accessNumbers: ['+441130000000'],
        setPasswordLink: 'https://selfcare.example.test/my/set-password?token=abc',
        linkExpiresAt: new Date('2026-12-08T10:00:00Z'),
      },
    );
    await expect(outbox.enqueue({ key: 'inject-2', template: 'welcome', to: 'a@example.test\r\nBcc: b@example.test', mail: receipt(1) })).rejects.toThrow(
      /one plain e-mail address/,
    );
    await expect(outbox.enqueue({ key: 'inject-3', template: 'welcome', to: 'a@example.test, b@example.test', mail: receipt(1) })).rejects.toThrow();
    const worker = new OutboxWorker(outbox, transport(), { pollMs: 50, batchSize: 10 });
    await worker.runOnce();
    await worker.stop();
    await sink.waitFor(before + 1);
    const m = sink.received.at(-1)!;
    expect(m.envelopeTo).toEqual(['victim@example.test']);
    expect(m.parsed.headers.has('bcc')).toBe(false);
    expect(m.raw.split(/\r?\n\r?\n/)[0]).not.toMatch(/^Bcc:/im);
    expect(m.parsed.text).toContain('Hello Eve Bcc: thief@example.test <script>alert(1)</script>,');
    expect(m.parsed.subject).toBe('Welcome, Eve Bcc: thief@example.test <script>alert(1)</script>: your calling account 700200');
    expect(m.parsed.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(m.parsed.html).not.toContain('<script>');
    expect(m.parsed.text).toContain('https://selfcare.example.test/my/set-password?token=abc');
  });

  it('a mail carrying a one-time link keeps no body once sent; erasure blanks address and bodies of queued and sent mails', async () => {
    const outbox = new MailOutbox(s.pool, retry);
    const mailer = new Mailer(outbox, { linkBaseUrl: 'https://selfcare.example.test' });
    const { rows } = await s.pool.query<{ id: string }>("insert into customers (name, email) values ('Erin', 'erin@example.test') returning id");
    const customerId = Number(rows[0]!.id);
    await mailer.sendVerification({ to: 'erin@example.test', token: 'ev_secret-token-value', expiresAt: new Date(Date.now() + 3600_000), customerId });
    const worker = new OutboxWorker(outbox, transport(), { pollMs: 50, batchSize: 10 });
    await worker.runOnce();
    const sent = await s.pool.query<{ body_text: string | null; status: string }>(
      "select body_text, status from mail_outbox where template = 'email_verification'",
    );
    expect(sent.rows).toEqual([{ body_text: null, status: 'sent' }]);
    const arrived = sink.received.at(-1)!;
    expect(arrived.parsed.text).toContain('ev_secret-token-value');
    expect(arrived.parsed.text).toContain('https://selfcare.example.test/my/privacy');
    expect(arrived.parsed.text).toContain('ev_secret-token-value');
    expect(arrived.parsed.text).not.toContain('token=');

    await mailer.topUpReceipt({ to: 'erin@example.test', customerId }, 'erin-1', receiptData());
    await mailer.credentialChanged({ to: 'ERIN@example.test' }, 'erin-pin-1', { accountNumber: '700300', what: 'PIN', at: new Date() });
    expect(await eraseMailsOf(s.pool, customerId, 'erin@example.test')).toBe(3);
    const left = await s.pool.query(
      "select recipient, subject, body_text, body_html, headers, status from mail_outbox where idempotency_key in ('topup:erin-1', 'cred:erin-pin-1') or template = 'email_verification' order by id",
    );
    expect(left.rows).toEqual([
      { recipient: null, subject: null, body_text: null, body_html: null, headers: {}, status: 'sent' },
      { recipient: null, subject: null, body_text: null, body_html: null, headers: {}, status: 'erased' },
      { recipient: null, subject: null, body_text: null, body_html: null, headers: {}, status: 'erased' },
    ]);
    // an erased mail is never sent
    const before = sink.received.length;
    await worker.runOnce();
    await worker.stop();
    expect(sink.received.length).toBe(before);
  });
});

function receiptData() {
  return { accountNumber: '700300', amount: { micros: 5_000_000, currency: 'GBP' }, reference: 'r', at: new Date() };
}
