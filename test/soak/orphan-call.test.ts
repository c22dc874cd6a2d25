// A SIP application process killed (SIGKILL) 8 s into an answered call, with another process on the
// same SIP server: the survivor finds the call's keep-alive stale, sends a BYE on both legs from
// the dialog state kept in Redis (the carrier and the caller each get one), and settles the call
// from its answer to its last keep-alive (disposition `orphaned`), not at zero.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { randomPort } from '../support/edge-apps/ports.ts';
import { clean, startAppSipp } from '../support/sip-app-harness.ts';
import { RATE_PER_SECOND, SoakHarness } from './soak-harness.ts';

const KEEPALIVE_S = 1;
let h: SoakHarness;

/** Waits for a call answered by any app process that is not in `seen`; resolves with its process and Call-ID. */
async function nextAnswered(seen: Set<string>): Promise<{ owner: string; callId: string }> {
  let found: { owner: string; callId: string } | undefined;
  await h.until(
    async () => {
      for (const [owner, ids] of h.answeredBy()) for (const callId of ids) if (!seen.has(callId)) found = { owner, callId };
      return found !== undefined;
    },
    20_000,
    'the call to be answered',
    50,
  );
  seen.add(found!.callId);
  return found!;
}

/** Waits for a call to a personal number answered by an app process; resolves with its process and Call-ID. */
async function nextDidAnswered(): Promise<{ owner: string; callId: string }> {
  let found: { owner: string; callId: string } | undefined;
  await h.until(
    async () => {
      for (const a of h.apps)
        for (const l of a.log)
          if (l.includes('"msg":"personal-number call answered"')) found = { owner: a.name, callId: (JSON.parse(l) as { callId: string }).callId };
      return found !== undefined;
    },
    20_000,
    'the personal-number call to be answered',
    50,
  );
  return found!;
}

async function cdrOf(callId: string) {
  const { rows } = await h.s.pool.query<{ disposition: string; billed: number; cost: string; durationMs: number; kind: string }>(
    'select disposition, kind, billed_seconds as billed, cost, duration_ms::int as "durationMs" from cdrs where call_id = $1',
    [callId],
  );
  return rows;
}

const seen = new Set<string>();

beforeAll(async () => {
  h = await SoakHarness.start('orphan', { CALL_KEEPALIVE_SECONDS: String(KEEPALIVE_S) });
  await Promise.all([h.startApp('app-1'), h.startApp('app-2')]);
}, 90_000);

afterAll(async () => {
  await h?.stop();
}, 60_000);

it('kill -9 of the process holding an answered call: both legs get a BYE, the call is billed up to its last keep-alive', async () => {
  const d = await h.device(600 * RATE_PER_SECOND, 2);
  const carrier = h.carrier(1, 30);
  const caller = h.callUntilBye(d, 30);
  try {
    const { owner, callId } = await nextAnswered(seen);
    const answeredSeenAt = Date.now();
    await new Promise((r) => setTimeout(r, 8000 - (Date.now() - answeredSeenAt)));
    const victim = h.apps.find((a) => a.name === owner)!;
    await victim.kill('SIGKILL');
    const killedAt = Date.now();

    // the carrier got a BYE and answered it; so did the caller (each sipp exits 0 only then)
    const [c, a] = await Promise.all([carrier.done, caller.done]);
    expect(c.code, `carrier: ${c.errors}\n${c.stdout.slice(-1500)}`).toBe(0);
    expect(a.code, `caller: ${a.errors}\n${a.stdout.slice(-1500)}`).toBe(0);
    // found within a few keep-alives of the kill, not a slice later
    expect(Date.now() - killedAt).toBeLessThan(10_000);

    await h.until(async () => (await h.money(d.accountId)).cdrs === 1, 30_000, 'the CDR to reach Postgres');
    const rows = await cdrOf(callId);
    expect(rows).toHaveLength(1);
    const cdr = rows[0]!;
    expect(cdr.disposition).toBe('orphaned');
    // 8 s talked before the kill; the last keep-alive came at most one interval (plus a little) before it
    expect(cdr.durationMs).toBeGreaterThan((8 - KEEPALIVE_S - 0.5) * 1000);
    expect(cdr.durationMs).toBeLessThanOrEqual(8500);
    expect(Number(cdr.cost)).toBe(cdr.billed * RATE_PER_SECOND);

    const m = await h.money(d.accountId);
    expect(m).toMatchObject({ reserved: 0, callsInProgress: 0, duplicateCdrs: 0 });
    expect(m.topUps - m.costs).toBe(m.redisBalance);
    expect(m.postgresBalance).toBe(m.redisBalance);
    expect(await h.live(d.accountId)).toEqual([]);
  } finally {
    carrier.kill();
    caller.kill();
  }
}, 120_000);

