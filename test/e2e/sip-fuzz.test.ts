/**
 * The seeded SIP fuzzer against the edge and the app together (test/support/sip-fuzzer.ts makes
 * the messages): by default 20,000 mutated UDP datagrams, from a device address and from a
 * trusted carrier address, and 1,000 mutated messages over TCP connections. Afterwards nothing
 * has thrown, every transaction and pending request the fuzz left has expired, valid OPTIONS,
 * REGISTER and INVITE are answered as before (the INVITE is a whole call, rated and settled), and
 * the process's memory is back within a bound (heap after a full collection, and resident set). More by SIP_FUZZ_UDP / SIP_FUZZ_TCP; another run by
 * SIP_FUZZ_SEED (the seed is in the test's name, so a failure names the run that reproduces it).
 *
 * UDP is paced: after every batch the fuzzer sends an OPTIONS from the same socket and waits for
 * its 200, so the datagrams are processed, not dropped from a full socket buffer.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { edgeOf } from '../support/edge-apps/edge-harness.ts';
import { randomLoopback } from '../support/edge-apps/ports.ts';
import { onlyOnEdge } from '../support/sip-server-under-test.ts';
import { fuzzMessage, Rng, type FuzzContext } from '../support/sip-fuzzer.ts';
import { clean, REALM, SipAppHarness } from '../support/sip-app-harness.ts';
import type { Device } from '../support/sip-app-harness.ts';

const SEED = Number(process.env.SIP_FUZZ_SEED ?? 20261207);
const UDP_MESSAGES = Number(process.env.SIP_FUZZ_UDP ?? 20_000);
const TCP_MESSAGES = Number(process.env.SIP_FUZZ_TCP ?? 1_000);
const BATCH = 200;
/**
 * What the process may have grown by after the fuzz, once its state has expired and the heap is
 * collected: the heap by little (a leak of 1.6 KB per message would exceed it; the default run
 * grows it by about 3 MB), the resident set by more (the allocator keeps pages the large mutated
 * messages used: about 80 MB after the default run, 180 MB after 60,000 datagrams).
 */
const HEAP_BOUND_MB = 32;
const RSS_BOUND_MB = 256;

// a full garbage collection on demand, so what the heap holds after the fuzz is measured, not what awaits collection
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

/** Heap in use after a full collection, and the resident set size, in MB. */
function memory(): { heapMb: number; rssMb: number } {
  collectGarbage();
  const m = process.memoryUsage();
  return { heapMb: m.heapUsed / 2 ** 20, rssMb: m.rss / 2 ** 20 };
}

let h: SipAppHarness;
let dev: Device;
const uncaught: unknown[] = [];
const onUncaught = (err: unknown): void => {
  uncaught.push(err);
};

beforeAll(async () => {
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUncaught);
  h = await SipAppHarness.start('sipfuzz', { gateways: 1 });
  dev = await h.device(1_000_000);
});
afterAll(async () => {
  process.off('uncaughtException', onUncaught);
  process.off('unhandledRejection', onUncaught);
  await h.stop();
});
afterEach(async () => {
  await h.expectMoneyInvariant();
});

/** A UDP socket on `ip` that resolves waiters for a Call-ID's final response. */
async function udpSocket(
  ip: string,
): Promise<{ socket: UdpSocket; local: string; answered(callId: string, timeoutMs: number): Promise<boolean>; received: () => number }> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, ip, () => resolve()));
  const waiting = new Map<string, () => void>();
  let received = 0;
  socket.on('message', (m) => {
    received += 1;
    const text = m.toString('latin1');
    if (!/^SIP\/2\.0 [2-6]\d\d/.test(text)) return;
    const callId = /^Call-ID: (.*)$/m.exec(text)?.[1]?.trim();
    if (callId !== undefined) waiting.get(callId)?.();
  });
  return {
    socket,
    local: `${ip}:${socket.address().port}`,
    received: () => received,
    answered: (callId, timeoutMs) =>
      new Promise((resolve) => {
        const t = setTimeout(() => {
          waiting.delete(callId);
          resolve(false);
        }, timeoutMs);
        waiting.set(callId, () => {
          clearTimeout(t);
          waiting.delete(callId);
          resolve(true);
        });
      }),
  };
}

