/**
 * After erasure nothing leads from what is kept back to the person: the call records and
 * access-number sessions kept for their legal period lose the caller's number, address and device
 * and get new random ids, and the ledger's call entries no longer name the call, so no join
 * (ledger reference = call id, event ids that embed the account and the call) ties a kept call
 * record to the erased customer's account.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LedgerWriter } from '../../src/ledger/ledger-writer.ts';
import { BindingStore } from '../../src/sip/registrar/binding-store.ts';
import { PostgresLedgerSink } from '../../src/ledger/postgres-ledger-sink.ts';
import { cdrFor } from '../support/fixtures.ts';
import { body, harness } from './api-harness.ts';
import type { Harness } from './api-harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await harness('erasurelinks');
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

/** A customer with two calls and an access-number session, each with its own caller ID and address. */
async function customerWithCalls(tag: string, cli: string, ip: string) {
  const c = await h.customerWithAccount({ credit: 9_000_000 });
  const a = c.account.id;
  for (const n of [1, 2]) {
    const callId = `${tag}-call-${n}@${ip}`;
    await h.s.store.reserve(a, callId, 0, 10_000, Date.now() + 60_000);
    await h.s.store.settle(a, cdrFor(callId, a, 4_000 + n, { startTime: Date.now() - n * 60_000, cli, sourceIp: ip, device: `${tag}phone` }));
  }
  await h.s.store.recordIvrSession({
    callId: `${tag}-ivr@${ip}`,
    accountId: a,
    accessNumber: '+441632000100',
    cli,
    sourceIp: ip,
    carrier: 'c1',
    startTime: Date.now() - 90_000,
    endTime: Date.now() - 60_000,
    durationMs: 30_000,
    outcome: 'calls_placed',
    pinAttempts: 1,
    calls: 1,
  });
  await drain();
  return { ...c, callIds: [`${tag}-call-1@${ip}`, `${tag}-call-2@${ip}`, `${tag}-ivr@${ip}`] };
}

