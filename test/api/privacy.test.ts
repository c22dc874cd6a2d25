import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LedgerWriter } from '../../src/ledger/ledger-writer.ts';
import { PostgresLedgerSink } from '../../src/ledger/postgres-ledger-sink.ts';
import { cdrPartitions } from '../../src/privacy/retention.ts';
import { BindingStore } from '../../src/sip/registrar/binding-store.ts';
import { cdrFor } from '../support/fixtures.ts';
import { body, expectProblem, harness } from './api-harness.ts';
import type { Harness } from './api-harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await harness('apipriv');
});
afterAll(async () => {
  await h?.close();
});

async function drain(): Promise<void> {
  await new LedgerWriter(h.s.newRedis(), new PostgresLedgerSink(h.s.pool), {
    streams: h.s.store.keys.allStreams(),
    deadLetterStream: `${h.s.namespace}:deadletter`,
    consumer: 'test',
    logger: h.s.logger,
  }).drain();
}

/** A customer with one of every kind of record. */
let seq = 0;
async function richCustomer(tag: string) {
  seq++;
  const email = `${tag}@example.invalid`;
  const c = await h.customerWithAccount({ email, credit: 9_000_000, username: `${tag}_user` });
  const a = c.account.id;
  await h.accounts.issuePin(a);
  await h.accounts.addCli(a, `+4477009${tag.length}7777`.slice(0, 13), true);
  await h.ctx.cliRequests.request(a, `+44770095555${seq}`);
  await h.accounts.setSipPassword(a, `${tag}dev`, 'test.local', 'device password 1');
  await h.s.pool.query('insert into dids (number, account_id) values ($1, $2)', [`+44163296055${seq}`, a]);
  await h.ctx.autoTopUp.set(a, { enabled: true, threshold: 1, amount: 1_000_000, paymentToken: `tok_test_${tag}` });
  await h.ctx.consents.set(c.customerId, 'customer', true, 'test', 'person');
  await h.call('POST', `/v1/accounts/${a}/topups`, {
    body: { amount: 1_000_000, provider: 'test', providerReference: `payref-${tag}` },
    headers: { 'idempotency-key': `${tag}-1` },
  });
  await h.ctx.speedDials.set({ id: a, country: 'GB' }, 4, `Dial ${tag}`, '02079460018');
  await h.s.pool.query('update accounts set callback_destination = $2 where id = $1', [a, `44207946077${seq}`]);
  await h.s.store.reserve(a, `call-${tag}`, 0, 10_000, Date.now() + 60_000);
  await h.s.store.settle(a, cdrFor(`call-${tag}`, a, 5_000, { startTime: Date.now() - 60_000, device: `${tag}dev`, cli: '+447700966666' }));
  await h.s.store.recordIvrSession({
    callId: `ivr-${tag}`,
    accountId: a,
    accessNumber: '+441632000100',
    cli: '+447700966666',
    sourceIp: '192.0.2.1',
    carrier: 'c1',
    startTime: Date.now() - 90_000,
    endTime: Date.now() - 60_000,
    durationMs: 30_000,
    outcome: 'calls_placed',
    pinAttempts: 1,
    calls: 1,
  });
  await drain();
  await h.call('GET', `/v1/customers/${c.customerId}`);
  return { ...c, email, n: seq };
}

