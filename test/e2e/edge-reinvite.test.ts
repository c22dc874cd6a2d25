/**
 * re-INVITEs and ACKs as drachtio-server handles them: the app's re-INVITE on a dialog where the
 * edge is UAS (hold/resume towards the caller; a retransmitted 200 ACKed again), on either leg of a B2BUA, `fnAck` on the 200 to a
 * caller's re-INVITE, requests from B queued by srf until A's ACK, and an ACK that carries
 * `CSeq: N INVITE`. Over UDP and TCP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectApp, deferred, startEdge, type TestEdge } from '../support/edge-apps/edge-harness.ts';
import { runSipp, startSipp, type SippResult } from '../support/edge-apps/sipp-runner.ts';
import { SDP, asDialog, asRequest, type DialogView, type RequestView, type SrfApp } from '../support/edge-apps/srf-views.ts';

const HOLD_SDP = SDP.replace('a=rtpmap:0 PCMU/8000\r\n', 'a=rtpmap:0 PCMU/8000\r\na=sendonly\r\n');
const RESUME_SDP = SDP.replace('a=rtpmap:0 PCMU/8000\r\n', 'a=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n');

type Handler = (req: unknown, res: unknown) => void;

let edge: TestEdge;
let srf: SrfApp;
let onInvite: Handler = () => undefined;
let bPort = 0;

beforeAll(async () => {
  edge = await startEdge();
  srf = await connectApp(edge);
  srf.invite((req, res) => onInvite(req, res));
});
afterAll(async () => {
  srf.disconnect();
  await edge.stop();
});

function expectClean(...runs: SippResult[]): void {
  for (const run of runs) {
    expect(run.errors).toBe('');
    expect(run.code).toBe(0);
  }
}

/** Holds then resumes the call on `dialog` once its initial ACK arrived; resolves with both answers. */
function holdAndResume(dialog: DialogView): Promise<string[]> {
  return new Promise((resolve, reject) => {
    dialog.on('ack', () => {
      (async () => [await dialog.modify(HOLD_SDP), await dialog.modify(RESUME_SDP)])().then(resolve, reject);
    });
  });
}

/** A B2BUA to the sipp UAS listening on bPort; resolves with both dialogs. */
function b2bua(): Promise<{ a: DialogView; b: DialogView }> {
  const d = deferred<{ a: DialogView; b: DialogView }>();
  onInvite = (req, res) => {
    srf
      .createB2BUA(req, res, `sip:bob@${edge.ip}:${bPort}`, { localSdpB: asRequest(req).body })
      .then(({ uas, uac }) => {
        const a = asDialog(uas);
        const b = asDialog(uac);
        a.on('destroy', () => void b.destroy());
        b.on('destroy', () => void a.destroy());
        d.resolve({ a, b });
      })
      .catch(() => undefined);
  };
  return d.promise;
}

async function callThroughB2bua(aScenario: string, bScenario: string, transport: 'udp' | 'tcp'): Promise<[SippResult, SippResult]> {
  const b = startSipp({ scenario: bScenario, localIp: edge.ip, timeoutSec: 15 });
  await b.listening;
  bPort = b.localPort;
  const a = runSipp({ scenario: aScenario, localIp: edge.ip, remote: edge.sipHostport, transport, timeoutSec: 15 });
  return Promise.all([a, b.done]);
}

