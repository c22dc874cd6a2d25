import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '../../src/db/pool.ts';
import { LedgerWriter } from '../../src/ledger/ledger-writer.ts';
import { PostgresLedgerSink } from '../../src/ledger/postgres-ledger-sink.ts';
import { decodeEvent } from '../../src/ledger/stream-event.ts';
import type { LedgerEvent } from '../../src/ledger/stream-event.ts';
import { cdrFor, fundedAccount } from '../support/fixtures.ts';
import { setupServices, TEST_DATABASE_URL } from '../support/services.ts';
import type { TestServices } from '../support/services.ts';

let s: TestServices;
beforeAll(async () => {
  s = await setupServices('ledgercopy');
});
afterAll(async () => {
  await s.teardown();
});

function writerFor(sink = new PostgresLedgerSink(s.pool)) {
  return new LedgerWriter(s.newRedis(), sink, {
    streams: s.store.keys.allStreams(),
    deadLetterStream: `${s.namespace}:deadletter`,
    consumer: 'copy',
    blockMs: 50,
    claimIdleMs: 200,
    maxBackoffMs: 200,
    logger: s.logger,
  });
}

/** The events now in the streams, decoded as the writer decodes them. */
async function streamEvents(): Promise<LedgerEvent[]> {
  const out: LedgerEvent[] = [];
  for (const stream of s.store.keys.allStreams()) {
    for (const [id, fields] of await s.redis.xrange(stream, '-', '+')) out.push(decodeEvent(stream, id, fields));
  }
  return out;
}

async function counts(accountId: number) {
  const { rows } = await s.pool.query<{ cdrs: string; ledger: string; balance: number }>(
    `select (select count(*) from cdrs where account_id = $1)::text as cdrs,
            (select count(*) from ledger_entries where account_id = $1)::text as ledger,
            (select balance from accounts where id = $1) as balance`,
    [accountId],
  );
  return { cdrs: Number(rows[0]!.cdrs), ledger: Number(rows[0]!.ledger), balance: rows[0]!.balance };
}

describe('ledger sink bulk path (COPY into a staging table)', () => {
  it('writes a batch with one COPY in one transaction', async () => {
    const pool = createPool(TEST_DATABASE_URL, s.schema, 2);
    const statements: string[] = [];
    pool.on('connect', (client) => {
      const c = client as unknown as { query: (...x: unknown[]) => unknown };
      const original = c.query.bind(client);
      c.query = (...x: unknown[]): unknown => {
        const q = x[0] as string | { text?: string };
        statements.push((typeof q === 'string' ? q : (q.text ?? '')).trim().split(/\s+/)[0]!.toLowerCase());
        return original(...x);
      };
    });
    try {
      const a = await fundedAccount(s, 10_000_000);
      for (let i = 0; i < 20; i++) {
        await s.store.reserve(a.id, `copy-${i}`, 1, 100_000, Date.now() + 60_000);
        await s.store.settle(a.id, cdrFor(`copy-${i}`, a.id, 10_000));
      }
      const events = (await streamEvents()).filter((e) => e.accountId === a.id && e.type === 'call');
      expect(events).toHaveLength(20);
      statements.length = 0;
      await new PostgresLedgerSink(pool).write(events);
      expect(statements.filter((x) => x === 'copy')).toHaveLength(1);
      expect(statements.filter((x) => x === 'begin')).toHaveLength(1);
      expect(statements.filter((x) => x === 'commit')).toHaveLength(1);
      expect(statements.filter((x) => x === 'insert' || x === 'with').length).toBeLessThanOrEqual(2);
      expect(await counts(a.id)).toMatchObject({ cdrs: 20, ledger: 20 });
      await writerFor().drain();
    } finally {
      await pool.end();
    }
  });

  it('replaying a batch, or an event twice in one batch, writes nothing twice', async () => {
    await writerFor().drain();
    const a = await fundedAccount(s, 1_000_000);
    for (let i = 0; i < 3; i++) {
      await s.store.reserve(a.id, `rep-${i}`, 1, 100_000, Date.now() + 60_000);
      await s.store.settle(a.id, cdrFor(`rep-${i}`, a.id, 100_000));
    }
    const events = (await streamEvents()).filter((e) => e.accountId === a.id);
    expect(events).toHaveLength(4);
    const sink = new PostgresLedgerSink(s.pool);
    await sink.write([...events, ...events]);
    await sink.write(events);
    expect(await counts(a.id)).toEqual({ cdrs: 3, ledger: 4, balance: 700_000 });
    await writerFor().drain();
    expect(await counts(a.id)).toEqual({ cdrs: 3, ledger: 4, balance: 700_000 });
  });

  it('carries text with tabs, newlines, backslashes and a literal \\N unchanged, and nulls as nulls', async () => {
    await writerFor().drain();
    const a = await fundedAccount(s, 1_000_000);
    const odd = 'a\tb\nc\rd\\e \\N ünï €';
    await s.store.reserve(a.id, 'odd-1', 1, 100_000, Date.now() + 60_000);
    await s.store.settle(a.id, cdrFor('odd-1', a.id, 1_000, { sipReason: odd, carrier: '\\N', cli: null, sourceIp: null, device: '\\\\' }));
    await writerFor().drain();
    const { rows } = await s.pool.query('select sip_reason, carrier, cli, source_ip, device, cost from cdrs where call_id = $1', ['odd-1']);
    expect(rows).toEqual([{ sip_reason: odd, carrier: '\\N', cli: null, source_ip: null, device: '\\\\', cost: 1_000 }]);
  });

  it('a CDR Postgres refuses in a bulk batch goes to the dead-letter stream; the rest of the batch is written', async () => {
    await writerFor().drain();
    const a = await fundedAccount(s, 1_000_000);
    for (let i = 0; i < 4; i++) {
      await s.store.reserve(a.id, `bad-${i}`, 1, 100_000, Date.now() + 60_000);
      await s.store.settle(a.id, cdrFor(`bad-${i}`, a.id, 1_000, i === 2 ? { sourceIp: 'not-an-address' } : {}));
    }
    await writerFor().drain();
    const dead = await s.redis.xrange(`${s.namespace}:deadletter`, '-', '+');
    expect(dead.filter(([, f]) => f.includes(`call:${a.id}:bad-2`))).toHaveLength(1);
    expect(await counts(a.id)).toEqual({ cdrs: 3, ledger: 4, balance: 997_000 });
  });
});