/** A loopback address that is neither the devices' (the checks afterwards use it) nor the carrier's. */
function otherLoopback(): string {
  for (;;) {
    const ip = randomLoopback();
    if (ip !== h.deviceIp && ip !== h.carrierIp) return ip;
  }
}

let seq = 0;
function options(local: string, proto: 'UDP' | 'TCP'): { callId: string; text: string } {
  const callId = `fuzz-probe-${++seq}`;
  return {
    callId,
    text:
      `OPTIONS sip:${h.remote} SIP/2.0\r\nVia: SIP/2.0/${proto} ${local};rport;branch=z9hG4bK${callId}\r\nMax-Forwards: 70\r\n` +
      `From: <sip:probe@${REALM}>;tag=${callId}\r\nTo: <sip:${h.remote}>\r\nCall-ID: ${callId}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`,
  };
}

/** Sends OPTIONS until one is answered (a datagram may be lost in a full buffer); false after `tries`. */
async function probe(s: Awaited<ReturnType<typeof udpSocket>>, tries = 5): Promise<boolean> {
  const [ip, port] = h.remote.split(':') as [string, string];
  for (let i = 0; i < tries; i++) {
    const o = options(s.local, 'UDP');
    const answered = s.answered(o.callId, 2000);
    s.socket.send(o.text, Number(port), ip);
    if (await answered) return true;
  }
  return false;
}

async function fuzzUdp(rng: Rng, count: number): Promise<{ sent: number; answers: number }> {
  const [ip, port] = h.remote.split(':') as [string, string];
  const device = await udpSocket(otherLoopback());
  const carrier = await udpSocket(h.carrierIp);
  try {
    let sent = 0;
    while (sent < count) {
      const n = Math.min(BATCH, count - sent);
      for (let i = 0; i < n; i++) {
        const from = rng.chance(0.75) ? device : carrier;
        const ctx: FuzzContext = { local: from.local, edge: h.remote, user: dev.username, realm: REALM };
        from.socket.send(fuzzMessage(rng, ctx), Number(port), ip);
      }
      sent += n;
      expect(await probe(device), `the edge stopped answering after ${sent} datagrams (seed ${SEED})`).toBe(true);
    }
    return { sent, answers: device.received() + carrier.received() };
  } finally {
    device.socket.close();
    carrier.socket.close();
  }
}

/** `count` mutated messages over TCP, a few connections at a time, each ended after its share. */
async function fuzzTcp(rng: Rng, count: number): Promise<{ sent: number; connections: number }> {
  const [ip, port] = h.remote.split(':') as [string, string];
  const source = otherLoopback();
  let sent = 0;
  let connections = 0;
  const oneConnection = async (share: number): Promise<void> => {
    const socket = connect({ host: ip, port: Number(port), localAddress: source });
    socket.on('error', () => undefined);
    socket.on('data', () => undefined);
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    const opened = await new Promise<boolean>((resolve) => {
      socket.once('connect', () => resolve(true));
      socket.once('error', () => resolve(false));
    });
    connections += 1;
    if (opened) {
      const local = `${source}:${socket.localPort ?? 0}`;
      for (let i = 0; i < share && !socket.destroyed; i++) {
        socket.write(fuzzMessage(rng, { local, edge: h.remote, user: dev.username, realm: REALM }));
      }
      socket.end();
    }
    sent += share;
    // the edge closes its side once it has read everything (or at a framing error); bounded
    const t = setTimeout(() => socket.destroy(), 3000);
    await closed;
    clearTimeout(t);
  };
  while (sent < count) {
    const shares = Array.from({ length: 4 }, () => Math.min(1 + rng.int(50), Math.max(0, count - sent)));
    const batch = shares.filter((s) => s > 0);
    let reserved = 0;
    await Promise.all(
      batch.map((s) => {
        reserved += s;
        return oneConnection(s);
      }),
    );
    if (reserved === 0) break;
  }
  return { sent, connections };
}

