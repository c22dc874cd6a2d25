import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LedgerWriter } from '../../src/ledger/ledger-writer.ts';
import { PostgresLedgerSink } from '../../src/ledger/postgres-ledger-sink.ts';
import { cdrFor } from '../support/fixtures.ts';
import { body, expectProblem, harness, JSON_TYPE } from './api-harness.ts';
import type { Harness } from './api-harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await harness('apimoney');
});
afterAll(async () => {
  await h?.close();
});

async function drain(): Promise<void> {
  const w = new LedgerWriter(h.s.newRedis(), new PostgresLedgerSink(h.s.pool), {
    streams: h.s.store.keys.allStreams(),
    deadLetterStream: `${h.s.namespace}:deadletter`,
    consumer: 'test',
    logger: h.s.logger,
  });
  await w.drain();
}

describe('balance, top-ups and adjustments', () => {
  it('reads the live balance with the durable figure and currency', async () => {
    const c = await h.customerWithAccount({ credit: 2_500_000 });
    const r = await h.call('GET', `/v1/accounts/${c.account.id}/balance`, { key: h.keys.read });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe(JSON_TYPE);
    expect(body(r)).toEqual({
      accountId: c.account.id,
      currency: 'GBP',
      balance: 2_500_000,
      reserved: 0,
      available: 2_500_000,
      callsInProgress: 0,
      spentToday: 0,
      creditFloor: 0,
      status: 'active',
      durableBalance: 0,
      unit: 'micro',
    });
    await drain();
    expect(body(await h.call('GET', `/v1/accounts/${c.account.id}/balance`)).durableBalance).toBe(2_500_000);
  });

  it('a top-up needs an Idempotency-Key, credits once, and a replay returns the first result', async () => {
    const c = await h.customerWithAccount();
    const url = `/v1/accounts/${c.account.id}/topups`;
    expectProblem(expect, await h.call('POST', url, { body: { amount: 1_000_000 } }), 400, 'IDEMPOTENCY_KEY_REQUIRED');
    expectProblem(
      expect,
      await h.call('POST', url, { body: { amount: 1_000_000 }, headers: { 'idempotency-key': 'has space' } }),
      400,
      'IDEMPOTENCY_KEY_REQUIRED',
    );
    const first = await h.call('POST', url, {
      body: { amount: 1_000_000, provider: 'stripe', providerReference: 'pi_123' },
      headers: { 'idempotency-key': 'order-42' },
    });
    expect(first.statusCode).toBe(201);
    expect(body(first)).toEqual({
      accountId: c.account.id,
      amount: 1_000_000,
      currency: 'GBP',
      balanceAfter: 1_000_000,
      idempotencyKey: 'order-42',
      replayed: false,
    });
    const again = await h.call('POST', url, {
      body: { amount: 1_000_000, provider: 'stripe', providerReference: 'pi_123' },
      headers: { 'idempotency-key': 'order-42' },
    });
    expect(again.statusCode).toBe(200);
    expect(body(again)).toEqual({ ...body(first), replayed: true });
    expectProblem(expect, await h.call('POST', url, { body: { amount: 2_000_000 }, headers: { 'idempotency-key': 'order-42' } }), 409, 'IDEMPOTENCY_CONFLICT');
    expect((await h.s.store.get(c.account.id))?.balance).toBe(1_000_000);
    // the same key on another account is another top-up (keys are scoped per account)
    const other = await h.customerWithAccount();
    expect(
      (await h.call('POST', `/v1/accounts/${other.account.id}/topups`, { body: { amount: 5 }, headers: { 'idempotency-key': 'order-42' } })).statusCode,
    ).toBe(201);
    await drain();
    const { rows } = await h.s.pool.query(
      'select account_id, amount, provider, provider_reference from topups where account_id = any($1) order by account_id',
      [[c.account.id, other.account.id]],
    );
    expect(rows).toEqual([
      { account_id: c.account.id, amount: 1_000_000, provider: 'stripe', provider_reference: 'pi_123' },
      { account_id: other.account.id, amount: 5, provider: 'operator', provider_reference: null },
    ]);
  });

  it('money must be a positive safe integer of micro-units: floats, strings, huge and negative amounts change nothing', async () => {
    const c = await h.customerWithAccount();
    for (const amount of [1.5, '100', 0, -5, 1e16, 2 ** 53, null]) {
      const r = await h.call('POST', `/v1/accounts/${c.account.id}/topups`, { body: { amount }, headers: { 'idempotency-key': `bad-${String(amount)}` } });
      expectProblem(expect, r, 400, 'VALIDATION_FAILED');
    }
    expect((await h.s.store.get(c.account.id))?.balance).toBe(0);
    expectProblem(
      expect,
      await h.call('POST', '/v1/accounts/999999/topups', { body: { amount: 1 }, headers: { 'idempotency-key': 'k' } }),
      404,
      'UNKNOWN_ACCOUNT',
    );
    await h.call('POST', `/v1/accounts/${c.account.id}/close`);
    expectProblem(
      expect,
      await h.call('POST', `/v1/accounts/${c.account.id}/topups`, { body: { amount: 1 }, headers: { 'idempotency-key': 'closed' } }),
      409,
      'ACCOUNT_CLOSED',
    );
  });

  it('adjustments carry a reason, are signed, once per id; the ledger pages newest first', async () => {
    const c = await h.customerWithAccount({ credit: 1_000_000 });
    const url = `/v1/accounts/${c.account.id}/adjustments`;
    expectProblem(expect, await h.call('POST', url, { body: { adjustmentId: 'a1', amount: 0, reason: 'x' } }), 400, 'VALIDATION_FAILED');
    expectProblem(expect, await h.call('POST', url, { body: { adjustmentId: 'a1', amount: 5, reason: '   ' } }), 400, 'VALIDATION_FAILED');
    const r = await h.call('POST', url, { body: { adjustmentId: 'a1', amount: -250_000, reason: 'goodwill reversal' }, key: h.keys.billing });
    expect(r.statusCode).toBe(201);
    expect(body(r)).toMatchObject({ balanceAfter: 750_000, replayed: false, adjustmentId: 'a1' });
    expect(body(await h.call('POST', url, { body: { adjustmentId: 'a1', amount: -250_000, reason: 'goodwill reversal' } }))).toMatchObject({
      balanceAfter: 750_000,
      replayed: true,
    });
    for (let i = 0; i < 3; i++) await h.call('POST', url, { body: { adjustmentId: `p${i}`, amount: 1 + i, reason: 'page' } });
    await drain();
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const p = body(await h.call('GET', `/v1/accounts/${c.account.id}/ledger?limit=2${cursor ? `&cursor=${cursor}` : ''}`, { key: h.keys.read }));
      seen.push(...(p.items as { eventId: string }[]).map((x) => x.eventId));
      cursor = p.nextCursor as string | null;
    } while (cursor);
    expect(seen).toHaveLength(5);
    expect(new Set(seen).size).toBe(5);
  });
});

