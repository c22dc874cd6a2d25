/**
 * The audit trail answers "who looked at customer X last month": bulk reads (the unfiltered CDR
 * export) record the customers they touched, the audit route filters by time and pages past
 * 1,000 entries, reading the trail is itself recorded, and the CLI names its operator.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliActor } from '../../src/privacy/audit-log.ts';
import { cdrFor } from '../support/fixtures.ts';
import { LedgerWriter } from '../../src/ledger/ledger-writer.ts';
import { PostgresLedgerSink } from '../../src/ledger/postgres-ledger-sink.ts';
import { body, expectProblem, harness } from './api-harness.ts';
import type { Harness } from './api-harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await harness('audittrail');
});
afterAll(async () => {
  await h?.close();
});

type Entry = { at: string; actor: string; action: string; accountId: number | null };

async function trail(customerId: number, query = ''): Promise<{ items: Entry[]; nextCursor: string | null }> {
  const r = await h.call('GET', `/v1/customers/${customerId}/audit${query}`);
  expect(r.statusCode).toBe(200);
  return body(r) as { items: Entry[]; nextCursor: string | null };
}

describe('who looked at customer X', () => {
  it('an unfiltered CDR export records every customer whose calls it gave out (the reproduction: it recorded no subject)', async () => {
    const c = await h.customerWithAccount({ credit: 1_000_000 });
    await h.s.store.reserve(c.account.id, 'audit-call-1', 0, 1_000, Date.now() + 60_000);
    await h.s.store.settle(c.account.id, cdrFor('audit-call-1', c.account.id, 500, { startTime: Date.now() - 60_000 }));
    await new LedgerWriter(h.s.newRedis(), new PostgresLedgerSink(h.s.pool), {
      streams: h.s.store.keys.allStreams(),
      deadLetterStream: `${h.s.namespace}:deadletter`,
      consumer: 'test',
      logger: h.s.logger,
    }).drain();
    const csv = await h.call('GET', '/v1/cdrs/export', { key: h.keys.read });
    expect(csv.statusCode).toBe(200);
    expect(csv.body).toContain('audit-call-1');
    const items = (await trail(c.customerId)).items;
    expect(items.filter((e) => e.action === 'cdr.export' && e.accountId === c.account.id && e.actor.startsWith('apikey:'))).toHaveLength(1);
  });

  it('the trail filters by time, pages past 1,000 entries, and reading it is recorded', async () => {
    const c = await h.customerWithAccount();
    // 1,100 reads last month, 5 the month before
    await h.s.pool.query(
      `insert into audit_log (at, actor, action, subject_customer_id) select now() - interval '20 days' + g * interval '1 second', 'apikey:aaaaaaaaaaaa', 'customer.read', $1
         from generate_series(1, 1100) g`,
      [c.customerId],
    );
    await h.s.pool.query(
      `insert into audit_log (at, actor, action, subject_customer_id) select now() - interval '50 days', 'apikey:bbbbbbbbbbbb', 'customer.read', $1 from generate_series(1, 5)`,
      [c.customerId],
    );
    const from = new Date(Date.now() - 30 * 86_400_000).toISOString();
    const to = new Date(Date.now() - 10 * 86_400_000).toISOString();
    const seen: Entry[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const q = `?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}&limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page = await trail(c.customerId, q);
      seen.push(...page.items);
      cursor = page.nextCursor;
      pages++;
    } while (cursor !== null && pages < 10);
    expect(seen).toHaveLength(1100);
    expect(new Set(seen.map((e) => e.actor))).toEqual(new Set(['apikey:aaaaaaaaaaaa']));
    // each read of the trail is itself in the trail
    const now = await trail(c.customerId, `?from=${encodeURIComponent(new Date(Date.now() - 60_000).toISOString())}`);
    expect(now.items.filter((e) => e.action === 'audit.read').length).toBeGreaterThanOrEqual(pages);
    expectProblem(expect, await h.call('GET', `/v1/customers/${c.customerId}/audit?limit=5000`), 400, 'VALIDATION_FAILED');
  });

  it("the CLI records its operator: SOFTSWITCH_OPERATOR, or the login of who ran it (through sudo: the invoking user), never just 'cli'", () => {
    expect(cliActor({ operator: 'ops-anna', sudoUser: '', login: 'root' })).toBe('cli:ops-anna');
    expect(cliActor({ operator: '', sudoUser: 'bob', login: 'root' })).toBe('cli:bob');
    expect(cliActor({ operator: '', sudoUser: '', login: 'carol' })).toBe('cli:carol');
    expect(cliActor({ operator: 'bad name; drop', sudoUser: '', login: 'dave' })).toBe('cli:dave');
  });
});