describe('export (access and portability)', () => {
  it('contains every kind of record held about the customer, and nothing secret', async () => {
    const c = await richCustomer('exporta');
    const r = await h.call('GET', `/v1/customers/${c.customerId}/export`);
    expect(r.statusCode).toBe(200);
    const doc = body(r);
    expect(doc.format).toBe('softswitch-personal-data/1');
    expect(doc.customer).toMatchObject({ id: c.customerId, email: c.email });
    for (const k of [
      'accounts',
      'pins',
      'callerIds',
      'callerIdRequests',
      'devices',
      'personalNumbers',
      'speedDials',
      'autoTopUps',
      'topUps',
      'ledgerEntries',
      'callRecords',
      'accessNumberSessions',
      'consents',
      'consentEvents',
      'auditEntries',
    ]) {
      expect((doc[k] as unknown[]).length, `export section ${k} is empty`).toBeGreaterThan(0);
    }
    expect(r.body).not.toMatch(/pin_hmac|password_hash|ha1|tok_test_|scrypt\$/);
    expect((doc.accounts as Record<string, unknown>[])[0]).toMatchObject({ callbackDestination: `+44207946077${c.n}` });
    const self = await h.app.inject({ method: 'POST', url: '/v1/self/login', payload: { username: 'exporta_user', password: 'correct horse battery' } });
    const mine = body(await h.call('GET', '/v1/self/export', { key: body(self).token as string }));
    expect(mine.callRecords).toEqual(doc.callRecords);
    const { rows } = await h.s.pool.query("select count(*)::int as n from audit_log where action = 'customer.export' and subject_customer_id = $1", [
      c.customerId,
    ]);
    expect(rows[0].n).toBe(2);
  });
});

describe('export of live data', () => {
  it("includes the live SIP registrations of the customer's devices (contact, User-Agent, source, expiry), and no one else's", async () => {
    const c = await h.customerWithAccount({ username: 'regexport_user' });
    const other = await h.customerWithAccount();
    const store = new BindingStore(h.s.redis, { namespace: h.s.namespace, now: () => Date.now() });
    const expiresAt = Date.now() + 3_600_000;
    for (const [account, user, ip] of [
      [c.account.id, 'regexport1', '203.0.113.60'],
      [other.account.id, 'regexport2', '203.0.113.61'],
    ] as const) {
      await h.accounts.setSipPassword(account, user, 'test.local', 'device password 1');
      const aor = `${user}@test.local`;
      const binding = {
        aor,
        key: `sip:${user}@${ip}`,
        uri: `sip:${user}@${ip}:5062;transport=udp`,
        params: [],
        expiresAt,
        callId: `reg-${user}`,
        cseq: 1,
        source: { address: ip, port: 5062, transport: 'udp' },
        userAgent: 'Export Phone 2.1',
        registeredAt: Date.now(),
        accountId: account,
      };
      await store.register(aor, { callId: binding.callId, cseq: 1 }, [{ key: binding.key, expiresAt, binding }], {
        maxContacts: 5,
        whenFull: 'replace-oldest',
      });
    }
    const doc = body(await h.call('GET', `/v1/customers/${c.customerId}/export`));
    expect(doc.registrations).toEqual([
      {
        accountId: c.account.id,
        device: 'regexport1@test.local',
        contact: 'sip:regexport1@203.0.113.60:5062;transport=udp',
        userAgent: 'Export Phone 2.1',
        sourceAddress: '203.0.113.60:5062',
        transport: 'udp',
        registeredAt: expect.any(String),
        expiresAt: new Date(expiresAt).toISOString(),
      },
    ]);
    expect(JSON.stringify(doc)).not.toContain('203.0.113.61');
  });
});