describe('call records', () => {
  it('filters by account, time range and number, pages with cursors, and streams CSV', async () => {
    const c = await h.customerWithAccount({ credit: 50_000_000 });
    const base = Date.UTC(2026, 9, 1, 10, 0, 0);
    for (let i = 0; i < 7; i++) {
      const callId = `cdr-${c.account.id}-${i}`;
      await h.s.store.reserve(c.account.id, callId, 0, 10_000, base + 3_600_000);
      await h.s.store.settle(
        c.account.id,
        cdrFor(callId, c.account.id, 1_000 * (i + 1), {
          startTime: base + i * 60_000,
          dialledNumber: i === 3 ? '00441632960777' : '00441632960001',
          destination: i === 3 ? '441632960777' : '441632960001',
        }),
      );
    }
    await drain();
    const all = body(await h.call('GET', `/v1/cdrs?accountId=${c.account.id}&limit=3`, { key: h.keys.read }));
    expect((all.items as { callId: string }[]).map((x) => x.callId)).toEqual([6, 5, 4].map((i) => `cdr-${c.account.id}-${i}`));
    const page2 = body(await h.call('GET', `/v1/cdrs?accountId=${c.account.id}&limit=3&cursor=${all.nextCursor as string}`));
    expect((page2.items as { callId: string }[]).map((x) => x.callId)).toEqual([3, 2, 1].map((i) => `cdr-${c.account.id}-${i}`));
    const ranged = body(
      await h.call('GET', `/v1/cdrs?accountId=${c.account.id}&from=${new Date(base + 60_000).toISOString()}&to=${new Date(base + 180_000).toISOString()}`),
    );
    expect((ranged.items as unknown[]).length).toBe(2);
    const byNumber = body(await h.call('GET', '/v1/cdrs?number=%2B441632960777'));
    expect((byNumber.items as { callId: string; cost: number }[]).map((x) => [x.callId, x.cost])).toEqual([[`cdr-${c.account.id}-3`, 4_000]]);
    expectProblem(expect, await h.call('GET', '/v1/cdrs?from=yesterday'), 400, 'VALIDATION_FAILED');
    const csv = await h.call('GET', `/v1/cdrs/export?accountId=${c.account.id}`);
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
    const lines = csv.body.trim().split('\r\n');
    expect(lines[0]).toMatch(/^callId,accountId,kind,cli,/);
    expect(lines).toHaveLength(8);
    const { rows } = await h.s.pool.query("select count(*)::int as n from audit_log where action in ('cdr.list', 'cdr.export') and subject_account_id = $1", [
      c.account.id,
    ]);
    expect(rows[0].n).toBeGreaterThanOrEqual(4);
  });
});