describe('erasure leaves no path back', () => {
  it('kept call records hold no caller ID, address, device or call id of the erased customer, and nothing joins them to the account', async () => {
    const gone = await customerWithCalls('gone', '+447700911111', '198.51.100.7');
    const kept = await customerWithCalls('kept', '+447700922222', '198.51.100.8');
    const r = await h.call('POST', `/v1/customers/${gone.customerId}/erasure`);
    expect(body(r)).toMatchObject({ alreadyErased: false, callRecordsUnlinked: 2 });

    const identifiers = ['+447700911111', '198.51.100.7', 'gonephone', ...gone.callIds];
    const { rows: tables } = await h.s.pool.query<{ table_name: string }>(
      "select table_name from information_schema.tables where table_schema = $1 and table_type = 'BASE TABLE'",
      [h.s.schema],
    );
    for (const { table_name: t } of tables) {
      const dump = JSON.stringify((await h.s.pool.query(`select * from "${t}"`)).rows);
      for (const id of identifiers) expect(dump.includes(id), `${t} still holds ${id}`).toBe(false);
    }
    // the calls are still there for their legal period: times, destination, cost
    const { rows: cdrs } = await h.s.pool.query<{ call_id: string; event_id: string; cost: string }>(
      "select call_id, event_id, cost from cdrs where account_id is null and device is null and cli is null and source_ip is null and destination = '441632960001' order by cost",
    );
    expect(cdrs.map((x) => Number(x.cost))).toEqual([4_001, 4_002]);
    // no ledger entry of any account names a kept call record by call id or event id
    const { rows: joins } = await h.s.pool.query(
      `select l.account_id from ledger_entries l join cdrs c on l.reference = c.call_id or l.event_id = c.event_id
        where c.call_id = any($1::text[]) or c.event_id = any($2::text[])`,
      [cdrs.map((x) => x.call_id), cdrs.map((x) => x.event_id)],
    );
    expect(joins).toEqual([]);
    // the erased account's ledger still adds up to its balance (the money is kept, unlinked from calls)
    const { rows: sums } = await h.s.pool.query<{ n: number; sum: string }>(
      "select count(*)::int as n, sum(amount) as sum from ledger_entries where account_id = $1 and kind = 'call'",
      [gone.account.id],
    );
    expect(sums[0]).toEqual({ n: 2, sum: String(-(4_001 + 4_002)) });

    // the other customer's records are untouched and still join
    const { rows: keptJoin } = await h.s.pool.query(
      'select c.cli, host(c.source_ip) as ip from cdrs c join ledger_entries l on l.reference = c.call_id where l.account_id = $1 order by c.cost',
      [kept.account.id],
    );
    expect(keptJoin).toEqual([
      { cli: '+447700922222', ip: '198.51.100.8' },
      { cli: '+447700922222', ip: '198.51.100.8' },
    ]);
  });

  it("on-net calls: the other party's call records keep no SIP username or account number of the erased subscriber", async () => {
    const gone = await h.customerWithAccount({ credit: 0 });
    const other = await h.customerWithAccount({ credit: 9_000_000 });
    const user = `gonedesk${gone.account.id}`;
    await h.accounts.setSipPassword(gone.account.id, user, 'test.local', 'device password 1');
    const a = other.account.id;
    const calls = [
      { callId: `onnet-1-${a}`, dialledNumber: user, destination: user, carrier: `on-net:${user}`, cli: '+447700933333' },
      { callId: `onnet-2-${a}`, dialledNumber: gone.account.number, destination: gone.account.number, carrier: `on-net:${user}`, cli: '+447700933333' },
      // the other subscriber called by the erased one: shown the caller's username
      { callId: `onnet-3-${a}`, kind: 'did' as const, dialledNumber: '+441632000404', destination: '441632000404', carrier: null, cli: user },
      // a carrier call to a number that happens to equal the erased account number: untouched
      { callId: `onnet-4-${a}`, dialledNumber: gone.account.number, destination: gone.account.number, carrier: 'c1', cli: '+447700933333' },
    ];
    for (const [i, c] of calls.entries()) {
      await h.s.store.reserve(a, c.callId, 0, 10_000, Date.now() + 60_000);
      await h.s.store.settle(a, cdrFor(c.callId, a, 5_000 + i, { startTime: Date.now() - (i + 1) * 60_000, ...c }));
    }
    await drain();
    expect((await h.call('POST', `/v1/customers/${gone.customerId}/erasure`)).statusCode).toBe(200);
    const { rows } = await h.s.pool.query('select dialled_number, destination, carrier, cli, cost::int as cost from cdrs where account_id = $1 order by cost', [
      a,
    ]);
    expect(rows).toEqual([
      { dialled_number: null, destination: null, carrier: 'on-net', cli: '+447700933333', cost: 5_000 },
      { dialled_number: null, destination: null, carrier: 'on-net', cli: '+447700933333', cost: 5_001 },
      { dialled_number: '+441632000404', destination: '441632000404', carrier: null, cli: null, cost: 5_002 },
      { dialled_number: gone.account.number, destination: gone.account.number, carrier: 'c1', cli: '+447700933333', cost: 5_003 },
    ]);
  });

  it("callbacks: the leg that rang the erased customer's own phone keeps no number; the leg to the number they called is kept like any call", async () => {
    const gone = await h.customerWithAccount({ credit: 9_000_000 });
    const a = gone.account.id;
    const legs = [
      { callId: `callback-00000000-0000-4000-8000-${String(a).padStart(12, '0')}-a`, dialledNumber: '442071234567', destination: '442071234567' },
      { callId: `callback-00000000-0000-4000-8000-${String(a).padStart(12, '0')}-b`, dialledNumber: '441611234567', destination: '441611234567' },
    ];
    const costs = [7_100 + a * 10, 7_101 + a * 10];
    for (const [i, c] of legs.entries()) {
      await h.s.store.reserve(a, c.callId, 0, 10_000, Date.now() + 60_000);
      await h.s.store.settle(a, cdrFor(c.callId, a, costs[i]!, { startTime: Date.now() - (i + 1) * 60_000, kind: 'callback', cli: null, device: null, ...c }));
    }
    await drain();
    expect((await h.call('POST', `/v1/customers/${gone.customerId}/erasure`)).statusCode).toBe(200);
    const { rows } = await h.s.pool.query('select dialled_number, destination, cost::int as cost from cdrs where kind = $1 and cost = any($2) order by cost', [
      'callback',
      costs,
    ]);
    expect(rows).toEqual([
      { dialled_number: null, destination: null, cost: costs[0] },
      { dialled_number: '441611234567', destination: '441611234567', cost: costs[1] },
    ]);
  });

  it("an erased customer's data cannot be exported again", async () => {
    const c = await customerWithCalls('exp', '+447700933333', '198.51.100.9');
    expect((await h.call('POST', `/v1/customers/${c.customerId}/erasure`)).statusCode).toBe(200);
    const r = await h.call('GET', `/v1/customers/${c.customerId}/export`);
    expect(r.statusCode).toBe(409);
    expect(body(r).code).toBe('CUSTOMER_ERASED');
  });
});

