/**
 * Access-number sessions leave a record even when no call is placed (wrong PINs, a lockout, a
 * caller who gives up), so the carrier's invoice for the access leg can be reconciled: one row in
 * ivr_sessions per session, how long the access leg was up and how it ended; nothing charged.
 */
import { execFile } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { IvrState } from '../../src/sip/ivr/ivr-state.ts';
import { ivrSuite, keyAt } from '../support/ivr-suite.ts';
import { TEST_DATABASE_URL, TEST_PEPPER, TEST_REDIS_URL } from '../support/services.ts';
import type { SipAppHarness } from '../support/sip-app-harness.ts';

const ACCESS = '+441632000300';

const suite = ivrSuite('ivrsessions', ACCESS, (base) => ({
  sliceSeconds: 6,
  extendLeadSeconds: 2,
  media: { portMin: base, portMax: base + 40 },
  ivr: { firstDigitMs: 4000, interDigitMs: 1500, lockThreshold: 4, anonymousLockThreshold: 4, lockWindowMs: 600_000, lockMs: 600_000, pinTarpitMs: 200 },
}));
const { dialIn, freshCli, account, ivrCdrs } = suite;
let h: SipAppHarness;
beforeAll(() => {
  h = suite.h;
});

interface SessionRow {
  callId: string;
  accountId: number | null;
  accessNumber: string;
  cli: string | null;
  carrier: string | null;
  outcome: string;
  pinAttempts: number;
  calls: number;
  durationMs: number;
}

async function sessionOf(callId: string): Promise<SessionRow | undefined> {
  await h.waitIvrState(callId, IvrState.Ended);
  await h.drain();
  const { rows } = await h.s.pool.query<SessionRow>(
    `select call_id as "callId", account_id::int as "accountId", access_number as "accessNumber", cli, carrier, outcome,
            pin_attempts as "pinAttempts", calls, duration_ms::int as "durationMs"
       from ivr_sessions where call_id = $1`,
    [callId],
  );
  return rows[0];
}

describe('access-number sessions', () => {
  it('three wrong PINs, then a lockout on the next call: each session is recorded with its access leg time, no account, no cost', async () => {
    const cli = freshCli();
    const first = await dialIn(cli);
    const started = Date.now();
    await keyAt(first, 'enter-pin', '11111111#');
    await keyAt(first, 'pin-incorrect', '22222222#');
    await keyAt(first, 'pin-incorrect', '33333333#');
    await first.waitBye();
    const held = Date.now() - started;
    const one = await sessionOf(first.callId);
    expect(one).toMatchObject({ accountId: null, accessNumber: ACCESS, cli, carrier: 'carrier-a', outcome: 'pin_refused', pinAttempts: 3, calls: 0 });
    expect(one!.durationMs).toBeGreaterThan(0);
    expect(one!.durationMs).toBeLessThanOrEqual(held + 1000);

    const second = await dialIn(cli); // the fourth wrong PIN locks the caller ID
    await keyAt(second, 'enter-pin', '44444444#');
    await second.waitBye();
    expect(await sessionOf(second.callId)).toMatchObject({ outcome: 'locked', pinAttempts: 1, calls: 0, accountId: null });

    const third = await dialIn(cli); // locked: not even asked
    await third.waitBye();
    expect(await sessionOf(third.callId)).toMatchObject({ outcome: 'locked', pinAttempts: 0, calls: 0 });
  }, 60_000);

  it('a caller who gives up at the PIN prompt, and one who logs in and hangs up before dialling: recorded, nothing charged', async () => {
    const gaveUp = await dialIn(freshCli());
    await gaveUp.waitPrompt('enter-pin');
    await gaveUp.hangup();
    expect(await sessionOf(gaveUp.callId)).toMatchObject({ outcome: 'caller_hung_up', pinAttempts: 0, calls: 0, accountId: null });

    const dev = await account(1_000_000);
    const loggedIn = await dialIn(freshCli());
    await keyAt(loggedIn, 'enter-pin', `${dev.pin}#`);
    await loggedIn.waitPrompt('enter-destination');
    await loggedIn.hangup();
    expect(await sessionOf(loggedIn.callId)).toMatchObject({ outcome: 'caller_hung_up', pinAttempts: 1, calls: 0, accountId: dev.account.id });
    expect((await h.s.store.get(dev.account.id))!.balance).toBe(1_000_000);
    expect(await h.cdrs(dev.account.id)).toEqual([]);
  });

  it('a call placed from the IVR that rings unanswered: the caller hears call-failed, its CDR says no_answer 480, the session calls_placed', async () => {
    const dev = await account(1_000_000);
    const cli = freshCli();
    await h.accountsSvc.addCli(dev.account.id, cli, true);
    const ringing = h.carrier(0, 'uas-ring-recv-cancel.xml', { timeoutSec: 30 });
    const c = await dialIn(cli);
    await keyAt(c, 'enter-destination', '00441632960001#');
    await c.expectHeard(['call-failed', 'goodbye'], { anywhere: true, timeoutMs: 30_000 });
    await c.waitBye();
    const run = await ringing.done;
    expect(run.errors, run.stdout.slice(-2000)).toBe('');
    expect(await sessionOf(c.callId)).toMatchObject({ outcome: 'calls_placed', calls: 1, accountId: dev.account.id });
    expect(await ivrCdrs(dev.account.id)).toEqual([expect.objectContaining({ disposition: 'no_answer', sipCode: 480, cost: 0 })]);
  }, 60_000);

  it('an operator lists the sessions and their totals per access number and carrier with the CLI', async () => {
    const c = await dialIn(freshCli());
    await c.waitPrompt('enter-pin');
    await c.hangup();
    const row = await sessionOf(c.callId);
    const env = {
      ...process.env,
      DATABASE_URL: TEST_DATABASE_URL,
      DATABASE_SCHEMA: h.s.schema,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_NAMESPACE: 'ivr_sessions_cli',
      PIN_PEPPER: TEST_PEPPER,
      DRACHTIO_SECRET: 'cli-test-secret',
      SIP_NONCE_KEY: 'n'.repeat(32),
      LOG_LEVEL: 'silent',
    };
    const cli = (args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { env, timeout: 60_000 }, (err, stdout, stderr) => {
          resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
        });
      });
    const [list, totals] = await Promise.all([
      cli(['ivr-sessions', `--access-number=${ACCESS}`, '--json']),
      cli(['ivr-sessions', '--totals', `--access-number=${ACCESS}`]),
    ]);
    expect(list.code, list.stderr).toBe(0);
    const listed = JSON.parse(list.stdout) as { callId: string; outcome: string; durationMs: number }[];
    expect(listed[0]).toMatchObject({ callId: c.callId, outcome: 'caller_hung_up', durationMs: row!.durationMs });
    const { rows } = await h.s.pool.query<{ n: number; ms: number; none: number }>(
      'select count(*)::int as n, sum(duration_ms)::float8 as ms, (count(*) filter (where calls = 0))::int as none from ivr_sessions where access_number = $1',
      [ACCESS],
    );
    expect(listed).toHaveLength(rows[0]!.n);
    expect(totals.code, totals.stderr).toBe(0);
    expect(totals.stdout).toBe(
      `${ACCESS}  carrier carrier-a  ${rows[0]!.n} sessions  ${Math.ceil(rows[0]!.ms / 1000)} s on the access leg  ${rows[0]!.none} without a call\n`,
    );
  });
});
