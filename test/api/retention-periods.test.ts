/**
 * A documented retention for every kind of record (docs/privacy.md › Retention): ledger entries
 * (a call's entry stops naming its call with the call record; older than LEDGER_RETENTION_YEARS
 * folded into one opening entry, the balance still adding up), the audit log, the consent history
 * and the access-number sessions. The records are dated back, then the jobs run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { body, harness } from './api-harness.ts';
import type { Harness } from './api-harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await harness('retentionperiods');
});
afterAll(async () => {
  await h?.close();
});

const NOW = new Date(Date.UTC(2026, 10, 15, 12, 0, 0));
const ago = (years: number, months = 0, days = 0) => {
  const d = new Date(NOW.getTime());
  d.setUTCFullYear(d.getUTCFullYear() - years, d.getUTCMonth() - months, d.getUTCDate() - days);
  return d.toISOString();
};
const run = async (jobs?: string[]) => body(await h.call('POST', '/v1/retention/run', { body: { now: NOW.toISOString(), ...(jobs ? { jobs } : {}) } }));

async function ledger(accountId: number, rows: [string, string, number, string, string | null][]) {
  let balance = 0;
  for (const [eventId, kind, amount, at, reference] of rows) {
    balance += amount;
    await h.s.pool.query(
      'insert into ledger_entries (event_id, account_id, kind, amount, balance_after, reference, occurred_at) values ($1, $2, $3, $4, $5, $6, $7)',
      [eventId, accountId, kind, amount, balance, reference, at],
    );
  }
  return balance;
}
const entries = async (accountId: number) =>
  (
    await h.s.pool.query<{ event_id: string; kind: string; amount: string; balance_after: string; reference: string | null; occurred_at: Date }>(
      'select event_id, kind, amount, balance_after, reference, occurred_at from ledger_entries where account_id = $1 order by occurred_at, event_id',
      [accountId],
    )
  ).rows.map((r) => ({ ...r, amount: Number(r.amount), balance_after: Number(r.balance_after) }));

describe('retention of ledger entries', () => {
  it("a call's entry stops naming its call when the call record goes; entries older than 10 years fold into one opening entry; the balance adds up; idempotent", async () => {
    const c = await h.customerWithAccount();
    const id = c.account.id;
    const balance = await ledger(id, [
      [`topup:${id}:a`, 'topup', 50_000_000, ago(11), 'ref-a'],
      [`call:${id}:old-call@203.0.113.7`, 'call', -2_000_000, ago(10, 1), 'old-call@203.0.113.7'],
      [`topup:${id}:b`, 'topup', 10_000_000, ago(2), 'ref-b'],
      [`call:${id}:mid-call@203.0.113.7`, 'call', -1_000_000, ago(1, 0, 1), 'mid-call@203.0.113.7'],
      [`call:${id}:new-call@203.0.113.7`, 'call', -500_000, ago(0, 11), 'new-call@203.0.113.7'],
    ]);
    const r = await run(['cdrs', 'ledger']);
    expect(r).toMatchObject({ ledgerCallsUnnamed: 2, ledgerEntriesFolded: 2 });
    const after = await entries(id);
    expect(after.map((e) => e.kind)).toEqual(['opening', 'topup', 'call', 'call']);
    expect(after[0]).toMatchObject({ amount: 48_000_000, balance_after: 48_000_000, occurred_at: new Date(ago(10, 1)) });
    expect(after.reduce((s, e) => s + e.amount, 0)).toBe(balance);
    expect(after.at(-1)!.balance_after).toBe(balance);
    // older than the call records: no longer names its call (nor the caller's address in the id)
    expect(after[2]).toMatchObject({ reference: null, event_id: expect.stringMatching(/^call-[0-9a-f-]{36}$/) });
    expect(after[3]).toMatchObject({ reference: 'new-call@203.0.113.7', event_id: `call:${id}:new-call@203.0.113.7` });
    expect(JSON.stringify(after)).not.toContain('old-call');
    // a second run changes nothing
    expect(await run(['cdrs', 'ledger'])).toMatchObject({ ledgerCallsUnnamed: 0, ledgerEntriesFolded: 0 });
    expect(await entries(id)).toEqual(after);
  });
});

describe('retention of the audit log and the consent history', () => {
  it('deletes audit entries older than 6 years; consent events older than 6 years except the latest per list of a customer not erased', async () => {
    const kept = await h.customerWithAccount();
    const erased = await h.customerWithAccount();
    await h.s.pool.query(
      `insert into audit_log (at, actor, action, subject_customer_id) values ($1, 'apikey:x', 'customer.read', $3), ($2, 'apikey:x', 'customer.read', $3)`,
      [ago(6, 0, 1), ago(5, 11), kept.customerId],
    );
    const events: [number, string, string, string][] = [
      [kept.customerId, 'customer', 'opt_in', ago(8)],
      [kept.customerId, 'customer', 'opt_out', ago(7)], // the latest of the list: kept, however old
      [kept.customerId, 'potential_customer', 'opt_in', ago(9)],
      [kept.customerId, 'potential_customer', 'opt_out', ago(6, 0, 1)],
      [kept.customerId, 'potential_customer', 'opt_in', ago(1)],
      [erased.customerId, 'customer', 'opt_in', ago(7)],
      [erased.customerId, 'customer', 'opt_out', ago(1)],
    ];
    for (const [cid, list, action, at] of events)
      await h.s.pool.query('insert into consent_events (customer_id, list, action, actor, at) values ($1, $2, $3, $4, $5)', [cid, list, action, 'test', at]);
    expect((await h.call('POST', `/v1/customers/${erased.customerId}/erasure`)).statusCode).toBe(200);
    const r = await run(['audit', 'consents']);
    expect(r).toMatchObject({ auditEntriesDeleted: 1, consentEventsDeleted: 4 });
    const { rows: audit } = await h.s.pool.query('select at from audit_log where subject_customer_id = $1 and at < $2', [kept.customerId, ago(5)]);
    expect(audit.map((x) => (x.at as Date).toISOString())).toEqual([ago(5, 11)]);
    const { rows: left } = await h.s.pool.query(
      'select customer_id, list, action, at from consent_events where customer_id = any($1) order by customer_id, list, at',
      [[kept.customerId, erased.customerId]],
    );
    expect(left.map((x) => [x.customer_id, x.list, x.action, (x.at as Date).toISOString()])).toEqual([
      [kept.customerId, 'customer', 'opt_out', ago(7)],
      [kept.customerId, 'potential_customer', 'opt_in', ago(1)],
      [erased.customerId, 'customer', 'opt_out', ago(1)],
    ]);
    // the deletions are themselves recorded; a second run finds nothing
    const { rows: trail } = await h.s.pool.query("select action from audit_log where actor = 'retention' order by id");
    expect(trail.map((x) => x.action)).toEqual(expect.arrayContaining(['retention.audit_deleted', 'retention.consent_events_deleted']));
    expect(await run(['audit', 'consents'])).toMatchObject({ auditEntriesDeleted: 0, consentEventsDeleted: 0 });
  });

  it('deletes mails sent or given up on more than MAIL_RETENTION_MONTHS ago, with their address and bodies; never a mail still waiting', async () => {
    const mail = async (key: string, status: string, at: string) =>
      h.s.pool.query(
        `insert into mail_outbox (idempotency_key, template, recipient, subject, body_text, status, created_at, sent_at)
         values ($1, 'topup_receipt', 'old.mail@example.test', 'Receipt', 'body', $2, $3, case when $2 = 'sent' then $3::timestamptz end)`,
        [key, status, at],
      );
    await mail('ret-sent-old', 'sent', ago(2, 0, 1));
    await mail('ret-failed-old', 'failed', ago(2, 1));
    await mail('ret-sent-kept', 'sent', ago(1, 11));
    await mail('ret-queued-old', 'queued', ago(3));
    expect(await run(['mail'])).toMatchObject({ mailsDeleted: 2 });
    const { rows } = await h.s.pool.query("select idempotency_key from mail_outbox where idempotency_key like 'ret-%' order by idempotency_key");
    expect(rows.map((r) => r.idempotency_key)).toEqual(['ret-queued-old', 'ret-sent-kept']);
    expect(await run(['mail'])).toMatchObject({ mailsDeleted: 0 });
  });

  it('a scheduled run does every job', async () => {
    expect(Object.keys(await run())).toEqual([
      'droppedPartitions',
      'cdrRowsDeleted',
      'erasedCustomers',
      'lateCallRecordsUnlinked',
      'paymentReferences',
      'ivrSessionsDeleted',
      'ledgerCallsUnnamed',
      'ledgerEntriesFolded',
      'auditEntriesDeleted',
      'consentEventsDeleted',
      'mailsDeleted',
      'recordingsDeleted',
    ]);
  });
});
