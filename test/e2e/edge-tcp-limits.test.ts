/**
 * TCP exhaustion: the edge caps inbound connections per source address and in total, and closes
 * connections idle longer than the timeout, so one source holding idle connections cannot take the
 * descriptors every other caller needs. Real sockets over loopback; a drachtio-srf app answers
 * OPTIONS; every wait is for an event, bounded.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectApp, edgeOf, startEdge, until, type TestEdge } from '../support/edge-apps/edge-harness.ts';
import { randomLoopback } from '../support/edge-apps/ports.ts';
import { asResponse, type SrfApp } from '../support/edge-apps/srf-views.ts';
import { onlyOnEdge } from '../support/sip-server-under-test.ts';

const PER_SOURCE = 50;
const TOTAL = 80;
const IDLE_MS = 1500;

interface Client {
  socket: Socket;
  closed: boolean;
  closedAt: number;
  data: string;
  connected: Promise<boolean>;
}

const opened: Client[] = [];
afterEach(() => {
  while (opened.length > 0) opened.pop()!.socket.destroy();
});

/** A TCP connection from `ip` to the edge; `connected` resolves false if it could not connect. */
function open(edge: TestEdge, ip: string): Client {
  const socket = connect({ host: edge.ip, port: edge.sipPort, localAddress: ip });
  const c: Client = { socket, closed: false, closedAt: 0, data: '', connected: Promise.resolve(false) };
  c.connected = new Promise((resolve) => {
    socket.once('connect', () => resolve(true));
    socket.once('error', () => resolve(false));
  });
  socket.on('error', () => undefined);
  socket.on('data', (d: Buffer) => {
    c.data += d.toString();
  });
  socket.on('close', () => {
    c.closed = true;
    c.closedAt = Date.now();
  });
  opened.push(c);
  return c;
}

let seq = 0;
/** Sends an OPTIONS on the connection and waits for its final response's status. */
async function options(edge: TestEdge, c: Client, timeoutMs = 5000): Promise<number> {
  const callId = `tcp-limit-${++seq}`;
  const { address, port } = c.socket.address() as { address: string; port: number };
  c.socket.write(
    `OPTIONS sip:${edge.sipHostport} SIP/2.0\r\nVia: SIP/2.0/TCP ${address}:${port};branch=z9hG4bK${callId}\r\n` +
      `From: <sip:probe@${address}>;tag=${callId}\r\nTo: <sip:${edge.sipHostport}>\r\nCall-ID: ${callId}\r\nCSeq: 1 OPTIONS\r\n` +
      `Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n`,
  );
  const pattern = new RegExp(`^SIP/2\\.0 (\\d{3})[^\\r]*\\r\\n(?:[^\\r]+\\r\\n)*?Call-ID: ${callId}\\r\\n`, 'm');
  await until(() => pattern.test(c.data) || c.closed, timeoutMs, `an answer to ${callId}`);
  const m = pattern.exec(c.data);
  if (!m) throw new Error(`connection closed before ${callId} was answered`);
  return Number(m[1]);
}

/** Two distinct loopback addresses other than the edge's. */
function sources(edge: TestEdge, n: number): string[] {
  const out: string[] = [];
  while (out.length < n) {
    const ip = randomLoopback();
    if (ip !== edge.ip && !out.includes(ip)) out.push(ip);
  }
  return out;
}

async function edgeWithApp(tcp: {
  idleTimeoutMs?: number;
  maxConnectionsPerSource?: number;
  maxConnections?: number;
}): Promise<{ edge: TestEdge; srf: SrfApp }> {
  const edge = await startEdge({ tcp });
  const srf = await connectApp(edge);
  srf.options((_req, res) => asResponse(res).send(200));
  return { edge, srf };
}