async function until(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(onlyOnEdge)(`SIP fuzz (seed ${SEED})`, () => {
  it(`${UDP_MESSAGES} mutated UDP datagrams and ${TCP_MESSAGES} TCP messages: nothing throws, state expires, valid OPTIONS/REGISTER/INVITE answered, memory bounded`, async () => {
    // warm up: one whole call, so the memory baseline includes what a call needs
    const warm = h.carrier(0, 'uas-answer-recv-bye.xml');
    clean(await h.run({ scenario: 'device-call.xml', service: '00441632960001', user: dev.username, password: dev.password, pauseMs: 200 }), await warm.done);
    const baseline = memory();

    const rng = new Rng(SEED);
    const udp = await fuzzUdp(rng, UDP_MESSAGES);
    const tcp = await fuzzTcp(rng, TCP_MESSAGES);
    expect(udp.sent).toBeGreaterThanOrEqual(UDP_MESSAGES);
    expect(tcp.sent).toBeGreaterThanOrEqual(TCP_MESSAGES);
    expect(uncaught, `uncaught errors (seed ${SEED})`).toEqual([]);

    // every transaction, pending request and dialog the fuzz left expires (Timer H/J, 64·T1 = 3.2 s here)
    const edge = edgeOf(h.edge);
    await until(
      () =>
        edge.layer.size.server === 0 &&
        edge.layer.size.client === 0 &&
        edge.stats.serverRequests === 0 &&
        edge.stats.clientRequests === 0 &&
        edge.dialogs.size === 0,
      30_000,
      `the edge's state to expire (seed ${SEED})`,
    );
    expect(h.sip.callsInProgress).toBe(0);

    // valid traffic is answered as before: OPTIONS over UDP and TCP, REGISTER, a whole call
    const fresh = await udpSocket(h.deviceIp);
    try {
      expect(await probe(fresh, 1)).toBe(true);
    } finally {
      fresh.socket.close();
    }
    const [ip, port] = h.remote.split(':') as [string, string];
    const tcpOk = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: ip, port: Number(port), localAddress: h.deviceIp });
      const t = setTimeout(() => {
        socket.destroy();
        resolve(false);
      }, 5000);
      socket.on('error', () => {
        clearTimeout(t);
        resolve(false);
      });
      socket.once('connect', () => socket.write(options(`${h.deviceIp}:${socket.localPort ?? 0}`, 'TCP').text));
      socket.on('data', (d: Buffer) => {
        if (/^SIP\/2\.0 200 /.test(d.toString())) {
          clearTimeout(t);
          socket.destroy();
          resolve(true);
        }
      });
    });
    expect(tcpOk).toBe(true);
    clean(await h.run({ scenario: 'register.xml', user: dev.username, password: dev.password }));
    clean(await h.run({ scenario: 'unregister.xml', user: dev.username, password: dev.password }));
    const before = h.settled.length;
    const carrier = h.carrier(0, 'uas-answer-recv-bye.xml');
    clean(
      await h.run({ scenario: 'device-call.xml', service: '00441632960001', user: dev.username, password: dev.password, pauseMs: 500 }),
      await carrier.done,
    );
    await h.waitSettled(before + 1);
    expect(h.settled[h.settled.length - 1]?.disposition).toBe('answered');

    const after = memory();
    expect(after.heapMb - baseline.heapMb, `heap grew from ${baseline.heapMb.toFixed(0)} to ${after.heapMb.toFixed(0)} MB (seed ${SEED})`).toBeLessThan(
      HEAP_BOUND_MB,
    );
    expect(after.rssMb - baseline.rssMb, `RSS grew from ${baseline.rssMb.toFixed(0)} to ${after.rssMb.toFixed(0)} MB (seed ${SEED})`).toBeLessThan(
      RSS_BOUND_MB,
    );
    expect(uncaught).toEqual([]);
  }, 180_000);
});
