/**
 * The DRACHTIO_BIN path of the TEST_SIP_SERVER=drachtio switch, run with a stand-in for the
 * drachtio executable (test/support/fake-drachtio: the embedded edge reading the configuration
 * file drachtio would): the harness writes a configuration drachtio reads (`-f`), waits for the
 * admin port, hands its address and secret to the app, gives the SIP address to SIPp, writes the
 * spammer list, and stops the process. It does not, and cannot, test drachtio-server itself.
 */
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDrachtioServer, type DrachtioServer } from '../support/drachtio-server-process.ts';
import { connectApp, type TestEdge } from '../support/edge-apps/edge-harness.ts';
import { runSipp } from '../support/edge-apps/sipp-runner.ts';
import { asResponse, type SrfApp } from '../support/edge-apps/srf-views.ts';

const STAND_IN = resolve(import.meta.dirname, '../support/fake-drachtio/drachtio');

let server: DrachtioServer;
let srf: SrfApp;
let answered = 0;

beforeAll(async () => {
  server = await startDrachtioServer(STAND_IN, 'harness-secret');
  const asTestEdge: TestEdge = {
    kind: 'drachtio',
    edge: undefined,
    config: undefined,
    ip: server.ip,
    sipPort: server.sipPort,
    adminPort: server.adminPort,
    secret: server.secret,
    sipHostport: `${server.ip}:${server.sipPort}`,
    stop: () => server.stop(),
  };
  srf = await connectApp(asTestEdge);
  srf.options((_req, res) => {
    answered++;
    asResponse(res).send(200);
  });
});
afterAll(async () => {
  srf?.disconnect();
  await server?.stop();
});

describe('a drachtio executable started by the test harness (stand-in)', () => {
  it.each(['udp', 'tcp'] as const)('an app connects with the secret written for it and answers OPTIONS over %s', async (transport) => {
    const before = answered;
    const run = await runSipp({ scenario: 'uac-options.xml', localIp: server.ip, remote: `${server.ip}:${server.sipPort}`, transport, timeoutSec: 10 });
    expect(run.errors).toBe('');
    expect(run.code).toBe(0);
    expect(answered).toBe(before + 1);
  });

  it("the configuration carries the spammer list: a scanner's OPTIONS gets 603 and never reaches the app", async () => {
    const before = answered;
    const run = await runSipp({ scenario: 'uac-scanner-options-expect-603.xml', localIp: server.ip, remote: `${server.ip}:${server.sipPort}`, timeoutSec: 10 });
    expect(run.errors).toBe('');
    expect(run.code).toBe(0);
    expect(answered).toBe(before);
  });

  it('a binary that never opens its admin port is given up with its output in the error', async () => {
    await expect(startDrachtioServer('/bin/false', 'x')).rejects.toThrow(/did not start after 5 attempts/);
  });
});