describe('erasure', () => {
  it('leaves no personal data in any table, keeps call records unlinked, closes and revokes everything; idempotent', async () => {
    const c = await richCustomer('erasea');
    const keep = await richCustomer('keepb');
    await h.call('PATCH', `/v1/customers/${c.customerId}`, {
      body: {
        name: 'Erasea Person',
        addressLine1: 'Erasea Lane 1',
        addressLine2: 'Flat Erasea',
        city: 'Easeaton',
        postalCode: 'EE1 1EE',
        phoneNumbers: ['+447700988881'],
      },
    });
    const personal = [
      c.email,
      'Erasea Person',
      'Erasea Lane 1',
      'Flat Erasea',
      'Easeaton',
      'EE1 1EE',
      '+447700988881',
      'erasea_user',
      'eraseadev',
      'payref-erasea',
      `+44770095555${c.n}`,
      `+44163296055${c.n}`,
      'tok_test_erasea',
      'Dial erasea',
      `44207946077${c.n}`,
    ];
    const r = await h.call('POST', `/v1/customers/${c.customerId}/erasure`);
    expect(r.statusCode).toBe(200);
    expect(body(r)).toEqual({ customerId: c.customerId, alreadyErased: false, accountsClosed: 1, callRecordsUnlinked: 1, recordingsDeleted: 0 });
    // every text-like column of every table in the schema
    const { rows: cols } = await h.s.pool.query<{ table_name: string; column_name: string }>(
      `select c.table_name, c.column_name from information_schema.columns c join information_schema.tables t using (table_schema, table_name)
        where c.table_schema = $1 and t.table_type = 'BASE TABLE'`,
      [h.s.schema],
    );
    const tables = [...new Set(cols.map((x) => x.table_name))];
    for (const t of tables) {
      const { rows } = await h.s.pool.query(`select * from "${t}"`);
      const dump = JSON.stringify(rows);
      for (const p of personal) expect(dump.includes(p), `${t} still holds ${p}`).toBe(false);
    }
    // kept, under new random ids (test/api/erasure-links.test.ts checks that nothing joins them back)
    const { rows: cdrs } = await h.s.pool.query("select account_id, device, cli, cost from cdrs where call_id like 'erased-%'");
    expect(cdrs).toEqual([{ account_id: null, device: null, cli: null, cost: 5_000 }]);
    const { rows: sessions } = await h.s.pool.query("select account_id, cli, duration_ms::int as ms from ivr_sessions where call_id like 'erased-%'");
    expect(sessions).toEqual([{ account_id: null, cli: null, ms: 30_000 }]);
    expect((await h.s.store.get(c.account.id))?.status).toBe('closed');
    expect((await h.s.pool.query('select count(*)::int as n from pins where account_id = $1', [c.account.id])).rows[0].n).toBe(0);
    expectProblem(
      expect,
      await h.app.inject({ method: 'POST', url: '/v1/self/login', payload: { username: 'erasea_user', password: 'correct horse battery' } }),
      401,
      'LOGIN_FAILED',
    );
    expect(body(await h.call('POST', `/v1/customers/${c.customerId}/erasure`))).toMatchObject({
      alreadyErased: true,
      accountsClosed: 0,
      callRecordsUnlinked: 0,
    });
    expectProblem(expect, await h.call('PATCH', `/v1/customers/${c.customerId}`, { body: { name: 'Back' } }), 409, 'CUSTOMER_ERASED');
    // the other customer is untouched
    expect((await h.ctx.directory.get(keep.customerId)).email).toBe(keep.email);
    expect((await h.ctx.cliRequests.ofAccount(keep.account.id)).map((x) => x.cli)).toEqual([`+44770095555${keep.n}`]);
  });

  it('a customer can erase themselves with their password; the session ends', async () => {
    const c = await h.customerWithAccount({ username: 'selferase' });
    const token = body(await h.app.inject({ method: 'POST', url: '/v1/self/login', payload: { username: 'selferase', password: 'correct horse battery' } }))
      .token as string;
    expectProblem(expect, await h.call('POST', '/v1/self/erasure', { key: token, body: { password: 'wrong' } }), 403, 'WRONG_CREDENTIAL');
    expect((await h.ctx.directory.get(c.customerId)).erasedAt).toBeNull();
    expect(body(await h.call('POST', '/v1/self/erasure', { key: token, body: { password: 'correct horse battery' } }))).toMatchObject({
      customerId: c.customerId,
      alreadyErased: false,
    });
    expect((await h.call('GET', '/v1/self', { key: token })).statusCode).toBe(401);
  });
});

