/**
 * No answer is not a carrier fault: a route that rings (180) until NO_ANSWER_TIMEOUT gives the
 * caller 480 No Answer and a CDR `no_answer`, and the next carrier is not rung (the callee was
 * alerted and did not answer); a route that never even rings (only 100 Trying) within the timeout
 * is a route failure, and the next one is tried. `failed` stays for routes that really failed.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { clean, SipAppHarness } from '../support/sip-app-harness.ts';
import type { Device } from '../support/sip-app-harness.ts';

const UK = '441632960001';
let h: SipAppHarness;
let dev: Device;

beforeAll(async () => {
  h = await SipAppHarness.start('sipnoanswer', { noAnswerTimeoutSeconds: 5 });
  dev = await h.device(5_000_000);
});
afterAll(async () => {
  await h.stop();
});
afterEach(async () => {
  await h.expectMoneyInvariant();
});

async function lastCdr(d: Device) {
  const rows = await h.cdrs(d.account.id);
  return rows[rows.length - 1]!;
}

describe('no answer', () => {
  it('a carrier that rings until the no-answer timeout: 480 No Answer to the caller, CDR no_answer, no other carrier rung', async () => {
    const before = h.settled.length;
    const ringing = h.carrier(0, 'uas-ring-recv-cancel.xml');
    const wouldAnswer = h.carrier(1, 'uas-answer-recv-bye.xml');
    const caller = h.run({
      scenario: 'device-call-refused.xml',
      service: `00${UK}`,
      user: dev.username,
      password: dev.password,
      timeoutSec: 30,
      vars: { status: '480', reason: 'No Answer' },
    });
    const callerRun = await caller;
    wouldAnswer.kill(); // never reached: had it been, it would have answered and the caller got 200
    clean(callerRun, await ringing.done);
    await h.waitSettled(before + 1);
    expect(await lastCdr(dev)).toMatchObject({ disposition: 'no_answer', sipCode: 480, cost: 0, billedSeconds: 0 });
  }, 45_000);

  it('a carrier that never rings within the timeout is a route failure: the next carrier answers', async () => {
    const before = h.settled.length;
    const silent = h.carrier(0, 'uas-trying-recv-cancel.xml');
    const answers = h.carrier(1, 'uas-answer-recv-bye.xml');
    const caller = h.run({ scenario: 'device-call.xml', service: `00${UK}`, user: dev.username, password: dev.password, pauseMs: 500, timeoutSec: 30 });
    clean(await caller, await silent.done, await answers.done);
    await h.waitSettled(before + 1);
    expect(await lastCdr(dev)).toMatchObject({ disposition: 'answered', sipCode: 200 });
  }, 45_000);
});
