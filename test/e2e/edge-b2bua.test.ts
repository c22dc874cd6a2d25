/**
 * B2BUA cases (spec "Conformance scenarios" 27–32): SIPp caller → edge → createB2BUA app →
 * edge → SIPp callee.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectApp, startEdge, type TestEdge } from '../support/edge-apps/edge-harness.ts';
import { runSipp, startSipp, type SippResult } from '../support/edge-apps/sipp-runner.ts';
import { asDialog, asRequest, type SrfApp } from '../support/edge-apps/srf-views.ts';

let edge: TestEdge;
let srf: SrfApp;
let bPort = 0;
let extraOpts: Record<string, unknown> = {};

beforeAll(async () => {
  edge = await startEdge();
  srf = await connectApp(edge);
  srf.invite((req, res) => {
    srf
      .createB2BUA(req, res, `sip:bob@${edge.ip}:${bPort}`, { localSdpB: asRequest(req).body, ...extraOpts })
      .then(({ uas, uac }) => {
        const a = asDialog(uas);
        const b = asDialog(uac);
        a.on('destroy', () => void b.destroy());
        b.on('destroy', () => void a.destroy());
      })
      .catch(() => undefined);
  });
});
afterAll(async () => {
  srf.disconnect();
  await edge.stop();
});

async function call(aScenario: string, bScenario: string, opts: Record<string, unknown> = {}): Promise<[SippResult, SippResult]> {
  extraOpts = opts;
  const b = startSipp({ scenario: bScenario, localIp: edge.ip, timeoutSec: 15 }); // a random port, retried if taken
  await b.listening;
  bPort = b.localPort;
  const a = runSipp({ scenario: aScenario, localIp: edge.ip, remote: edge.sipHostport, timeoutSec: 15 });
  return Promise.all([a, b.done]);
}

function expectClean([a, b]: [SippResult, SippResult]): void {
  expect(a.errors).toBe('');
  expect(b.errors).toBe('');
  expect(a.code).toBe(0);
  expect(b.code).toBe(0);
}

describe('edge B2BUA', () => {
  it('success; the A side hangs up', async () => {
    expectClean(await call('uac-bye.xml', 'uas-answer-recv-bye.xml'));
  });

  it('success; the B side hangs up', async () => {
    expectClean(await call('uac-recv-bye.xml', 'uas-answer-send-bye.xml'));
  });

  it("late SDP: offer in B's 200, answer in A's ACK relayed to B", async () => {
    expectClean(await call('uac-late-sdp.xml', 'uas-late-sdp.xml'));
  });

  it('several provisionals (183 with SDP, 180) relayed before the 200', async () => {
    expectClean(await call('uac-183-180.xml', 'uas-183-180-200.xml'));
  });

  it('failure passed back to A (486)', async () => {
    expectClean(await call('uac-expect-486.xml', 'uas-486.xml'));
  });

  it('A-leg CANCEL reaches B', async () => {
    expectClean(await call('uac-cancel-after-180.xml', 'uas-cancel.xml'));
  });

  it('PRACK end to end: reliable 183 on both legs', async () => {
    expectClean(await call('uac-prack.xml', 'uas-prack.xml', { proxyResponseHeaders: ['require', 'rseq'] }));
  });

  it('over TCP on the A leg', async () => {
    extraOpts = {};
    const b = startSipp({ scenario: 'uas-answer-recv-bye.xml', localIp: edge.ip, timeoutSec: 15 });
    await b.listening;
    bPort = b.localPort;
    const a = await runSipp({ scenario: 'uac-bye.xml', localIp: edge.ip, remote: edge.sipHostport, transport: 'tcp', timeoutSec: 15 });
    expectClean([a, await b.done]);
  });
});
