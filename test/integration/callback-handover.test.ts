/**
 * The callback hand-over from the API to the SIP app processes, against real Redis and Postgres:
 * a request queued before any SIP app ran is read; two processes reading the same stream place
 * each request once; a request delivered twice is placed once; the entries of a process that died
 * are claimed by another, placed if it had not taken them and marked failed (never placed again)
 * if it had.
 */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallbackConsumer, CallbackQueue } from '../../src/accounts/callback-queue.ts';
import { CallbackRequests } from '../../src/accounts/callbacks.ts';
import type { CallbackRequest } from '../../src/accounts/callbacks.ts';
import { readDialled } from '../../src/sip/call/dialled-number.ts';
import { CallbackIntake } from '../../src/sip/call/callback-intake.ts';
import { fundedAccount } from '../support/fixtures.ts';
import { REDIS_KINDS, setupServices } from '../support/services.ts';
import type { TestServices } from '../support/services.ts';

let s: TestServices;
let requests: CallbackRequests;
let accountId: number;
const log = pino({ level: 'silent' });

let n = 0;
const newRequest = () => requests.request({ id: accountId, country: 'GB', status: 'active' }, `0770090${String(1000 + n++)}`, '+12125550100', 'self-care');

function intake(name: string, placed: string[], opts: { claimIdleMs?: number; place?: (r: CallbackRequest) => Promise<void> } = {}) {
  const consumer = new CallbackConsumer(s.newRedis(), s.namespace, name, { claimIdleMs: opts.claimIdleMs ?? 60_000 });
  return {
    consumer,
    intake: new CallbackIntake({
      consumer,
      requests,
      place:
        opts.place ??
        (async (r) => {
          placed.push(r.id);
        }),
      log,
      blockMs: 0,
      maxAgeMs: 120_000,
    }),
  };
}

const statusOf = async (id: string) => (await requests.get(id))!.status;

