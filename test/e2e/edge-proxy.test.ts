/**
 * `srf.proxyRequest` on the edge (spec §7), as drachtio-server's stateful proxy: record-route on
 * (ACK and BYE routed through the edge) and off (the edge leaves the dialog), a 302 followed,
 * serial forking past a failing first target, simultaneous forking (the loser CANCELled), and a
 * final response to the caller even when no target can be tried. SIPp caller → edge → SIPp
 * target(s); the app only proxies.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectApp, edgeOf, startEdge, type TestEdge } from '../support/edge-apps/edge-harness.ts';
import { runSipp, startSipp, type SippProcess, type SippResult } from '../support/edge-apps/sipp-runner.ts';
import type { SrfApp } from '../support/edge-apps/srf-views.ts';

interface ProxyResult {
  readonly connected: boolean;
  readonly finalStatus: number;
  readonly responses: ReadonlyArray<{ readonly address: string; readonly port: number; readonly msgs: ReadonlyArray<{ readonly status: number }> }>;
}
type ProxySrf = SrfApp & { proxyRequest(req: unknown, dest: string | string[], opts?: Record<string, unknown>): Promise<ProxyResult> };

let edge: TestEdge;
let srf: ProxySrf;
type Plan = { destinations: string[]; opts: Record<string, unknown> };
let plan: Plan = { destinations: [], opts: {} };
/** Plans for the next INVITEs, in order (then `plan`). */
let nextPlans: Plan[] = [];
let outcome: Promise<ProxyResult | Error> = Promise.resolve(new Error('no call yet'));

beforeAll(async () => {
  edge = await startEdge();
  srf = (await connectApp(edge)) as ProxySrf;
  const proxy = (req: unknown): void => {
    const p = nextPlans.shift() ?? plan;
    outcome = srf.proxyRequest(req, p.destinations, p.opts).catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))));
  };
  srf.invite(proxy);
  srf.register(proxy);
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

async function target(scenario: string, extraArgs: string[] = [], transport: 'udp' | 'tcp' = 'udp'): Promise<SippProcess> {
  const t = startSipp({ scenario, localIp: edge.ip, timeoutSec: 15, extraArgs, transport });
  await t.listening;
  return t;
}

const uri = (t: SippProcess, transport = 'udp'): string => `sip:bob@${edge.ip}:${t.localPort}${transport === 'tcp' ? ';transport=tcp' : ''}`;

function caller(scenario: string, transport: 'udp' | 'tcp' = 'udp'): Promise<SippResult> {
  return runSipp({ scenario, localIp: edge.ip, remote: edge.sipHostport, transport, timeoutSec: 15 });
}

async function proxied(): Promise<ProxyResult> {
  const r = await outcome;
  if (r instanceof Error) throw r;
  return r;
}

describe.each(['udp', 'tcp'] as const)('edge proxy, caller over %s', (transport) => {
  it("remainInDialog: Record-Route added; the caller's ACK and BYE are routed through the edge to the callee", async () => {
    const b = await target('uas-proxy-rr.xml');
    plan = { destinations: [uri(b)], opts: { remainInDialog: true } };
    expectClean(await caller('uac-proxy-rr.xml', transport), await b.done);
    const r = await proxied();
    expect(r.connected).toBe(true);
    expect(r.finalStatus).toBe(200);
    if (edge.kind === 'edge') expect(edgeOf(edge).stats.dialogs).toBe(0); // a proxy keeps no dialog of its own
  });

  it('a REGISTER with remainInDialog: the registrar gets Path and Require: path, the caller its 200', async () => {
    const registrar = await target('uas-register-path.xml', [], transport);
    plan = { destinations: [uri(registrar, transport)], opts: { remainInDialog: true } };
    expectClean(await caller('uac-register-proxied.xml', transport), await registrar.done);
    const r = await proxied();
    expect(r.connected).toBe(true);
    expect(r.finalStatus).toBe(200);
  });

  it('without remainInDialog: no Record-Route, the edge is out of the dialog', async () => {
    const b = await target('uas-answer-no-rr.xml');
    plan = { destinations: [uri(b)], opts: {} };
    expectClean(await caller('uac-proxy-norr.xml', transport), await b.done);
    expect((await proxied()).finalStatus).toBe(200);
  });
});

