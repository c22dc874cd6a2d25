// Short fault suite (CI): two SIP application processes on one edge, sharing Redis and Postgres.
//   1. an account's concurrent-call limit holds across both processes;
//   2. Postgres goes away and one process is SIGKILLed while calls are up: the survivor ends the dead
//      process's calls a few keep-alives later (BYE on both legs, settled up to the last keep-alive;
//      its sweeper is the backstop a slice after that), its ledger
//      writer writes every CDR once Postgres is back (reclaiming what the dead writer held);
//   3. new calls keep flowing through the survivor;
//   afterwards: one CDR per call, top-ups − Σ cost = balance in Redis and in Postgres, nothing reserved.
// The long form (hours, steady load, repeated faults, RSS sampled) is scripts/soak/soak.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RATE_PER_SECOND, SoakHarness } from './soak-harness.ts';
import type { Sipp } from './soak-harness.ts';

const SLICE_S = 6;
const GRACE_S = 15; // deadline = covered second + 15 s (on this per-second rate: last extension + 2 s lead + one slice + 15 s)
const POSTGRES_DOWN_MS = Number(process.env.SOAK_POSTGRES_DOWN_MS ?? 12_000);

let h: SoakHarness;
let carrier: Sipp;

beforeAll(async () => {
  h = await SoakHarness.start('soakshort');
  await Promise.all([h.startApp('app-1'), h.startApp('app-2')]);
  carrier = h.carrier(1000, 170);
}, 90_000);

afterAll(async () => {
  carrier?.kill();
  await h?.stop();
}, 60_000);

describe('two SIP application processes under faults', () => {
  const placed = new Map<number, number>();
  let killedCalls: string[] = [];

  it('holds an account limit across both processes', async () => {
    const d = await h.device(600 * RATE_PER_SECOND, 2);
    const r = await h.calls(d, { calls: 4, rate: 20, holdMs: 4000, timeoutSec: 30 }).done;
    expect(r.code, r.errors).not.toBe(-1);
    await h.until(async () => (await h.live(d.accountId)).length === 0, 20_000, 'the limited calls to end');
    placed.set(d.accountId, 4);
    await h.until(async () => (await h.money(d.accountId)).answeredCdrs === 2, 20_000, 'two answered calls written');
    expect((await h.money(d.accountId)).answeredCdrs).toBe(2);
  }, 60_000);

  it("settles a killed process's calls through the survivor while Postgres is down, and new calls keep flowing", async () => {
    const k = await h.device(3600 * RATE_PER_SECOND, 10);
    placed.set(k.accountId, 4);
    // four calls; an extra challenged INVITE after each one moves the SIP server's round-robin on,
    // so the calls usually spread over both processes (a digest-authenticated call is two INVITEs)
    const earlier = new Set([...h.answeredBy().values()].flat());
    const long: Sipp[] = [];
    for (let i = 0; i < 4; i++) {
      const count = [...h.answeredBy().values()].flat().length;
      long.push(h.calls(k, { calls: 1, holdMs: 16_000 - i * 400, timeoutSec: 60 }));
      await h.until(async () => [...h.answeredBy().values()].flat().length > count, 15_000, `call ${i + 1} answered`);
      const shift = await h.shiftRoundRobin(k);
      expect(shift.code, shift.errors).toBe(0);
    }
    const byApp = new Map([...h.answeredBy()].map(([name, ids]) => [name, ids.filter((id) => !earlier.has(id))]));
    // the victim: the process holding the most of these calls (at least one)
    const [victimName, victimCalls] = [...byApp].sort((a, b) => b[1].length - a[1].length)[0]!;
    expect(victimCalls.length).toBeGreaterThan(0);
    const victim = h.apps.find((a) => a.name === victimName)!;
    killedCalls = victimCalls;
    const survivorCalls = [...byApp].filter(([n]) => n !== victimName).flatMap(([, ids]) => ids);
    // let each call extend its reservation at least once (slice 6 s, extended 2 s before the end)
    await new Promise((r) => setTimeout(r, 5000));
    await h.pgProxy.down();
    const killedAt = Date.now();
    await victim.kill('SIGKILL');
    expect((await h.live(k.accountId)).map((c) => c.callId).sort()).toEqual([...victimCalls, ...survivorCalls].sort());

    await new Promise((r) => setTimeout(r, POSTGRES_DOWN_MS));
    await h.pgProxy.up();

    // new calls, all through the survivor
    const n = await h.device(600 * RATE_PER_SECOND, 10);
    const fresh = await h.calls(n, { calls: 3, rate: 5, holdMs: 1000, timeoutSec: 30 }).done;
    placed.set(n.accountId, 3);
    expect(fresh.code, `${fresh.errors}\n${fresh.stdout.slice(-2000)}`).toBe(0);

    // the killed process's calls: ended and settled by the survivor (its reaper, or at the latest its sweeper)
    await h.until(async () => (await h.live(k.accountId)).length === 0, (SLICE_S + GRACE_S + 20) * 1000, 'the killed calls to be settled');
    expect(Date.now() - killedAt).toBeLessThan((SLICE_S + GRACE_S + 12) * 1000);
    for (const c of long) c.kill();
  }, 150_000);

  it('loses no call record and no money', async () => {
    // the survivor's ledger writer writes everything, reclaiming what the killed writer had read
    await h.until(async () => (await h.unwritten()) === 0, 30_000, 'the streams to be written to Postgres');
    expect(await h.live()).toEqual([]);
    for (const [accountId, calls] of placed) {
      const m = await h.money(accountId);
      expect(m.duplicateCdrs, `account ${accountId}`).toBe(0);
      expect(m.reserved, `account ${accountId}`).toBe(0);
      expect(m.callsInProgress, `account ${accountId}`).toBe(0);
      expect(m.topUps - m.costs, `account ${accountId}: top-ups − costs vs Redis`).toBe(m.redisBalance);
      expect(m.postgresBalance, `account ${accountId}: Postgres vs Redis`).toBe(m.redisBalance);
      expect(m.cdrs, `account ${accountId}: one CDR per call`).toBeLessThanOrEqual(calls);
    }
    const byAccount = [...placed.entries()];
    const killed = byAccount[1]!;
    const fresh = byAccount[2]!;
    expect((await h.money(killed[0])).cdrs).toBe(killed[1]);
    expect((await h.money(fresh[0])).answeredCdrs).toBe(fresh[1]);
  }, 60_000);

  // An orphaned call is charged from its answer to its last keep-alive (the SIP app records the
  // answer with CallCredit.answered and marks its answered calls alive every CALL_KEEPALIVE_SECONDS).
  it("charges the killed process's answered calls up to their last keep-alive", async () => {
    expect(killedCalls.length).toBeGreaterThan(0);
    const { rows } = await h.s.pool.query<{ billed: number }>('select billed_seconds as billed from cdrs where call_id = any($1)', [killedCalls]);
    expect(rows).toHaveLength(killedCalls.length);
    for (const r of rows) expect(r.billed).toBeGreaterThan(0);
  });
});