describe.each(REDIS_KINDS)('on %s Redis', (redis) => {
  beforeAll(async () => {
    s = await setupServices('cbhandover', { redis });
    requests = new CallbackRequests(
      s.pool,
      s.redis,
      new CallbackQueue(s.redis, s.namespace),
      { read: readDialled, isBlocked: async () => false },
      { enabled: true, key: 'test-key', namespace: s.namespace, maxPerHour: 1000, maxPerNumberPerHour: 1000 },
    );
    accountId = (await fundedAccount(s, 10_000_000)).id;
  });
  afterAll(async () => {
    await s?.teardown();
  });

  describe('callback hand-over', () => {
    it('reads requests queued before any SIP app process ran, places each once, acknowledges them', async () => {
      const queued = [await newRequest(), await newRequest()];
      const placed: string[] = [];
      const { intake: a, consumer } = intake('app-a', placed);
      expect(await a.once()).toBe(2);
      // placed side by side: in any order
      expect([...placed].sort()).toEqual(queued.map((r) => r.id).sort());
      expect(await statusOf(queued[0]!.id)).toBe('placing');
      expect(await consumer.pending()).toBe(0);
      expect(await a.once()).toBe(0);
    });

    it('two processes reading at once place every request exactly once between them', async () => {
      const queued = await Promise.all(Array.from({ length: 20 }, () => newRequest()));
      const placed: string[] = [];
      const a = intake('app-a', placed).intake;
      const b = intake('app-b', placed).intake;
      let total = 0;
      for (let i = 0; i < 5; i++) total += (await Promise.all([a.once(), b.once()])).reduce((x, y) => x + y, 0);
      expect(total).toBe(20);
      expect([...placed].sort()).toEqual(queued.map((r) => r.id).sort());
    });

    it('a request delivered twice (queued again) is placed once', async () => {
      const r = await newRequest();
      await new CallbackQueue(s.redis, s.namespace).add(r.id);
      const placed: string[] = [];
      const { intake: a, consumer } = intake('app-a', placed);
      await a.once();
      expect(placed).toEqual([r.id]);
      expect(await consumer.pending()).toBe(0);
    });

    it("a dead process's entries are claimed: one it had not taken is placed, one it had taken is marked failed and not placed again", async () => {
      const notTaken = await newRequest();
      const taken = await newRequest();
      // the process that dies: reads both entries (pending, unacknowledged), takes one, then stops
      const dead = new CallbackConsumer(s.newRedis(), s.namespace, 'app-dead', { claimIdleMs: 60_000 });
      const read = await dead.readNew(0);
      expect(read.map((e) => e.id)).toEqual([notTaken.id, taken.id]);
      await requests.take(taken.id, 'app-dead');
      const placed: string[] = [];
      const { intake: live, consumer } = intake('app-live', placed, { claimIdleMs: 200 });
      expect(await live.once()).toBe(0); // not idle long enough yet
      expect(await consumer.pending()).toBe(2);
      await new Promise((r) => setTimeout(r, 300));
      expect(await live.once()).toBe(1);
      expect(placed).toEqual([notTaken.id]);
      expect(await requests.get(taken.id)).toMatchObject({ status: 'failed', reason: 'the call server placing it stopped' });
      expect(await consumer.pending()).toBe(0);
    });

    it('a request whose placing throws is marked failed and acknowledged, not retried', async () => {
      const r = await newRequest();
      const { intake: a, consumer } = intake('app-a', [], {
        place: async () => {
          throw new Error('no route');
        },
      });
      await a.once();
      expect(await requests.get(r.id)).toMatchObject({ status: 'failed', reason: 'the call could not be placed' });
      expect(await consumer.pending()).toBe(0);
    });

    it('a request older than the maximum age when it is taken is marked failed (expired), not placed', async () => {
      const old = await newRequest();
      const fresh = await newRequest();
      await s.pool.query("update callback_requests set created_at = now() - interval '3 minutes' where id = $1", [old.id]);
      const placed: string[] = [];
      const { intake: a, consumer } = intake('app-a', placed);
      expect(await a.once()).toBe(1);
      expect(placed).toEqual([fresh.id]);
      expect(await requests.get(old.id)).toMatchObject({ status: 'failed', reason: 'expired before it could be placed' });
      expect(await consumer.pending()).toBe(0);
    });

    it('places requests side by side: a customer who has not answered yet holds up nobody else; each entry acknowledged when its own placing ends', async () => {
      const slow = await newRequest();
      const quick = await newRequest();
      const started: string[] = [];
      let answer!: () => void;
      const answered = new Promise<void>((r) => (answer = r));
      const consumer = new CallbackConsumer(s.newRedis(), s.namespace, 'app-side', { claimIdleMs: 60_000 });
      const loop = new CallbackIntake({
        consumer,
        requests,
        place: async (r) => {
          started.push(r.id);
          if (r.id === slow.id) await answered; // leg A rings on
        },
        log,
        blockMs: 200,
        maxAgeMs: 120_000,
        concurrency: 10,
      });
      loop.start();
      await expect.poll(() => [...started].sort(), { timeout: 5000 }).toEqual([slow.id, quick.id].sort());
      // the quick one is done and acknowledged while the slow one is still being placed
      await expect.poll(() => consumer.pending(), { timeout: 5000 }).toBe(1);
      answer();
      await expect.poll(() => consumer.pending(), { timeout: 5000 }).toBe(0);
      await loop.stop();
    });

    it('at most `concurrency` requests are placed at once; the rest wait in the stream, unread', async () => {
      const queued = [await newRequest(), await newRequest(), await newRequest()];
      const started: string[] = [];
      const release: (() => void)[] = [];
      const consumer = new CallbackConsumer(s.newRedis(), s.namespace, 'app-two', { claimIdleMs: 60_000 });
      const loop = new CallbackIntake({
        consumer,
        requests,
        place: (r) =>
          new Promise<void>((done) => {
            started.push(r.id);
            release.push(done);
          }),
        log,
        blockMs: 100,
        maxAgeMs: 120_000,
        concurrency: 2,
      });
      loop.start();
      await expect.poll(() => started.length, { timeout: 5000 }).toBe(2);
      // the third is not even read while two are being placed: only two entries are delivered
      expect(await consumer.pending()).toBe(2);
      release.shift()!();
      await expect.poll(() => started.length, { timeout: 5000 }).toBe(3);
      for (const r of release.splice(0)) r();
      await expect.poll(() => consumer.pending(), { timeout: 5000 }).toBe(0);
      expect([...started].sort()).toEqual(queued.map((r) => r.id).sort());
      await loop.stop();
    });

    it("a request placed for longer than the claim time is not taken for a dead process's: its entry is kept fresh while it is placed", async () => {
      const r = await newRequest();
      let answer!: () => void;
      const answered = new Promise<void>((res) => (answer = res));
      const started: string[] = [];
      const owner = new CallbackConsumer(s.newRedis(), s.namespace, 'app-owner', { claimIdleMs: 300 });
      const loop = new CallbackIntake({
        consumer: owner,
        requests,
        place: async (x) => {
          started.push(x.id);
          await answered;
        },
        log,
        blockMs: 50,
        maxAgeMs: 120_000,
      });
      loop.start();
      await expect.poll(() => started, { timeout: 5000 }).toEqual([r.id]);
      // another process looks for stale entries well after the claim time has passed
      await new Promise((res) => setTimeout(res, 900));
      const other = intake('app-other', [], { claimIdleMs: 300 });
      expect(await other.intake.once()).toBe(0);
      expect(await requests.get(r.id)).toMatchObject({ status: 'placing' });
      answer();
      await expect.poll(() => owner.pending(), { timeout: 5000 }).toBe(0);
      await loop.stop();
    });

    it('the loop blocks on the stream and places a request as it arrives', async () => {
      const placed: string[] = [];
      const consumer = new CallbackConsumer(s.newRedis(), s.namespace, 'app-loop', { claimIdleMs: 60_000 });
      const loop = new CallbackIntake({ consumer, requests, place: async (r) => void placed.push(r.id), log, blockMs: 200, maxAgeMs: 120_000 });
      loop.start();
      const r = await newRequest();
      await expect.poll(() => placed, { timeout: 3000 }).toEqual([r.id]);
      await loop.stop();
    });
  });
});