it('kill -9 of the only process: the process started after it ends the call it left (both legs BYE) and bills it up to the last keep-alive', async () => {
  const d = await h.device(600 * RATE_PER_SECOND, 2);
  const carrier = h.carrier(1, 40);
  const caller = h.callUntilBye(d, 40);
  try {
    const { owner, callId } = await nextAnswered(seen);
    await new Promise((r) => setTimeout(r, 3000));
    await h.apps.find((a) => a.name === owner)!.kill('SIGKILL');
    // no process is left; the next one to start finds the orphan
    await h.startApp('app-restarted');
    const [c, a] = await Promise.all([carrier.done, caller.done]);
    expect(c.code, `carrier: ${c.errors}\n${c.stdout.slice(-1500)}`).toBe(0);
    expect(a.code, `caller: ${a.errors}\n${a.stdout.slice(-1500)}`).toBe(0);
    await h.until(async () => (await h.money(d.accountId)).cdrs === 1, 30_000, 'the CDR to reach Postgres');
    const [cdr] = await cdrOf(callId);
    expect(cdr!.disposition).toBe('orphaned');
    expect(cdr!.durationMs).toBeGreaterThan((3 - KEEPALIVE_S - 0.5) * 1000);
    expect(cdr!.durationMs).toBeLessThanOrEqual(3500);
    const m = await h.money(d.accountId);
    expect(m).toMatchObject({ reserved: 0, callsInProgress: 0, duplicateCdrs: 0 });
    expect(m.topUps - m.costs).toBe(m.redisBalance);
  } finally {
    carrier.kill();
    caller.kill();
  }
}, 120_000);

it('kill -9, then the caller hangs up before any process has ended the call: its BYE gets 481, the carrier still gets a BYE, billed up to the last keep-alive', async () => {
  if (h.apps.filter((a) => a.child.exitCode === null && a.child.signalCode === null).length < 2) await h.startApp('app-4');
  const d = await h.device(600 * RATE_PER_SECOND, 2);
  const carrier = h.carrier(1, 40);
  // the caller hangs up 3 s after the answer, 1 s after the kill and before the orphan is found (3 keep-alives)
  const caller = h.callHangingUp(d, 3000, 481, 40);
  try {
    const { owner, callId } = await nextAnswered(seen);
    await new Promise((r) => setTimeout(r, 2000));
    await h.apps.find((a) => a.name === owner)!.kill('SIGKILL');
    const [c, a] = await Promise.all([carrier.done, caller.done]);
    expect(a.code, `caller: ${a.errors}\n${a.stdout.slice(-1500)}`).toBe(0);
    expect(c.code, `carrier: ${c.errors}\n${c.stdout.slice(-1500)}`).toBe(0);
    await h.until(async () => (await h.money(d.accountId)).cdrs === 1, 30_000, 'the CDR to reach Postgres');
    const [cdr] = await cdrOf(callId);
    expect(cdr!.disposition).toBe('orphaned');
    expect(cdr!.durationMs).toBeGreaterThan((2 - KEEPALIVE_S - 0.5) * 1000);
    expect(cdr!.durationMs).toBeLessThanOrEqual(2500);
    expect(Number(cdr!.cost)).toBe(cdr!.billed * RATE_PER_SECOND);
    const m = await h.money(d.accountId);
    expect(m).toMatchObject({ reserved: 0, callsInProgress: 0, duplicateCdrs: 0 });
    expect(m.topUps - m.costs).toBe(m.redisBalance);
    expect(await h.live(d.accountId)).toEqual([]);
  } finally {
    carrier.kill();
    caller.kill();
  }
}, 120_000);

it('kill -9 of the process holding an answered call to a personal number: the carrier and the device get a BYE, its CDR runs to the last keep-alive', async () => {
  const apps = h.apps.filter((a) => a.child.exitCode === null && a.child.signalCode === null);
  if (apps.length < 2) await h.startApp('app-3');
  const d = await h.device(600 * RATE_PER_SECOND, 2);
  const did = '+441632000779';
  await h.s.pool.query('insert into dids (number, account_id) values ($1, $2)', [did, d.accountId]);
  // the device registers from the port it then answers on
  const port = randomPort();
  clean(await startAppSipp({ scenario: 'register.xml', ip: h.edge.ip, port, remote: h.edge.sipHostport, user: d.username, password: d.password }).done);
  const device = startAppSipp({ scenario: 'uas-answer-recv-bye.xml', ip: h.edge.ip, port, timeoutSec: 40 });
  const carrier = startAppSipp({ scenario: 'did-call-recv-bye.xml', ip: h.carrierIp, remote: h.edge.sipHostport, service: did, timeoutSec: 40 });
  try {
    const { owner, callId } = await nextDidAnswered();
    await new Promise((r) => setTimeout(r, 5000));
    await h.apps.find((a) => a.name === owner)!.kill('SIGKILL');
    const killedAt = Date.now();
    // the carrier's leg and the device's each got a BYE (each sipp exits 0 only then)
    const [c, dv] = await Promise.all([carrier.done, device.done]);
    clean(c, dv);
    expect(Date.now() - killedAt).toBeLessThan(10_000);
    await h.until(async () => (await h.money(d.accountId)).cdrs === 1, 30_000, 'the CDR to reach Postgres');
    const [cdr] = await cdrOf(callId);
    expect(cdr).toMatchObject({ kind: 'did', disposition: 'orphaned', billed: 0 });
    expect(Number(cdr!.cost)).toBe(0);
    expect(cdr!.durationMs).toBeGreaterThan((5 - KEEPALIVE_S - 0.5) * 1000);
    expect(cdr!.durationMs).toBeLessThanOrEqual(5500);
    const m = await h.money(d.accountId);
    expect(m).toMatchObject({ reserved: 0, callsInProgress: 0, duplicateCdrs: 0, costs: 0 });
    expect(await h.live(d.accountId)).toEqual([]);
  } finally {
    carrier.kill();
    device.kill();
  }
}, 120_000);