describe.skipIf(onlyOnEdge)('edge TCP: connection caps', () => {
  let edge: TestEdge;
  let srf: SrfApp;
  beforeAll(async () => {
    ({ edge, srf } = await edgeWithApp({ maxConnectionsPerSource: PER_SOURCE, maxConnections: TOTAL, idleTimeoutMs: 60_000 }));
  });
  afterAll(async () => {
    srf.disconnect();
    await edge.stop();
  });

  it(`one source opening ${PER_SOURCE + 10} idle connections keeps ${PER_SOURCE}: the rest are closed; another source is still answered`, async () => {
    const [flooder, other] = sources(edge, 2) as [string, string];
    const flood = Array.from({ length: PER_SOURCE + 10 }, () => open(edge, flooder));
    await Promise.all(flood.map((c) => c.connected));
    await until(() => flood.filter((c) => c.closed).length >= 10, 5000, 'the connections over the cap closed');
    const kept = flood.filter((c) => !c.closed);
    // the edge has processed every accept by the time a kept connection is answered
    expect(await options(edge, kept[kept.length - 1]!)).toBe(200);
    expect(flood.filter((c) => c.closed)).toHaveLength(10);
    expect(edgeOf(edge).transport.connectionCount).toBe(PER_SOURCE);
    // the first connection still works, and a new source gets answers
    expect(await options(edge, kept[0]!)).toBe(200);
    const fresh = open(edge, other);
    expect(await fresh.connected).toBe(true);
    expect(await options(edge, fresh)).toBe(200);
  });

  it(`no more than ${TOTAL} connections in all: the ones over the global cap are closed, and a slot frees when one closes`, async () => {
    const [a, b, c] = sources(edge, 3) as [string, string, string];
    const first = Array.from({ length: PER_SOURCE }, () => open(edge, a));
    await Promise.all(first.map((x) => x.connected));
    expect(await options(edge, first[0]!)).toBe(200);
    const second = Array.from({ length: PER_SOURCE }, () => open(edge, b));
    await Promise.all(second.map((x) => x.connected));
    await until(() => second.filter((x) => x.closed).length >= 2 * PER_SOURCE - TOTAL, 5000, 'the connections over the global cap closed');
    const keptB = second.filter((x) => !x.closed);
    expect(await options(edge, keptB[0]!)).toBe(200);
    expect(second.filter((x) => x.closed)).toHaveLength(2 * PER_SOURCE - TOTAL);
    expect(edgeOf(edge).transport.connectionCount).toBe(TOTAL);
    // full: a third source is closed at once; after one connection goes away it gets in
    const refused = open(edge, c);
    await refused.connected;
    await until(() => refused.closed, 5000, 'the connection over the global cap closed');
    first[0]!.socket.destroy();
    await until(() => edgeOf(edge).transport.connectionCount === TOTAL - 1, 5000, 'the edge noticed the close');
    const admitted = open(edge, c);
    expect(await admitted.connected).toBe(true);
    expect(await options(edge, admitted)).toBe(200);
  });
});

describe.skipIf(onlyOnEdge)('edge TCP: idle timeout', () => {
  let edge: TestEdge;
  let srf: SrfApp;
  beforeAll(async () => {
    ({ edge, srf } = await edgeWithApp({ idleTimeoutMs: IDLE_MS }));
  });
  afterAll(async () => {
    srf.disconnect();
    await edge.stop();
  });

  it('a connection idle for the timeout is closed by the edge; one that keeps talking stays open past it, then is closed once silent', async () => {
    const [ip] = sources(edge, 1) as [string];
    // lower bounds only: the edge cannot have seen a connection before it was asked for, nor a request before it was sent
    const start = Date.now();
    const idle = open(edge, ip);
    const busy = open(edge, ip);
    expect(await idle.connected).toBe(true);
    expect(await busy.connected).toBe(true);
    let lastSent = 0;
    // busy: a request every 100 ms (never silent for long) until well past the timeout
    let answered = 0;
    while (Date.now() - start < 2 * IDLE_MS) {
      lastSent = Date.now();
      expect(await options(edge, busy)).toBe(200);
      answered += 1;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(idle.closed).toBe(true);
    expect(idle.closedAt - start).toBeGreaterThanOrEqual(IDLE_MS - 5);
    expect(busy.closed).toBe(false);
    expect(answered).toBeGreaterThan(5);
    await until(() => busy.closed, 5000, 'the busy connection closed once silent');
    expect(busy.closedAt - lastSent).toBeGreaterThanOrEqual(IDLE_MS - 5);
    await until(() => edgeOf(edge).transport.connectionCount === 0, 2000, 'the edge forgot both');
  });
});
