/**
 * The access-number IVR and the media server's limits: an RTP range that holds one bridged call
 * (two ports), so the next caller gets 503 and nothing leaks; an RTP timeout (1.5 s) on a
 * bridged call hangs both legs up and settles it; a SIP server restart during a bridged call: both
 * carrier legs (the caller's and the outbound one) get a BYE built from their stored state.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { IvrState } from '../../src/sip/ivr/ivr-state.ts';
import { ivrSuite } from '../support/ivr-suite.ts';
import type { SipAppHarness } from '../support/sip-app-harness.ts';

const ACCESS = '+441632000200';
const UK = '441632960001';

const suite = ivrSuite('ivrmedia', ACCESS, (base) => ({
  sliceSeconds: 6,
  extendLeadSeconds: 2,
  media: { portMin: base, portMax: base + 3, rtpTimeoutMs: 1500 }, // even ports base, base+2: one caller and one outbound leg
  ivr: { firstDigitMs: 4000, interDigitMs: 1500 },
}));
const { dialIn } = suite;
let h: SipAppHarness;
beforeAll(() => {
  h = suite.h;
});

describe('access numbers: media limits', () => {
  it('a bridged call whose RTP stops is hung up on both sides and settled; with the port range in use the next caller gets 503, and nothing leaks', async () => {
    const dev = await h.device(1_000_000);
    const cli = '+447700900555';
    await h.accountsSvc.addCli(dev.account.id, cli, true);
    const before = h.settled.length;
    const carrier = h.carrier(0, 'uas-answer-recv-bye.xml', { timeoutSec: 30 });
    const c = await dialIn(cli);
    await c.waitPrompt('enter-destination');
    c.press(`00${UK}#`);
    await h.waitIvrState(c.callId, IvrState.Connected);

    // both ports are held (caller and outbound leg): the next caller is refused
    const refused = await dialIn('+447700900556');
    expect([refused.status, refused.reason]).toEqual([503, 'Media Ports Exhausted']);

    c.stopAudio(); // the caller goes silent (the sipp carrier sends no RTP either)
    await c.waitBye(10_000);
    const run = await carrier.done;
    expect(run.errors, run.stdout.slice(-2000)).toBe('');
    await h.waitSettled(before + 1);
    await h.waitIvrState(c.callId, IvrState.Ended);
    const [cdr] = await h.cdrs(dev.account.id);
    expect(cdr).toMatchObject({ callId: c.callId, kind: 'access_number', disposition: 'rtp_timeout' });

    // the ports are free again: a new caller is answered
    const next = await dialIn(cli);
    expect(next.status).toBe(200);
    await next.hangup();
    await h.waitIvrState(next.callId, IvrState.Ended);
  });

  it('the SIP server restarts during a bridged call: the caller and the carrier each get a BYE from the stored dialog state, the call is settled up to then', async () => {
    const dev = await h.device(1_000_000);
    const cli = '+447700900557';
    await h.accountsSvc.addCli(dev.account.id, cli, true);
    const before = h.settled.length;
    const carrier = h.carrier(0, 'uas-answer-recv-bye.xml', { timeoutSec: 30 });
    try {
      const c = await dialIn(cli);
      await c.waitPrompt('enter-destination');
      c.press(`00${UK}#`);
      await h.waitIvrState(c.callId, IvrState.Connected);
      await new Promise((r) => setTimeout(r, 1000)); // talk a little
      await h.restartEdge();
      await c.waitBye(10_000);
      const run = await carrier.done;
      expect(run.errors, run.stdout.slice(-2000)).toBe('');
      expect(run.code).toBe(0);
      const [settled] = (await h.waitSettled(before + 1)).slice(-1);
      expect(settled!.disposition).toBe('signalling_lost');
      await h.waitIvrState(c.callId, IvrState.Ended);
    } finally {
      carrier.kill();
    }
  });
});