describe('customers erased before this rule', () => {
  it('unlink_erased_calls() (run by migration 0015) scrubs the call records an older erasure left joinable, and only those', async () => {
    const old = await customerWithCalls('old', '+447700944444', '198.51.100.10');
    const other = await customerWithCalls('other', '+447700955555', '198.51.100.11');
    // what erasure did before: customer erased, call records unlinked by account only
    await h.s.pool.query("update customers set name = 'erased', email = null, erased_at = now() where id = $1", [old.customerId]);
    await h.s.pool.query('update cdrs set account_id = null, device = null where account_id = $1', [old.account.id]);
    const { rows } = await h.s.pool.query<{ n: number }>('select unlink_erased_calls() as n');
    expect(rows[0]!.n).toBe(2);
    const dump =
      JSON.stringify((await h.s.pool.query('select * from cdrs')).rows) + JSON.stringify((await h.s.pool.query('select * from ledger_entries')).rows);
    for (const id of ['+447700944444', '198.51.100.10', 'oldphone', ...old.callIds.slice(0, 2)]) expect(dump.includes(id), id).toBe(false);
    for (const id of ['+447700955555', '198.51.100.11', ...other.callIds.slice(0, 2)]) expect(dump.includes(id), id).toBe(true);
    expect((await h.s.pool.query<{ n: number }>('select unlink_erased_calls() as n')).rows[0]!.n).toBe(0);
  });
});

describe('live data in Redis', () => {
  it("erasure drops the settled calls' hashes and access-number markers (their keys name the call ids); an open call keeps its hash", async () => {
    const gone = await customerWithCalls('redisgone', '+447700966666', '198.51.100.12');
    const kept = await customerWithCalls('rediskept', '+447700977777', '198.51.100.13');
    const openCall = 'redisgone-open@198.51.100.12';
    await h.s.store.reserve(gone.account.id, openCall, 0, 10_000, Date.now() + 60_000);
    const keyNames = async () => (await h.s.redis.keys(`${h.s.namespace}:*`)).join('\n');
    for (const id of gone.callIds) expect(await keyNames()).toContain(id); // the reproduction: kept 7 days after settling
    expect((await h.call('POST', `/v1/customers/${gone.customerId}/erasure`)).statusCode).toBe(200);
    const after = await keyNames();
    for (const id of gone.callIds) expect(after, id).not.toContain(id);
    expect(after).toContain(openCall); // the settle still needs it, and blanks its facts
    for (const id of kept.callIds) expect(after, id).toContain(id);
  });

  it("erasure drops the customer's SIP registrations (contact address, User-Agent) at once, and no one else's", async () => {
    const gone = await h.customerWithAccount();
    const kept = await h.customerWithAccount();
    const devices = [
      { account: gone.account.id, user: 'regerase1', ip: '203.0.113.50' },
      { account: kept.account.id, user: 'regkeep1', ip: '203.0.113.51' },
    ];
    const store = new BindingStore(h.s.redis, { namespace: h.s.namespace, now: () => Date.now() });
    for (const d of devices) {
      await h.accounts.setSipPassword(d.account, d.user, 'test.local', 'device password 1');
      const aor = `${d.user}@test.local`;
      const binding = {
        aor,
        key: `sip:${d.user}@${d.ip}`,
        uri: `sip:${d.user}@${d.ip}:5060`,
        params: [],
        expiresAt: Date.now() + 3_600_000,
        callId: `reg-${d.user}`,
        cseq: 1,
        source: { address: d.ip, port: 5060, transport: 'udp' },
        userAgent: 'Test Phone 1.0',
        registeredAt: Date.now(),
        accountId: d.account,
      };
      await store.register(aor, { callId: binding.callId, cseq: 1 }, [{ key: binding.key, expiresAt: binding.expiresAt, binding }], {
        maxContacts: 5,
        whenFull: 'replace-oldest',
      });
    }
    expect(await store.bindingsOf('regerase1@test.local')).toHaveLength(1);
    expect((await h.call('POST', `/v1/customers/${gone.customerId}/erasure`)).statusCode).toBe(200);
    expect(await store.bindingsOf('regerase1@test.local')).toEqual([]);
    const keys = await h.s.redis.keys(`${h.s.namespace}:*`);
    const values = await Promise.all(keys.map(async (k) => ((await h.s.redis.type(k)) === 'hash' ? JSON.stringify(await h.s.redis.hgetall(k)) : '')));
    expect(values.join('\n')).not.toContain('203.0.113.50');
    expect(await store.bindingsOf('regkeep1@test.local')).toHaveLength(1);
  });
});
