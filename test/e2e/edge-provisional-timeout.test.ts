/**
 * The SIP server's provisional timeout (EDGE_INVITE_PROVISIONAL_TIMEOUT_MS): an app's INVITE that
 * hears nothing at all is given up with 408 to the app; the target is not left with a call when
 * it answers late: a late provisional is CANCELled, a late 200 is ACKed and BYEd.
 */
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectApp, startEdge, type TestEdge } from '../support/edge-apps/edge-harness.ts';
import { SDP, type SrfApp } from '../support/edge-apps/srf-views.ts';
import { randomPort } from '../support/edge-apps/ports.ts';
import { onlyOnEdge } from '../support/sip-server-under-test.ts';

const TIMEOUT_MS = 300;
let edge: TestEdge;
let srf: SrfApp;
beforeAll(async () => {
  edge = await startEdge({ timers: { inviteProvisionalMs: TIMEOUT_MS } });
  srf = await connectApp(edge);
});
afterAll(async () => {
  srf.disconnect();
  await edge.stop();
});

/** A target that records what it receives and answers only when told. */
async function silentTarget(): Promise<{
  sock: Socket;
  port: number;
  got: string[];
  invite: () => Promise<{ text: string; from: { address: string; port: number } }>;
}> {
  const sock = createSocket('udp4');
  const got: string[] = [];
  let first: ((v: { text: string; from: { address: string; port: number } }) => void) | undefined;
  const invited = new Promise<{ text: string; from: { address: string; port: number } }>((r) => (first = r));
  sock.on('message', (m, from) => {
    const text = m.toString('latin1');
    got.push(text);
    if (text.startsWith('INVITE ')) first?.({ text, from });
  });
  const port = randomPort();
  await new Promise<void>((resolve) => sock.bind(port, edge.ip, resolve));
  return { sock, port, got, invite: () => invited };
}

function responseTo(invite: string, status: string, port: number): string {
  const keep = invite.split('\r\n').filter((l) => /^(via|from|call-id|cseq):/i.test(l));
  const to = invite.split('\r\n').find((l) => /^to:/i.test(l))!;
  return [`SIP/2.0 ${status}`, ...keep, `${to};tag=late`, `Contact: <sip:bob@${edge.ip}:${port}>`, 'Content-Length: 0', '', ''].join('\r\n');
}

const waitFor = async (what: () => boolean, ms = 3000) => {
  const end = Date.now() + ms;
  while (!what() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  return what();
};

describe.skipIf(onlyOnEdge)('SIP server: provisional timeout of an app INVITE', () => {
  it('nothing at all: 408 to the app at the timeout; a late 200 is ACKed and BYEd by the server', async () => {
    const t = await silentTarget();
    try {
      const started = Date.now();
      const err = await srf.createUAC(`sip:bob@${edge.ip}:${t.port}`, { localSdp: SDP }).then(
        () => undefined,
        (e: unknown) => e as { status?: number },
      );
      expect(err?.status).toBe(408);
      expect(Date.now() - started).toBeLessThan(TIMEOUT_MS + 1500);
      const { text, from } = await t.invite();
      t.sock.send(Buffer.from(responseTo(text, '200 OK', t.port)), from.port, from.address);
      expect(await waitFor(() => t.got.some((m) => m.startsWith('ACK ')) && t.got.some((m) => m.startsWith('BYE ')))).toBe(true);
      expect(t.got.filter((m) => m.startsWith('CANCEL '))).toHaveLength(0);
    } finally {
      t.sock.close();
    }
  });

  it('a late 180 after the timeout: the server sends the CANCEL it now owes', async () => {
    const t = await silentTarget();
    try {
      const err = await srf.createUAC(`sip:bob@${edge.ip}:${t.port}`, { localSdp: SDP }).then(
        () => undefined,
        (e: unknown) => e as { status?: number },
      );
      expect(err?.status).toBe(408);
      const { text, from } = await t.invite();
      t.sock.send(Buffer.from(responseTo(text, '180 Ringing', t.port)), from.port, from.address);
      expect(await waitFor(() => t.got.some((m) => m.startsWith('CANCEL ')))).toBe(true);
    } finally {
      t.sock.close();
    }
  });
});
