/**
 * UAC cases (spec "Conformance scenarios" 15–23): the drachtio-srf app originates, SIPp answers.
 */
import { createSocket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectApp, deferred, startEdge, type TestEdge } from '../support/edge-apps/edge-harness.ts';
import { startSipp, type SippProcess } from '../support/edge-apps/sipp-runner.ts';
import { SDP, asDialog, asRequest, asResponse, type ResponseView, type SrfApp } from '../support/edge-apps/srf-views.ts';
import { onlyOnEdge } from '../support/sip-server-under-test.ts';

let edge: TestEdge;
let srf: SrfApp;
beforeAll(async () => {
  edge = await startEdge();
  srf = await connectApp(edge);
});
afterAll(async () => {
  srf.disconnect();
  await edge.stop();
});

async function callee(scenario: string, transport: 'udp' | 'tcp' = 'udp'): Promise<SippProcess> {
  const p = startSipp({ scenario, localIp: edge.ip, timeoutSec: 15, transport });
  await p.listening;
  return p;
}
const uri = (p: SippProcess, transport: 'udp' | 'tcp' = 'udp'): string => `sip:bob@${edge.ip}:${p.localPort}${transport === 'tcp' ? ';transport=tcp' : ''}`;

async function ok(p: SippProcess): Promise<void> {
  const r = await p.done;
  expect(r.errors).toBe('');
  expect(r.code).toBe(0);
}

/** srf.request resolves with the sent request; its final response comes as an event. */
function finalResponse(req: unknown): Promise<ResponseView> {
  return new Promise((resolve) => {
    (req as { on(e: 'response', cb: (res: unknown) => void): void }).on('response', (res) => {
      const r = asResponse(res);
      if (r.status >= 200) resolve(r);
    });
  });
}

describe('edge UAC', () => {
  it.each(['udp', 'tcp'] as const)('createUAC success, then BYE from the app (%s)', async (transport) => {
    const p = await callee('uas-answer-recv-bye.xml', transport);
    const dialog = asDialog(await srf.createUAC(uri(p, transport), { localSdp: SDP }));
    expect(dialog.id).toMatch(/;from-tag=/);
    expect(dialog.remote.sdp).toContain('v=0');
    await dialog.destroy();
    await ok(p);
  });

  it('createUAC success, then BYE from the callee', async () => {
    const p = await callee('uas-answer-send-bye.xml');
    const dialog = asDialog(await srf.createUAC(uri(p), { localSdp: SDP }));
    const destroyed = deferred<void>();
    dialog.on('destroy', () => destroyed.resolve());
    await destroyed.promise;
    await ok(p);
  });

  it("createUAC failure (404): rejected; the app's ACK is refused and never sent", async () => {
    const p = await callee('uas-404.xml');
    const err = await srf.createUAC(uri(p), { localSdp: SDP }).then(
      () => undefined,
      (e: unknown) => e as { status?: number },
    );
    expect(err?.status).toBe(404);
    await ok(p);
  });

  it("CANCEL of the app's INVITE after a provisional: 487 delivered", async () => {
    const p = await callee('uas-cancel.xml');
    let sent: unknown;
    const err = await srf
      .createUAC(
        uri(p),
        { localSdp: SDP },
        {
          cbRequest: (_err: unknown, req: unknown) => {
            sent = req;
          },
          cbProvisional: () => {
            (sent as { cancel(): void }).cancel();
          },
        },
      )
      .then(
        () => undefined,
        (e: unknown) => e as { status?: number },
      );
    expect(err?.status).toBe(487);
    await ok(p);
  });

  it("digest on INVITE answered by srf's digest client", async () => {
    const p = await callee('uas-auth-invite.xml');
    const dialog = asDialog(await srf.createUAC(uri(p), { localSdp: SDP, auth: { username: 'bob', password: 'secret' } }));
    await dialog.destroy();
    await ok(p);
  });

  it("digest on REGISTER answered by srf's digest client", async () => {
    const p = await callee('uas-auth-register.xml');
    const req = await srf.request(uri(p), {
      method: 'REGISTER',
      headers: { Contact: `<sip:alice@${edge.ip}>`, From: `<sip:bob@${edge.ip}>`, To: `<sip:bob@${edge.ip}>`, Expires: '3600' },
      auth: { username: 'bob', password: 'secret' },
    });
    const res = await finalResponse(req);
    expect(res.status).toBe(200);
    await ok(p);
  });

  it('digest on BYE: the dialog survives the 407 and the retry is sent', async () => {
    const p = await callee('uas-bye-auth.xml');
    const dialog = asDialog(await srf.createUAC(uri(p), { localSdp: SDP, auth: { username: 'bob', password: 'secret' } }));
    await dialog.destroy();
    await ok(p);
  });

  it.skipIf(onlyOnEdge)('408 when the destination never answers (Timer F, 64·T1)', async () => {
    const hole = createSocket('udp4');
    await new Promise<void>((resolve) => hole.bind(0, edge.ip, () => resolve()));
    let received = 0;
    hole.on('message', () => {
      received++;
    });
    try {
      const started = Date.now();
      const req = await srf.request(`sip:dead@${edge.ip}:${hole.address().port}`, { method: 'OPTIONS' });
      const res = await finalResponse(req);
      expect(res.status).toBe(408);
      expect(Date.now() - started).toBeGreaterThanOrEqual(64 * (edge.config?.timers.t1Ms ?? 500) - 100);
      expect(received).toBeGreaterThan(3);
    } finally {
      hole.close();
    }
  });

  it("the app's request reaches the callee with the @localhost substitution (callingNumber)", async () => {
    const p = await callee('uas-answer-recv-bye.xml');
    const dialog = asDialog(await srf.createUAC(uri(p), { localSdp: SDP, callingNumber: '4930555' }));
    expect(dialog.local.contact).toContain(`4930555@${edge.sipHostport}`);
    await dialog.destroy();
    await ok(p);
  });

  it('the request echo carries what srf reads (From tag, Contact, Call-ID)', async () => {
    const p = await callee('uas-answer-recv-bye.xml');
    let sent: unknown;
    const dialog = asDialog(
      await srf.createUAC(
        uri(p),
        { localSdp: SDP },
        {
          cbRequest: (_err: unknown, req: unknown) => {
            sent = req;
          },
        },
      ),
    );
    const r = asRequest(sent);
    expect(r.get('From')).toMatch(/;tag=[A-Za-z0-9]{13}$/);
    expect(r.get('Contact')).toBe(`<sip:${edge.sipHostport}>`);
    expect(r.get('Via')).toMatch(/;rport;branch=z9hG4bK/);
    await dialog.destroy();
    await ok(p);
  });
});
