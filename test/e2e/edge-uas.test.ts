/**
 * UAS cases (spec "Conformance scenarios" 1–12): SIPp calls the edge, a drachtio-srf app answers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectApp, deferred, edgeOf, startEdge, until, type TestEdge } from '../support/edge-apps/edge-harness.ts';
import { runSipp, startSipp } from '../support/edge-apps/sipp-runner.ts';
import { SDP, asDialog, asRequest, asResponse, type DialogView, type SrfApp } from '../support/edge-apps/srf-views.ts';
import { onlyOnEdge } from '../support/sip-server-under-test.ts';

let edge: TestEdge;
let srf: SrfApp;
type Handler = (req: unknown, res: unknown) => void;
let onInvite: Handler = () => undefined;
let acks = 0;

beforeAll(async () => {
  edge = await startEdge();
  srf = await connectApp(edge);
  srf.use((req, _res, next) => {
    if (asRequest(req).method === 'ACK') acks++;
    next();
  });
  srf.invite((req, res) => onInvite(req, res));
  srf.options((_req, res) => asResponse(res).send(200, { headers: { Allow: 'INVITE, ACK, BYE, CANCEL, OPTIONS, INFO' } }));
  srf.register((req, res) => {
    const r = asRequest(req);
    if (!r.get('Authorization')) {
      return asResponse(res).send(401, { headers: { 'WWW-Authenticate': 'Digest realm="example.com", nonce="4f1b2c3d", algorithm=MD5, qop="auth"' } });
    }
    asResponse(res).send(200, { headers: { Contact: `${r.get('Contact')};expires=3600`, Expires: '3600' } });
  });
});
afterAll(async () => {
  srf.disconnect();
  await edge.stop();
});

const sipp = (scenario: string, extra: Partial<Parameters<typeof runSipp>[0]> = {}) =>
  runSipp({ scenario, localIp: edge.ip, remote: edge.sipHostport, timeoutSec: 15, ...extra });

function answer(): Promise<DialogView> {
  const d = deferred<DialogView>();
  onInvite = (req, res) => {
    void srf.createUAS(req, res, { localSdp: SDP }).then((dlg) => d.resolve(asDialog(dlg)));
  };
  return d.promise;
}

describe('edge UAS', () => {
  it('basic call, the caller hangs up: dialog ack and destroy in the app', async () => {
    const dialog = answer();
    const destroyed = deferred<void>();
    void dialog.then((dlg) => dlg.on('destroy', () => destroyed.resolve()));
    const result = await sipp('uac-bye.xml');
    expect(result.errors).toBe('');
    expect(result.code).toBe(0);
    await destroyed.promise;
    const dlg = await dialog;
    expect(dlg.id).toMatch(/;from-tag=/);
    expect(dlg.local.contact).toContain(`sip:${edge.sipHostport}`);
    if (edge.kind === 'edge') await until(() => edgeOf(edge).stats.dialogs === 0, 2000, 'dialog removed');
  });

  it("basic call, the app hangs up; its BYE carries the caller's INVITE CSeq + 1 (E.25)", async () => {
    onInvite = (req, res) => {
      void srf.createUAS(req, res, { localSdp: SDP }).then((d) => setImmediate(() => void asDialog(d).destroy()));
    };
    const result = await sipp('uac-cseq100-recv-bye.xml');
    expect(result.errors).toBe('');
    expect(result.code).toBe(0);
  });

  it.each([404, 480, 486])('reject with %i: the caller ACK is absorbed, never delivered', async (status) => {
    onInvite = (_req, res) => asResponse(res).send(status);
    const before = acks;
    const result = await sipp(`uac-expect-${status}.xml`);
    expect(result.errors).toBe('');
    expect(result.code).toBe(0);
    expect(acks).toBe(before);
  });

  it('CANCEL before the app responded (4.5 a): 200/487 from the edge, cancel event, later answer NOK', async () => {
    const cancelled = deferred<void>();
    const late = deferred<unknown>();
    onInvite = (req, res) => {
      asRequest(req).on('cancel', () => {
        cancelled.resolve();
        asResponse(res).send(200, { body: SDP }, (err) => late.resolve(err));
      });
    };
    const result = await sipp('uac-cancel-quick.xml');
    expect(result.errors).toBe('');
    expect(result.code).toBe(0);
    await cancelled.promise;
    expect(String(await late.promise)).toContain('Response not sent due to unknown transaction');
  });

  it('CANCEL after a provisional (4.5 b): 487 with the 180 To-tag, cancel event', async () => {
    const cancelled = deferred<void>();
    onInvite = (req, res) => {
      asRequest(req).on('cancel', () => cancelled.resolve());
      asResponse(res).send(180);
    };
    const result = await sipp('uac-cancel-after-180.xml');
    expect(result.errors).toBe('');
    expect(result.code).toBe(0);
    await cancelled.promise;
  });

  it('INVITE retransmitted while the app is slow: delivered once', async () => {
    let deliveries = 0;
    onInvite = (req, res) => {
      deliveries++;
      setTimeout(() => void srf.createUAS(req, res, { localSdp: SDP }), 600);
    };
    const result = await sipp('uac-retrans-slow.xml');
    expect(result.errors).toBe('');
    expect(result.code).toBe(0);
    expect(deliveries).toBe(1);
  });

  it.skipIf(onlyOnEdge)('no ACK: the 200 is retransmitted, then the edge sends BYE (ACK timeout) and the app is told', async () => {
    const reason = deferred<string | undefined>();
    onInvite = (req, res) => {
      void srf.createUAS(req, res, { localSdp: SDP }).then((d) => asDialog(d).on('destroy', (_m, r) => reason.resolve(r)));
    };
    const result = await sipp('uac-no-ack.xml');
    expect(result.errors).toBe('');
    expect(result.code).toBe(0);
    expect(await reason.promise).toBe('ACK timeout');
  });

  it('OPTIONS answered by the app', async () => {
    const result = await sipp('uac-options.xml');
    expect(result.errors).toBe('');
    expect(result.code).toBe(0);
  });

  it('REGISTER with a digest challenge round trip answered by the app', async () => {
    const result = await sipp('uac-register-auth.xml');
    expect(result.errors).toBe('');
    expect(result.code).toBe(0);
  });

  it('INFO and re-INVITE from the caller inside the dialog', async () => {
    const events: string[] = [];
    onInvite = (req, res) => {
      void srf.createUAS(req, res, { localSdp: SDP }).then((d) => {
        const dlg = asDialog(d);
        dlg.on('info', (_r, s) => {
          events.push('info');
          s.send(200);
        });
        dlg.on('modify', (_r, s) => {
          events.push('modify');
          s.send(200, { body: SDP });
        });
      });
    };
    const result = await sipp('uac-info-reinvite.xml');
    expect(result.errors).toBe('');
    expect(result.code).toBe(0);
    expect(events).toEqual(['info', 'modify']);
  });

  it('INFO from the app, over TCP; the caller hangs up', async () => {
    const status = deferred<number>();
    onInvite = (req, res) => {
      void srf.createUAS(req, res, { localSdp: SDP }).then((d) => {
        // after the ACK: over TCP an INFO sent with the 200 can reach sipp before it has sent its
        // ACK, which sipp's scenario treats as out of order
        const dialog = asDialog(d);
        dialog.on('ack', () => {
          void dialog.request({ method: 'INFO', headers: { 'Content-Type': 'text/plain' }, body: 'x' }).then((r) => status.resolve(r.status));
        });
      });
    };
    const result = await sipp('uac-recv-info-bye.xml', { transport: 'tcp' });
    expect(result.errors).toBe('');
    expect(result.code).toBe(0);
    expect(await status.promise).toBe(200);
  });

  it('basic call over TCP', async () => {
    void answer();
    const result = await sipp('uac-bye.xml', { transport: 'tcp' });
    expect(result.errors).toBe('');
    expect(result.code).toBe(0);
  });

  it('packet loss on UDP (sipp -lost 10) is absorbed by retransmissions', async () => {
    // Both ends on the RFC's T1 of 500 ms (sipp retransmits from 500 ms, doubling): on the shared
    // edge's 50 ms T1, Timer J (64·T1 = 3.2 s) ended the BYE's server transaction before sipp's
    // third retransmission (7.5 s after the first send) when two of its 200s were lost, and that
    // retransmission was answered 481.
    const own = await startEdge({ timers: { t1Ms: 500, t2Ms: 4000, t4Ms: 5000, pendingRequestMs: 64_000 } });
    const app = await connectApp(own);
    try {
      app.invite((req, res) => {
        void app.createUAS(req, res, { localSdp: SDP });
      });
      const result = await runSipp({
        scenario: 'uac-bye.xml',
        localIp: own.ip,
        remote: own.sipHostport,
        calls: 20,
        rate: 20,
        lostPercent: 10,
        timeoutSec: 40,
        extraArgs: ['-recv_timeout', '20000'],
      });
      // sipp's losses are random and unseeded: on a failure, its error log says which message went unanswered
      expect(result.code, `sipp errors:\n${result.errors}\n${result.stdout.slice(-2000)}`).toBe(0);
    } finally {
      app.disconnect();
      await own.stop();
    }
  }, 45_000);
});

describe('edge UAS without an app for INVITE', () => {
  it('answers 503 when no app registered the method (E.20)', async () => {
    const bare = await startEdge();
    try {
      const result = await runSipp({ scenario: 'uac-expect-503.xml', localIp: bare.ip, remote: bare.sipHostport, timeoutSec: 10 });
      expect(result.errors).toBe('');
      expect(result.code).toBe(0);
    } finally {
      await bare.stop();
    }
  });

  it.skipIf(onlyOnEdge)('app disconnects mid-call: the caller BYE gets 481; another app keeps taking calls (E.24)', async () => {
    const own = await startEdge();
    const app1 = await connectApp(own);
    const app2 = await connectApp(own);
    try {
      const established = deferred<string>();
      app1.invite((req, res) => {
        void app1.createUAS(req, res, { localSdp: SDP }).then((d) => established.resolve(asDialog(d).sip.callId));
      });
      const caller = startSipp({ scenario: 'uac-bye-expect-481.xml', localIp: own.ip, remote: own.sipHostport, timeoutSec: 15 });
      const callId = await established.promise;
      app1.disconnect();
      await until(() => edgeOf(own).stats.connections === 1, 3000, 'app1 gone');
      // The caller waits for this OPTIONS (same Call-ID, so SIPp maps it to the call) before it
      // sends its BYE: no timing assumption.
      await app2.request(`sip:sipp@${own.ip}:${caller.localPort}`, { method: 'OPTIONS', headers: { 'Call-ID': callId } });
      const result = await caller.done;
      expect(result.errors).toBe('');
      expect(result.code).toBe(0);
      app2.invite((req, res) => {
        void app2.createUAS(req, res, { localSdp: SDP });
      });
      const next = await runSipp({ scenario: 'uac-bye.xml', localIp: own.ip, remote: own.sipHostport, timeoutSec: 10 });
      expect(next.errors).toBe('');
      expect(next.code).toBe(0);
    } finally {
      app2.disconnect();
      await own.stop();
    }
  });
});