describe('restriction', () => {
  it('pauses marketing and, when chosen, suspends the accounts; lifting resumes exactly those', async () => {
    const c = await h.customerWithAccount({ username: 'restrictme' });
    await h.verifyEmail(c.customerId);
    await h.ctx.consents.set(c.customerId, 'customer', true, 'test', 'person');
    const r = await h.call('POST', `/v1/customers/${c.customerId}/restriction`, { body: { suspendAccounts: true } });
    expect(body(r)).toMatchObject({ customerId: c.customerId, restrictedAt: expect.any(String), suspendedAccountIds: [c.account.id] });
    expect((await h.s.store.get(c.account.id))?.status).toBe('suspended');
    expect((await h.ctx.consents.recipients('customer')).map((x) => x.customerId)).not.toContain(c.customerId);
    const token = body(await h.app.inject({ method: 'POST', url: '/v1/self/login', payload: { username: 'restrictme', password: 'correct horse battery' } }))
      .token as string;
    expectProblem(expect, await h.call('PUT', '/v1/self/consents/potential_customer', { key: token, body: { optedIn: true } }), 400, 'VALIDATION_FAILED');
    expect(body(await h.call('DELETE', '/v1/self/restriction', { key: token }))).toEqual({
      customerId: c.customerId,
      restrictedAt: null,
      suspendedAccountIds: [],
    });
    expect((await h.s.store.get(c.account.id))?.status).toBe('active');
    expect((await h.ctx.consents.recipients('customer')).map((x) => x.customerId)).toContain(c.customerId);
    expect(body(await h.call('POST', '/v1/self/restriction', { key: token, body: {} }))).toMatchObject({ suspendedAccountIds: [] });
    expect((await h.s.store.get(c.account.id))?.status).toBe('active');
  });

  it('a suspended account is never charged by auto top-up, however low its balance', async () => {
    const c = await h.customerWithAccount({ username: 'restrictpay', credit: 0 });
    await h.ctx.autoTopUp.set(c.account.id, { enabled: true, threshold: 5_000_000, amount: 1_000_000, paymentToken: 'tok_test_restrictpay' });
    await h.call('POST', `/v1/customers/${c.customerId}/restriction`, { body: { suspendAccounts: true } });
    expect((await h.s.store.get(c.account.id))?.status).toBe('suspended');
    expect(await h.ctx.autoTopUp.runOne(c.account.id)).toBe('skipped');
    const { rows } = await h.s.pool.query('select 1 from auto_topup_charges where account_id = $1', [c.account.id]);
    expect(rows).toEqual([]);
    expect((await h.s.store.get(c.account.id))?.balance).toBe(0);
    // lifted: the account is active again and the next run charges it
    await h.call('DELETE', `/v1/customers/${c.customerId}/restriction`);
    expect(await h.ctx.autoTopUp.runOne(c.account.id)).toBe('charged');
  });
});