describe('access-number sessions', () => {
  it('lists sessions newest first with cursors and filters, and totals access-leg time per access number and carrier', async () => {
    const base = Date.UTC(2026, 10, 20, 9, 0, 0);
    const session = (n: number, over: Record<string, unknown> = {}) => ({
      callId: `ivr-api-${n}@carrier`,
      accountId: null,
      accessNumber: '+441632000900',
      cli: `+44770090090${n}`,
      sourceIp: '192.0.2.10',
      carrier: 'carrier-z',
      startTime: base + n * 60_000,
      endTime: base + n * 60_000 + 20_000 + n,
      durationMs: 20_000 + n,
      outcome: 'pin_refused' as const,
      pinAttempts: 3,
      calls: 0,
      ...over,
    });
    await h.s.store.recordIvrSession(session(1));
    await h.s.store.recordIvrSession(session(2, { outcome: 'calls_placed', calls: 2, pinAttempts: 1 }));
    await h.s.store.recordIvrSession(session(3, { accessNumber: '+441632000901', outcome: 'caller_hung_up', pinAttempts: 0 }));
    expect(await h.s.store.recordIvrSession(session(1))).toEqual({ duplicate: true });
    await drain();
    const first = body(await h.call('GET', '/v1/ivr-sessions?accessNumber=%2B441632000900&limit=1', { key: h.keys.read }));
    expect((first.items as { callId: string }[]).map((x) => x.callId)).toEqual(['ivr-api-2@carrier']);
    expect(first.items).toEqual([
      expect.objectContaining({
        outcome: 'calls_placed',
        calls: 2,
        durationMs: 20_002,
        startTime: new Date(base + 120_000).toISOString(),
        sourceIp: '192.0.2.10',
      }),
    ]);
    const second = body(await h.call('GET', `/v1/ivr-sessions?accessNumber=%2B441632000900&limit=1&cursor=${first.nextCursor as string}`));
    expect((second.items as { callId: string }[]).map((x) => x.callId)).toEqual(['ivr-api-1@carrier']);
    const totals = body(await h.call('GET', `/v1/ivr-sessions/totals?from=${new Date(base).toISOString()}`));
    expect(totals.items).toEqual([
      { accessNumber: '+441632000900', carrier: 'carrier-z', sessions: 2, durationMs: 40_003, withoutCalls: 1 },
      { accessNumber: '+441632000901', carrier: 'carrier-z', sessions: 1, durationMs: 20_003, withoutCalls: 1 },
    ]);
    expectProblem(expect, await h.call('GET', '/v1/ivr-sessions?accessNumber=0800'), 400, 'VALIDATION_FAILED');
  });
});
