/**
 * Attended transfer between two calls on the edge: a small drachtio-srf "PBX" answers call 1
 * (the transferor) and call 2; the transferor sends REFER with Replaces naming call 2. The app
 * accepts (202), finds call 2 by the Replaces dialog identifiers, re-INVITEs it towards the
 * transferred party (the 200 must be ACKed: the edge is UAS there), reports the outcome in a
 * NOTIFY (message/sipfrag, Subscription-State terminated), and when the transferor hangs up ends
 * call 2 as well. Over UDP and TCP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectApp, deferred, startEdge, type TestEdge } from '../support/edge-apps/edge-harness.ts';
import { runSipp, startSipp, type SippResult } from '../support/edge-apps/sipp-runner.ts';
import { SDP, asDialog, asRequest, type DialogView, type RequestView, type ResponseView, type SrfApp } from '../support/edge-apps/srf-views.ts';

const TRANSFERRED_SDP = SDP.replace('m=audio 40000', 'm=audio 40002');

let edge: TestEdge;
let srf: SrfApp;
/** Answered calls by Call-ID, resolved when their ACK arrives. */
const calls = new Map<string, { dialog: Promise<DialogView>; resolve: (d: DialogView) => void }>();

function call(callId: string): { dialog: Promise<DialogView>; resolve: (d: DialogView) => void } {
  let entry = calls.get(callId);
  if (entry === undefined) {
    const d = deferred<DialogView>();
    entry = { dialog: d.promise, resolve: d.resolve };
    calls.set(callId, entry);
  }
  return entry;
}

/** Replaces (RFC 3891) from a Refer-To URI header: `callid;to-tag=…;from-tag=…`. */
function replacesOf(referTo: string): { callId: string; toTag: string; fromTag: string } | undefined {
  const m = /[?&]Replaces=([^&>]+)/i.exec(referTo);
  if (m === null) return undefined;
  const [callId = '', ...params] = decodeURIComponent(m[1] ?? '').split(';');
  const param = (name: string): string => params.find((p) => p.toLowerCase().startsWith(`${name}=`))?.slice(name.length + 1) ?? '';
  return { callId, toTag: param('to-tag'), fromTag: param('from-tag') };
}

const transfers: Array<{ replaced: string; reanswered: string }> = [];

beforeAll(async () => {
  edge = await startEdge();
  srf = await connectApp(edge);
  srf.invite((req, res) => {
    const callId = asRequest(req).get('Call-ID');
    void srf.createUAS(req, res, { localSdp: SDP }).then((d) => {
      const dialog = asDialog(d);
      dialog.on('ack', () => call(callId).resolve(dialog));
      (dialog as unknown as { on(e: 'refer', cb: (r: RequestView, s: ResponseView) => void): void }).on('refer', (refer, response) => {
        const replaces = replacesOf(refer.get('Refer-To'));
        const target = replaces === undefined ? undefined : calls.get(replaces.callId);
        if (replaces === undefined || target === undefined) return response.send(481);
        response.send(202);
        void (async () => {
          const replaced = await target.dialog;
          // The Replaces tags are the transferor's view of call 2: our tag is its to-tag.
          if (replaced.sip.localTag !== replaces.toTag || replaced.sip.remoteTag !== replaces.fromTag) throw new Error('Replaces tags do not match call 2');
          // listen before the NOTIFY: the transferor's BYE follows its 200 at once and may be read with it
          dialog.on('destroy', () => void replaced.destroy());
          const answer = await replaced.modify(TRANSFERRED_SDP);
          transfers.push({ replaced: replaces.callId, reanswered: answer });
          await dialog.request({
            method: 'NOTIFY',
            headers: { Event: 'refer', 'Subscription-State': 'terminated;reason=noresource', 'Content-Type': 'message/sipfrag;version=2.0' },
            body: 'SIP/2.0 200 OK\r\n',
          });
        })().catch(() => undefined);
      });
    });
  });
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

describe.each(['udp', 'tcp'] as const)('edge attended transfer (REFER with Replaces) over %s', (transport) => {
  it('call 2 is re-INVITEd and ACKed, the transferor gets 202 and NOTIFY 200, both calls end', async () => {
    const secondCallId = `transfer-${transport}-${Date.now()}@${edge.ip}`;
    const second = startSipp({
      scenario: 'uac-transfer-target.xml',
      localIp: edge.ip,
      remote: edge.sipHostport,
      transport,
      timeoutSec: 20,
      extraArgs: ['-cid_str', secondCallId],
    });
    const replaced = await call(secondCallId).dialog;
    const replaces = encodeURIComponent(`${replaced.sip.callId};to-tag=${replaced.sip.localTag};from-tag=${replaced.sip.remoteTag}`);
    const transferor = await runSipp({
      scenario: 'uac-transfer-transferor.xml',
      localIp: edge.ip,
      remote: edge.sipHostport,
      transport,
      timeoutSec: 20,
      extraArgs: ['-key', 'replaces', replaces],
    });
    expectClean(transferor, await second.done);
    expect(transfers.find((t) => t.replaced === secondCallId)?.reanswered).toContain('m=audio');
  });
});
