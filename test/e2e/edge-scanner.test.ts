/**
 * Scanners: a request whose User-Agent contains a value of the configured spammer list is answered
 * 603 Decline by the edge itself, before any app sees it (as drachtio-server does with
 * `<spammers>`, whatever its action says); other requests still reach the app.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectApp, startEdge, type TestEdge } from '../support/edge-apps/edge-harness.ts';
import { runSipp } from '../support/edge-apps/sipp-runner.ts';
import { asResponse, type SrfApp } from '../support/edge-apps/srf-views.ts';

let edge: TestEdge;
let srf: SrfApp;
let delivered = 0;

beforeAll(async () => {
  edge = await startEdge();
  srf = await connectApp(edge);
  srf.invite((_req, res) => {
    delivered++;
    asResponse(res).send(403);
  });
  srf.options((_req, res) => {
    delivered++;
    asResponse(res).send(200);
  });
});
afterAll(async () => {
  srf.disconnect();
  await edge.stop();
});

describe.each(['udp', 'tcp'] as const)('edge scanner filter over %s', (transport) => {
  it.each(['uac-scanner-expect-603.xml', 'uac-scanner-options-expect-603.xml'])('%s: 603 Decline from the edge, nothing delivered', async (scenario) => {
    const before = delivered;
    const result = await runSipp({ scenario, localIp: edge.ip, remote: edge.sipHostport, transport, timeoutSec: 10 });
    expect(result.errors).toBe('');
    expect(result.code).toBe(0);
    expect(delivered).toBe(before);
  });

  it('an ordinary User-Agent still reaches the app', async () => {
    const before = delivered;
    const result = await runSipp({ scenario: 'uac-options.xml', localIp: edge.ip, remote: edge.sipHostport, transport, timeoutSec: 10 });
    expect(result.errors).toBe('');
    expect(result.code).toBe(0);
    expect(delivered).toBe(before + 1);
  });
});