describe('retention', () => {
  it('drops call records older than 12 months to the day (whole partitions, then rows), erases long-closed customers, drops old payment references; idempotent', async () => {
    const now = new Date(Date.UTC(2026, 10, 15, 12, 0, 0)); // in the past: the API refuses a future `now`
    for (const month of ['2025-09-10', '2025-10-31', '2025-11-01', '2025-11-20', '2026-11-01'])
      await h.s.pool.query('select ensure_cdr_partition($1)', [`${month}T12:00:00Z`]);
    await h.s.pool.query(`insert into cdrs (call_id, event_id, kind, start_time, end_time, duration_ms, billed_seconds, cost, disposition)
      values ('old', 'e-old', 'other', '2025-10-31T23:59:59Z', '2025-11-01T00:00:10Z', 0, 0, 0, 'failed'),
             ('month-old', 'e-month-old', 'other', '2025-11-15T11:59:59Z', '2025-11-15T12:00:10Z', 0, 0, 0, 'failed'),
             ('kept', 'e-kept', 'other', '2025-11-15T12:00:01Z', '2025-11-15T12:00:10Z', 0, 0, 0, 'failed')`);
    await h.s.pool.query(`insert into ivr_sessions (call_id, event_id, access_number, start_time, end_time, duration_ms, outcome, pin_attempts, calls)
      values ('ivr-old', 'ivr:old', '+441632000100', '2025-11-15T11:59:59Z', '2025-11-15T12:00:10Z', 11000, 'pin_refused', 3, 0),
             ('ivr-kept', 'ivr:kept', '+441632000100', '2025-11-15T12:00:01Z', '2025-11-15T12:00:10Z', 9000, 'caller_hung_up', 0, 0)`);
    const closed = await h.customerWithAccount({ username: 'longgone' });
    await h.call('POST', `/v1/customers/${closed.customerId}/close`);
    await h.s.pool.query("update customers set closed_at = '2020-06-01T00:00:00Z' where id = $1", [closed.customerId]);
    const recent = await h.customerWithAccount({ username: 'recentlygone' });
    await h.call('POST', `/v1/customers/${recent.customerId}/close`);
    await h.s.pool.query(
      "update topups set created_at = '2024-06-01T00:00:00Z' where provider_reference = 'payref-erasea' or provider_reference like 'payref-keepb'",
    );
    const run = await h.call('POST', '/v1/retention/run', { body: { now: now.toISOString() } });
    expect(run.statusCode).toBe(200);
    expect(body(run)).toEqual({
      droppedPartitions: ['cdrs_2025_09', 'cdrs_2025_10'],
      cdrRowsDeleted: 1,
      erasedCustomers: [closed.customerId],
      lateCallRecordsUnlinked: 0,
      paymentReferences: { topUps: 1, tokens: 0 },
      ivrSessionsDeleted: 1,
      ledgerCallsUnnamed: 0,
      ledgerEntriesFolded: 0,
      auditEntriesDeleted: 0,
      consentEventsDeleted: 0,
      mailsDeleted: 0,
      recordingsDeleted: 0,
    });
    expect((await cdrPartitions(h.s.pool)).map((p) => p.name)).toEqual(expect.arrayContaining(['cdrs_2025_11', 'cdrs_2026_11']));
    expect((await cdrPartitions(h.s.pool)).map((p) => p.name)).not.toContain('cdrs_2025_10');
    // 12 months to the day: whole months go with their partition, the rest of the oldest month row by row
    expect((await h.s.pool.query("select call_id from cdrs where call_id in ('old', 'month-old', 'kept')")).rows).toEqual([{ call_id: 'kept' }]);
    expect((await h.s.pool.query("select call_id from ivr_sessions where call_id in ('ivr-old', 'ivr-kept')")).rows).toEqual([{ call_id: 'ivr-kept' }]);
    expect((await h.ctx.directory.get(closed.customerId)).erasedAt).not.toBeNull();
    expect((await h.ctx.directory.get(recent.customerId)).erasedAt).toBeNull();
    expect(body(await h.call('POST', '/v1/retention/run', { body: { now: now.toISOString() } }))).toEqual({
      droppedPartitions: [],
      cdrRowsDeleted: 0,
      erasedCustomers: [],
      lateCallRecordsUnlinked: 0,
      paymentReferences: { topUps: 0, tokens: 0 },
      ivrSessionsDeleted: 0,
      ledgerCallsUnnamed: 0,
      ledgerEntriesFolded: 0,
      auditEntriesDeleted: 0,
      consentEventsDeleted: 0,
      mailsDeleted: 0,
      recordingsDeleted: 0,
    });
    expectProblem(expect, await h.call('POST', '/v1/retention/run', { key: h.keys.billing, body: {} }), 403, 'FORBIDDEN');
    expectProblem(expect, await h.call('POST', '/v1/retention/run', { body: { jobs: ['everything'] } }), 400, 'VALIDATION_FAILED');
  });
});