describe.each(['udp', 'tcp'] as const)('edge re-INVITE and ACK over %s', (transport) => {
  it('the app holds and resumes the caller (edge is UAS): each 200 to its re-INVITE is ACKed', async () => {
    const answers = deferred<Promise<string[]>>();
    onInvite = (req, res) => {
      void srf.createUAS(req, res, { localSdp: SDP }).then((dlg) => answers.resolve(holdAndResume(asDialog(dlg))));
    };
    const caller = await runSipp({ scenario: 'uac-recv-reinvites-bye.xml', localIp: edge.ip, remote: edge.sipHostport, transport, timeoutSec: 15 });
    expectClean(caller);
    const sdps = await answers.promise;
    expect(sdps).toHaveLength(2);
    for (const sdp of sdps) expect(sdp).toContain('m=audio');
  });

  it('a retransmission of the 200 to its re-INVITE (edge is UAS) is ACKed again, as the first', async () => {
    const answered = deferred<Promise<string>>();
    onInvite = (req, res) => {
      void srf.createUAS(req, res, { localSdp: SDP }).then((dlg) => {
        const d = asDialog(dlg);
        // then an INFO, before the caller re-sends the 200 (see the scenario)
        d.on('ack', () => answered.resolve(d.modify(HOLD_SDP).then(async (sdp) => (await d.request({ method: 'INFO' }), sdp))));
      });
    };
    const caller = await runSipp({ scenario: 'uac-recv-reinvite-resend-200.xml', localIp: edge.ip, remote: edge.sipHostport, transport, timeoutSec: 15 });
    expectClean(caller);
    expect(await answered.promise).toContain('m=audio');
  });

  it('B2BUA: hold and resume towards the caller (A leg, edge is UAS)', async () => {
    const legs = b2bua();
    const held = legs.then(({ a }) => holdAndResume(a));
    const runs = await callThroughB2bua('uac-recv-reinvites-bye.xml', 'uas-answer-recv-bye.xml', transport);
    expectClean(...runs);
    expect(await held).toHaveLength(2);
  });

  it('B2BUA: hold and resume towards the carrier (B leg, edge is UAC)', async () => {
    const legs = b2bua();
    const held = legs.then(
      ({ a, b }) =>
        new Promise<string[]>((resolve, reject) => {
          a.on('ack', () => {
            (async () => [await b.modify(HOLD_SDP), await b.modify(RESUME_SDP)])().then(resolve, reject);
          });
        }),
    );
    const runs = await callThroughB2bua('uac-recv-bye.xml', 'uas-answer-recv-reinvites-send-bye.xml', transport);
    expectClean(...runs);
    expect(await held).toHaveLength(2);
  });

  it("fnAck on the 200 to the caller's re-INVITE is called with the ACK", async () => {
    const acked = deferred<RequestView>();
    onInvite = (req, res) => {
      void srf.createUAS(req, res, { localSdp: SDP }).then((dlg) => {
        asDialog(dlg).on('modify', (_reinvite, response) => {
          response.send(200, { body: SDP }, undefined, (ack) => acked.resolve(asRequest(ack)));
        });
      });
    };
    const caller = await runSipp({ scenario: 'uac-info-reinvite.xml', localIp: edge.ip, remote: edge.sipHostport, transport, timeoutSec: 15 });
    expectClean(caller);
    const ack = await acked.promise;
    expect(ack.method).toBe('ACK');
    expect(ack.get('CSeq')).toBe('3 ACK');
  });

  it("B2BUA: an INFO from B sent before A's ACK reaches the app only after A's ACK (srf queue)", async () => {
    const events: string[] = [];
    const legs = b2bua();
    void legs.then(({ a, b }) => {
      a.on('ack', () => events.push('A ack'));
      // Then the app hangs up: A's and B's BYEs end both sipp scenarios.
      b.on('info', (_req, res) => {
        events.push('B info');
        // hang up once the 200 is on the wire: a BYE sent at once may overtake it (two transactions)
        res.send(200, {}, () => {
          void a.destroy();
          void b.destroy();
        });
      });
    });
    const runs = await callThroughB2bua('uac-slow-ack-recv-bye.xml', 'uas-answer-send-info-recv-bye.xml', transport);
    expectClean(...runs);
    expect(events).toEqual(['A ack', 'B info']);
  });

  it('an ACK with `CSeq: 1 INVITE` is accepted as the ACK of the 200 (no 200 retransmission, no BYE)', async () => {
    const acked = deferred<string>();
    onInvite = (req, res) => {
      void srf.createUAS(req, res, { localSdp: SDP }).then((dlg) => asDialog(dlg).on('ack', (ack) => acked.resolve(ack.get('CSeq'))));
    };
    const caller = await runSipp({ scenario: 'uac-ack-cseq-invite.xml', localIp: edge.ip, remote: edge.sipHostport, transport, timeoutSec: 15 });
    expectClean(caller);
    expect(await acked.promise).toBe('1 INVITE');
  });
});