describe.each(['udp', 'tcp'] as const)('edge proxy: targets and forking over %s (caller and targets)', (transport) => {
  const callee = (scenario: string, extraArgs: string[] = []): Promise<SippProcess> => target(scenario, extraArgs, transport);
  const at = (t: SippProcess): string => uri(t, transport);
  const call = (scenario: string): Promise<SippResult> => caller(scenario, transport);

  it('followRedirects: a 302 from the first target is followed to its Contact', async () => {
    const b = await callee('uas-answer-no-rr.xml');
    const c = await callee('uas-302.xml', ['-key', 'b_port', String(b.localPort)]);
    plan = { destinations: [at(c)], opts: { followRedirects: true } };
    expectClean(await call('uac-proxy-norr.xml'), await c.done, await b.done);
    const r = await proxied();
    expect(r.connected).toBe(true);
    expect(r.responses.flatMap((x) => x.msgs.map((m) => m.status))).toEqual([302, 200]);
  });

  it("without followRedirects the 302 is the caller's final response", async () => {
    const c = await callee('uas-302.xml', ['-key', 'b_port', '9']);
    plan = { destinations: [at(c)], opts: {} };
    expectClean(await call('uac-expect-302.xml'), await c.done);
    const r = await proxied();
    expect(r.connected).toBe(false);
    expect(r.finalStatus).toBe(302);
  });

  it('serial forking: the first target answers 486, the second 200', async () => {
    const c = await callee('uas-486.xml');
    const b = await callee('uas-answer-no-rr.xml');
    plan = { destinations: [at(c), at(b)], opts: {} };
    expectClean(await call('uac-proxy-norr.xml'), await c.done, await b.done);
    const r = await proxied();
    expect(r.connected).toBe(true);
    expect(r.responses.flatMap((x) => x.msgs.map((m) => m.status))).toEqual([486, 200]);
  });

  it('serial forking, every target fails: the best failure (486 over 503) goes to the caller', async () => {
    const c = await callee('uas-503.xml');
    const d = await callee('uas-486.xml');
    plan = { destinations: [at(c), at(d)], opts: {} };
    expectClean(await call('uac-expect-486.xml'), await c.done, await d.done);
    const r = await proxied();
    expect(r.connected).toBe(false);
    expect(r.finalStatus).toBe(486);
  });

  it('simultaneous forking: both targets get the INVITE; the ringing one is CANCELled when the other answers', async () => {
    const c = await callee('uas-cancel.xml');
    const b = await callee('uas-answer-no-rr.xml');
    plan = { destinations: [at(c), at(b)], opts: { forking: 'simultaneous' } };
    expectClean(await call('uac-proxy-norr.xml'), await c.done, await b.done);
    expect((await proxied()).connected).toBe(true);
  });

  it('the caller CANCELs while the target rings: 200 and 487 to the caller, CANCEL to the target', async () => {
    const c = await callee('uas-cancel.xml');
    plan = { destinations: [at(c)], opts: {} };
    expectClean(await call('uac-cancel-after-180.xml'), await c.done);
    const r = await proxied();
    expect(r.connected).toBe(false);
    expect(r.finalStatus).toBe(487);
  });

  it('provisionalTimeout: a target silent past the timeout is given up and the next one tried', async () => {
    const c = await callee('uas-silent.xml');
    const b = await callee('uas-answer-no-rr.xml');
    plan = { destinations: [at(c), at(b)], opts: { provisionalTimeout: '200ms' } };
    expectClean(await call('uac-proxy-norr.xml'), await c.done, await b.done);
    const r = await proxied();
    expect(r.connected).toBe(true);
    expect(r.responses.flatMap((x) => x.msgs.map((m) => m.status))).toEqual([200]);
  });

  it('a 407 from a target ends the search; the retry with credentials goes to that target alone (§7 step 2)', async () => {
    const b = await callee('uas-answer-no-rr.xml'); // never reached: the search stops at the challenge
    const c = await callee('uas-407-then-200.xml');
    nextPlans = [
      { destinations: [at(c), at(b)], opts: {} },
      { destinations: [at(b)], opts: {} },
    ];
    try {
      expectClean(await call('uac-proxy-auth.xml'), await c.done);
      const r = await proxied();
      expect(r.connected).toBe(true);
      expect(r.responses.flatMap((x) => x.msgs.map((m) => m.status))).toEqual([200]);
    } finally {
      nextPlans = [];
      b.kill();
    }
  });

  it('no target can be tried: the caller still gets a final response (500) and the app NOK', async () => {
    plan = { destinations: [`sip:bob@${edge.ip}:5999;transport=sctp`], opts: {} };
    expectClean(await call('uac-expect-500.xml'));
    const r = await outcome;
    expect(r).toBeInstanceOf(Error);
    expect(String(r)).toContain('error proxying request');
  });
});
