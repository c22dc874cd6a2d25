/**
 * The edge as its own process (`bin/softswitch-edge.js`): SIGTERM with a call up ends it at once,
 * as drachtio-server does. Nothing is drained and no BYE is sent (the app, reconnecting to the
 * restarted server, ends its calls); the process does not wait for peers to close their side of
 * a connection. Asserted by behaviour, not by duration: the process exits while a call is up and
 * while an app connection is held half-open by a peer that never closes it.
 */
import { connect, type Socket } from 'node:net';
import Srf from 'drachtio-srf';
import { afterEach, describe, expect, it } from 'vitest';
import { deferred } from '../support/edge-apps/edge-harness.ts';
import { spawnEdgeProcess, type EdgeProcess } from '../support/edge-apps/edge-process.ts';
import { startSipp, type SippProcess } from '../support/edge-apps/sipp-runner.ts';
import { SDP, asDialog, type SrfApp } from '../support/edge-apps/srf-views.ts';
import { onlyOnEdge } from '../support/sip-server-under-test.ts';

const SECRET = 'process-test';

const spawnEdge = () => spawnEdgeProcess(SECRET);

async function connectApp(edge: EdgeProcess): Promise<SrfApp> {
  const srf = new Srf();
  await new Promise<void>((res, rej) => {
    srf.once('connect', (err: unknown) => (err ? rej(err instanceof Error ? err : new Error(String(err))) : res()));
    void srf.connect({ host: edge.ip, port: edge.adminPort, secret: SECRET }); // the outcome arrives as 'connect'
  });
  srf.on('error', () => undefined);
  return srf as unknown as SrfApp;
}

/** A peer on the control port that never closes its side (a busy or stuck app). */
function halfOpenPeer(edge: EdgeProcess): Promise<{ socket: Socket; ended: Promise<void> }> {
  return new Promise((res, rej) => {
    const socket = connect({ host: edge.ip, port: edge.adminPort, allowHalfOpen: true }, () => {
      const ended = new Promise<void>((r) => {
        socket.once('end', () => r());
        socket.once('close', () => r());
      });
      res({ socket, ended });
    });
    socket.once('error', rej);
  });
}

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

describe.skipIf(onlyOnEdge).each(['udp', 'tcp'] as const)('edge process SIGTERM with a call up (%s)', (transport) => {
  it('exits with status 0 at once: no drain, no wait for a peer that holds its connection open', async () => {
    const edge = await spawnEdge();
    cleanups.push(() => {
      if (edge.child.exitCode === null) edge.child.kill('SIGKILL');
    });
    const srf = await connectApp(edge);
    const peer = await halfOpenPeer(edge);
    cleanups.push(() => peer.socket.destroy());
    const up = deferred();
    srf.invite((req, res) => {
      void srf.createUAS(req, res, { localSdp: SDP }).then((d) => asDialog(d).on('ack', () => up.resolve()));
    });
    const caller: SippProcess = startSipp({ scenario: 'uac-recv-bye.xml', localIp: edge.ip, remote: `${edge.ip}:${edge.sipPort}`, transport, timeoutSec: 15 });
    cleanups.push(() => caller.kill());
    await up.promise;

    edge.child.kill('SIGTERM');
    // Bounded only so that a regression fails instead of hanging; the assertion is that it exits.
    const outcome = await Promise.race([edge.exited, new Promise<'still running'>((r) => setTimeout(() => r('still running'), 10_000))]);
    expect(outcome).toEqual({ code: 0, signal: null });
    // The edge closed its side of every control connection.
    await peer.ended;
  });
});
