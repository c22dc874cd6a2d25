/**
 * Access-number callers who hang up 0 ms after the ACK, 10 at 20 calls per second, while the app
 * reads the SIP server's frames in batches (every 10 ms, as a busy app does): the BYE arrives in the
 * same read as the confirmation of the 200. Each IVR session ends then and there, not when the
 * RTP timeout (30 s here) notices the silence.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { IvrState } from '../../src/sip/ivr/ivr-state.ts';
import { ivrSuite } from '../support/ivr-suite.ts';
import type { SipAppHarness } from '../support/sip-app-harness.ts';

const ACCESS = '+441632000300';

const suite = ivrSuite('ivrtiming', ACCESS, (base) => ({
  sliceSeconds: 6,
  extendLeadSeconds: 2,
  appLinkBatchMs: 10,
  media: { portMin: base, portMax: base + 41, rtpTimeoutMs: 30_000 },
}));
let h: SipAppHarness;
beforeAll(() => {
  h = suite.h;
});

describe('access numbers: a caller hanging up right after the ACK', () => {
  it('every IVR session ends at the BYE, none is left to the RTP timeout', async () => {
    const calls = [];
    for (let i = 0; i < 10; i++) {
      calls.push(
        suite.dialIn(`+44790090${String(1000 + i)}`).then(async (c) => {
          expect(c.status).toBe(200);
          await c.hangup();
          return c;
        }),
      );
      await new Promise((r) => setTimeout(r, 50));
    }
    const callers = await Promise.all(calls);
    // bounded well below the 30 s RTP timeout: a session that missed its BYE is still open then
    await Promise.all(callers.map((c) => h.waitIvrState(c.callId, IvrState.Ended, 8000)));
    expect(h.sip.media?.sessionCount).toBe(0);
  });
});
