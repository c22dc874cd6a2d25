/**
 * The transport on real loopback sockets (127.0.0.1 and ::1): UDP and TCP, both directions,
 * framing on live connections, oversize and garbage, connection reuse, the rate hook.
 * Every wait is for an event; nothing sleeps.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createResponse, parseMessage, type SipMessage, type SipParseError, type SipRequest } from '../../src/edge/message/index.ts';
import { SipTransport, responseTarget, stampReceived, type SourceInfo, type TransportUser } from '../../src/edge/transport/index.ts';

interface Received {
  message: SipMessage;
  source: SourceInfo;
}

class Recorder implements TransportUser {
  readonly messages: Received[] = [];
  readonly malformed: Array<{ error: SipParseError; source: SourceInfo }> = [];
  private waiters: Array<() => void> = [];

  onMessage(message: SipMessage, source: SourceInfo): void {
    this.messages.push({ message, source });
    this.wake();
  }

  onMalformed(error: SipParseError, source: SourceInfo): void {
    this.malformed.push({ error, source });
    this.wake();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Resolves once `count` messages (and `malformed` parse failures) have arrived. */
  async until(count: number, malformed = 0): Promise<void> {
    while (this.messages.length < count || this.malformed.length < malformed) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }
}

function request(callId: string, opts: { proto?: string; host?: string; body?: string; method?: string } = {}): string {
  const body = opts.body ?? '';
  const method = opts.method ?? 'OPTIONS';
  return (
    `${method} sip:edge@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/${opts.proto ?? 'UDP'} ${opts.host ?? '127.0.0.1:5999'};branch=z9hG4bK${callId}\r\n` +
    `From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:edge@127.0.0.1>\r\nCall-ID: ${callId}\r\nCSeq: 1 ${method}\r\nMax-Forwards: 70\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  );
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function startTransport(
  listen: ConstructorParameters<typeof SipTransport>[0]['listen'],
  extra: Partial<ConstructorParameters<typeof SipTransport>[0]> = {},
): Promise<{ transport: SipTransport; user: Recorder }> {
  const transport = new SipTransport({ listen, ...extra });
  const user = new Recorder();
  await transport.start(user);
  cleanups.push(() => transport.stop());
  return { transport, user };
}

function udpClient(type: 'udp4' | 'udp6', address: string): Promise<UdpSocket> {
  return new Promise((resolve) => {
    const s = createSocket(type);
    s.bind(0, address, () => resolve(s));
    cleanups.push(() => new Promise<void>((r) => s.close(() => r())));
  });
}

function nextDatagram(s: UdpSocket): Promise<Buffer> {
  return new Promise((resolve) => s.once('message', (m) => resolve(m)));
}

function tcpClient(host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port }, () => resolve(s));
    s.once('error', reject);
    cleanups.push(() => {
      s.destroy();
    });
  });
}

function readUntil(s: Socket, predicate: (text: string) => boolean): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const onData = (chunk: Buffer): void => {
      text += chunk.toString('utf8');
      if (predicate(text)) {
        s.off('data', onData);
        resolve(text);
      }
    };
    s.on('data', onData);
  });
}

function closed(s: Socket): Promise<void> {
  return new Promise((resolve) => {
    if (s.destroyed) resolve();
    else s.once('close', () => resolve());
  });
}

describe('edge transport: UDP', () => {
  for (const [family, address, type] of [
    ['IPv4', '127.0.0.1', 'udp4'],
    ['IPv6', '::1', 'udp6'],
  ] as const) {
    it(`receives a request and answers it to the source (${family}, §18.2.2, RFC 3581)`, async () => {
      const { transport, user } = await startTransport([{ protocol: 'udp', address, port: 0 }]);
      const point = transport.listenPoints()[0];
      if (point === undefined) throw new Error('no listen point');
      expect(point.port).toBeGreaterThan(0);
      const client = await udpClient(type, address);
      const via = family === 'IPv6' ? '[::1]:5999' : '192.0.2.1:5999';
      client.send(request('u1', { host: via }), point.port, address);
      await user.until(1);
      const got = user.messages[0];
      if (got === undefined || got.message.kind !== 'request') throw new Error('no request');
      expect(got.source).toEqual({
        protocol: 'udp',
        remoteAddress: address,
        remotePort: client.address().port,
        localAddress: address,
        localPort: point.port,
        connectionId: 0,
      });
      // §18.2.1 received= when the sent-by host differs; rport filled as the reference server does.
      const top = got.message.topVia;
      expect(top?.rport).toBe(client.address().port);
      expect(top?.received).toBe(family === 'IPv4' ? '127.0.0.1' : undefined);
      const response = createResponse(got.message, 200, { toTag: 'abc' });
      const reply = nextDatagram(client);
      const result = await transport.send(response, responseTarget(got.message.topVia, got.source));
      expect(result.ok).toBe(true);
      const parsed = parseMessage(await reply);
      expect(parsed.ok && parsed.message.kind === 'response' && parsed.message.status).toBe(200);
    });
  }

  it('reports malformed datagrams with their partial and ignores keep-alive CRLFs', async () => {
    const { transport, user } = await startTransport([{ protocol: 'udp', address: '127.0.0.1', port: 0 }]);
    const port = transport.listenPoints()[0]?.port ?? 0;
    const client = await udpClient('udp4', '127.0.0.1');
    client.send('\r\n\r\n', port, '127.0.0.1');
    client.send(request('bad').replace('Call-ID: bad\r\n', ''), port, '127.0.0.1');
    client.send(request('good'), port, '127.0.0.1');
    await user.until(1, 1);
    expect(user.malformed[0]?.error.code).toBe('MISSING_HEADER');
    expect(user.malformed[0]?.error.partial?.kind).toBe('request');
    expect(user.messages.map((m) => m.message.callId)).toEqual(['good']);
  });

  it('drops datagrams the rate hook refuses and oversize datagrams', async () => {
    const seen: SourceInfo[] = [];
    const { transport, user } = await startTransport([{ protocol: 'udp', address: '127.0.0.1', port: 0 }], {
      maxMessageSize: 2000,
      rateLimiter: (source) => {
        seen.push(source);
        return seen.length !== 1;
      },
    });
    const port = transport.listenPoints()[0]?.port ?? 0;
    const client = await udpClient('udp4', '127.0.0.1');
    client.send(request('limited'), port, '127.0.0.1');
    client.send(request('huge', { body: 'x'.repeat(3000) }), port, '127.0.0.1');
    client.send(request('allowed'), port, '127.0.0.1');
    await user.until(1);
    expect(user.messages.map((m) => m.message.callId)).toEqual(['allowed']);
    expect(seen.length).toBe(2);
    // Oversize datagrams are dropped before the hook is asked.
    expect(seen.map((s) => s.remotePort)).toEqual([client.address().port, client.address().port]);
  });

  it('refuses to send to a name, to a family it does not listen on, and above the size limit', async () => {
    const { transport } = await startTransport([{ protocol: 'udp', address: '127.0.0.1', port: 0 }], { maxMessageSize: 1000 });
    const msg = parseMessage(request('x'));
    if (!msg.ok) throw new Error('bad fixture');
    expect(await transport.send(msg.message, { protocol: 'udp', address: 'example.com', port: 5060 })).toMatchObject({
      ok: false,
      error: { code: 'SEND_FAILED' },
    });
    expect(await transport.send(msg.message, { protocol: 'udp', address: '::1', port: 5060 })).toMatchObject({ ok: false, error: { code: 'NO_TRANSPORT' } });
    expect(await transport.send(msg.message, { protocol: 'tcp', address: '127.0.0.1', port: 5060 })).toMatchObject({
      ok: false,
      error: { code: 'NO_TRANSPORT' },
    });
    msg.message.setBody('x'.repeat(2000));
    expect(await transport.send(msg.message, { protocol: 'udp', address: '127.0.0.1', port: 5060 })).toMatchObject({ ok: false, error: { code: 'TOO_LARGE' } });
  });
});

describe('edge transport: TCP', () => {
  for (const [family, address] of [
    ['IPv4', '127.0.0.1'],
    ['IPv6', '::1'],
  ] as const) {
    it(`frames a request written one byte at a time and answers on the same connection (${family})`, async () => {
      const { transport, user } = await startTransport([
        { protocol: 'udp', address, port: 0 },
        { protocol: 'tcp', address, port: 0 },
      ]);
      const [udp, tcp] = transport.listenPoints();
      expect(tcp?.port).toBe(udp?.port);
      const client = await tcpClient(address, tcp?.port ?? 0);
      const bytes = Buffer.from(request('t1', { proto: 'TCP', body: 'héllo ✓' }));
      for (const b of bytes) client.write(Buffer.from([b]));
      await user.until(1);
      const got = user.messages[0];
      if (got === undefined || got.message.kind !== 'request') throw new Error('no request');
      expect(got.message.bodyText).toBe('héllo ✓');
      expect(got.source).toMatchObject({ protocol: 'tcp', remoteAddress: address, remotePort: client.localPort, localPort: tcp?.port });
      expect(got.source.connectionId).toBeGreaterThan(0);
      const reply = readUntil(client, (t) => t.includes('\r\n\r\n'));
      const result = await transport.send(createResponse(got.message, 200, { toTag: 'x' }), responseTarget(got.message.topVia, got.source));
      expect(result).toMatchObject({ ok: true, destination: { connectionId: got.source.connectionId } });
      expect(await reply).toMatch(/^SIP\/2\.0 200 OK\r\n/);
      expect(transport.connectionCount).toBe(1);
    });
  }

  it('frames coalesced requests from one write', async () => {
    const { transport, user } = await startTransport([{ protocol: 'tcp', address: '127.0.0.1', port: 0 }]);
    const client = await tcpClient('127.0.0.1', transport.listenPoints()[0]?.port ?? 0);
    client.write(request('c1', { proto: 'TCP' }) + request('c2', { proto: 'TCP', body: 'abc' }) + '\r\n' + request('c3', { proto: 'TCP' }));
    await user.until(3);
    expect(user.messages.map((m) => m.message.callId)).toEqual(['c1', 'c2', 'c3']);
  });

  it('answers a double-CRLF keep-alive with CRLF', async () => {
    const { transport } = await startTransport([{ protocol: 'tcp', address: '127.0.0.1', port: 0 }]);
    const client = await tcpClient('127.0.0.1', transport.listenPoints()[0]?.port ?? 0);
    const pong = readUntil(client, (t) => t === '\r\n');
    client.write('\r\n\r\n');
    expect(await pong).toBe('\r\n');
  });

  it('reports garbage that frames as malformed and keeps the connection', async () => {
    const { transport, user } = await startTransport([{ protocol: 'tcp', address: '127.0.0.1', port: 0 }]);
    const client = await tcpClient('127.0.0.1', transport.listenPoints()[0]?.port ?? 0);
    client.write('\u0000\u00ffnot sip at all\r\n\r\n');
    client.write(request('after-garbage', { proto: 'TCP' }));
    await user.until(1, 1);
    expect(user.malformed[0]?.error.code).toBe('BAD_START_LINE');
    expect(user.messages[0]?.message.callId).toBe('after-garbage');
  });

  it('closes the connection on an oversize message', async () => {
    const { transport, user } = await startTransport([{ protocol: 'tcp', address: '127.0.0.1', port: 0 }], { maxMessageSize: 1024 });
    const client = await tcpClient('127.0.0.1', transport.listenPoints()[0]?.port ?? 0);
    const done = closed(client);
    client.write(request('big', { proto: 'TCP', body: 'x'.repeat(4096) }));
    await done;
    expect(user.messages).toEqual([]);
  });

  it('closes the connection on a header block that never ends', async () => {
    const { transport } = await startTransport([{ protocol: 'tcp', address: '127.0.0.1', port: 0 }], { maxMessageSize: 1024 });
    const client = await tcpClient('127.0.0.1', transport.listenPoints()[0]?.port ?? 0);
    const done = closed(client);
    client.write('X'.repeat(2048));
    await done;
  });

  it('survives a truncated stream: the peer closes mid-message', async () => {
    const { transport, user } = await startTransport([{ protocol: 'tcp', address: '127.0.0.1', port: 0 }]);
    const port = transport.listenPoints()[0]?.port ?? 0;
    const first = await tcpClient('127.0.0.1', port);
    const text = request('cut', { proto: 'TCP', body: 'abcdef' });
    first.end(text.slice(0, text.length - 3));
    await closed(first);
    const second = await tcpClient('127.0.0.1', port);
    second.write(request('next', { proto: 'TCP' }));
    await user.until(1);
    expect(user.messages.map((m) => m.message.callId)).toEqual(['next']);
  });
});

describe('edge transport: outbound TCP', () => {
  async function peerServer(address: string): Promise<{ server: Server; port: number; sockets: Socket[]; received: () => Promise<string> }> {
    const sockets: Socket[] = [];
    let pending: ((text: string) => void) | undefined;
    let buffered = '';
    const server = createServer((s) => {
      sockets.push(s);
      s.on('data', (d: Buffer) => {
        buffered += d.toString();
        const end = buffered.indexOf('\r\n\r\n');
        if (end >= 0 && pending !== undefined) {
          const text = buffered.slice(0, end + 4);
          buffered = buffered.slice(end + 4);
          const p = pending;
          pending = undefined;
          p(text);
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, address, () => resolve()));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          for (const s of sockets) s.destroy();
          server.close(() => resolve());
        }),
    );
    const address_ = server.address();
    const port = typeof address_ === 'object' && address_ !== null ? address_.port : 0;
    return {
      server,
      port,
      sockets,
      received: () =>
        new Promise<string>((resolve) => {
          pending = resolve;
        }),
    };
  }

  for (const address of ['127.0.0.1', '::1']) {
    it(`connects on demand, caches the connection and receives on it (${address})`, async () => {
      const { transport, user } = await startTransport([{ protocol: 'tcp', address, port: 0 }]);
      const peer = await peerServer(address);
      const msg = parseMessage(request('out1', { proto: 'TCP' }));
      if (!msg.ok) throw new Error('bad fixture');
      const firstArrives = peer.received();
      const r1 = await transport.send(msg.message, { protocol: 'tcp', address, port: peer.port });
      expect(r1.ok).toBe(true);
      expect(await firstArrives).toContain('Call-ID: out1');
      const secondArrives = peer.received();
      const r2 = await transport.send(msg.message, { protocol: 'tcp', address: address === '::1' ? '[::1]' : address, port: peer.port });
      await secondArrives;
      expect(peer.sockets).toHaveLength(1);
      expect(r1.ok && r2.ok && r1.destination.connectionId === r2.destination.connectionId).toBe(true);
      // The peer answers on the same connection; the source is the outbound connection.
      peer.sockets[0]?.write(
        `SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP x;branch=z9hG4bKout1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: out1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`,
      );
      await user.until(1);
      expect(user.messages[0]?.source).toMatchObject({
        protocol: 'tcp',
        remoteAddress: address,
        remotePort: peer.port,
        connectionId: r1.ok ? r1.destination.connectionId : -1,
      });
    });
  }

  it('reports a refused connection as CONNECT_FAILED', async () => {
    const { transport } = await startTransport([{ protocol: 'tcp', address: '127.0.0.1', port: 0 }]);
    const peer = await peerServer('127.0.0.1');
    const port = peer.port;
    await new Promise<void>((resolve) => peer.server.close(() => resolve()));
    const msg = parseMessage(request('refused', { proto: 'TCP' }));
    if (!msg.ok) throw new Error('bad fixture');
    expect(await transport.send(msg.message, { protocol: 'tcp', address: '127.0.0.1', port })).toMatchObject({ ok: false, error: { code: 'CONNECT_FAILED' } });
  });

  it('falls back to a new connection when the request connection has closed (§18.2.2)', async () => {
    const { transport } = await startTransport([{ protocol: 'tcp', address: '127.0.0.1', port: 0 }]);
    const peer = await peerServer('127.0.0.1');
    const msg = parseMessage(request('fallback', { proto: 'TCP' }));
    if (!msg.ok) throw new Error('bad fixture');
    const arrives = peer.received();
    const result = await transport.send(msg.message, { protocol: 'tcp', address: '127.0.0.1', port: peer.port, connectionId: 987654 });
    expect(result.ok).toBe(true);
    expect(await arrives).toContain('Call-ID: fallback');
  });
});

describe('edge transport: response target rules', () => {
  const source: SourceInfo = { protocol: 'udp', remoteAddress: '192.0.2.7', remotePort: 40000, localAddress: '127.0.0.1', localPort: 5060, connectionId: 0 };
  function topVia(via: string): SipRequest {
    const r = parseMessage(request('rt').replace(/Via: [^\r]*/, `Via: ${via}`));
    if (!r.ok || r.message.kind !== 'request') throw new Error('bad fixture');
    return r.message;
  }
  it('UDP without rport: received address and sent-by port (default 5060)', () => {
    expect(responseTarget(topVia('SIP/2.0/UDP host.example;branch=z9hG4bK1').topVia, source)).toMatchObject({
      protocol: 'udp',
      address: '192.0.2.7',
      port: 5060,
    });
  });
  it('UDP: a received= or rport value the client wrote itself is never followed (no reflection)', () => {
    expect(responseTarget(topVia('SIP/2.0/UDP host.example:5070;branch=z9hG4bK1;received=192.0.2.9').topVia, source)).toMatchObject({
      address: '192.0.2.7',
      port: 5070,
    });
    expect(responseTarget(topVia('SIP/2.0/UDP 192.0.2.7:5070;received=198.51.100.1;rport=41000;branch=z9hG4bK1').topVia, source)).toMatchObject({
      address: '192.0.2.7',
      port: 40000,
    });
  });
  it('UDP with rport: the source port (RFC 3581 §4)', () => {
    expect(responseTarget(topVia('SIP/2.0/UDP host.example:5070;rport;branch=z9hG4bK1').topVia, source)).toMatchObject({ port: 40000 });
  });
  it('TCP: the request connection, else the sent-by port', () => {
    const tcp: SourceInfo = { ...source, protocol: 'tcp', connectionId: 12 };
    expect(responseTarget(topVia('SIP/2.0/TCP host.example:5070;branch=z9hG4bK1').topVia, tcp)).toMatchObject({
      protocol: 'tcp',
      address: '192.0.2.7',
      port: 5070,
      connectionId: 12,
    });
    expect(responseTarget(topVia('SIP/2.0/TCP host.example:5070;received=198.51.100.1;branch=z9hG4bK1').topVia, tcp)).toMatchObject({ address: '192.0.2.7' });
  });
  it('stamping (§18.2.1): received and rport are set from the packet, overwriting forged values', () => {
    const cases: Array<[string, string]> = [
      ['SIP/2.0/UDP host.example:5070;branch=z9hG4bK1', 'SIP/2.0/UDP host.example:5070;branch=z9hG4bK1;received=192.0.2.7;rport=40000'],
      ['SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bK1', 'SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bK1;rport=40000'],
      [
        'SIP/2.0/UDP 192.0.2.7:5070;received=198.51.100.1;rport=41000;branch=z9hG4bK1',
        'SIP/2.0/UDP 192.0.2.7:5070;received=192.0.2.7;rport=40000;branch=z9hG4bK1',
      ],
      ['SIP/2.0/UDP host.example;received=198.51.100.1;branch=z9hG4bK1', 'SIP/2.0/UDP host.example;received=192.0.2.7;branch=z9hG4bK1;rport=40000'],
      [
        'SIP/2.0/UDP 192.0.2.7:5070;received=192.0.2.7;rport=40000;branch=z9hG4bK1',
        'SIP/2.0/UDP 192.0.2.7:5070;received=192.0.2.7;rport=40000;branch=z9hG4bK1',
      ],
    ];
    for (const [before, after] of cases) {
      const r = topVia(before);
      stampReceived(r, source, true);
      expect(r.get('via')).toBe(after);
    }
  });
});

describe('edge transport: errors above the transport', () => {
  it('hands an exception thrown by the user to onUserError and keeps receiving', async () => {
    const errors: unknown[] = [];
    const transport = new SipTransport({ listen: [{ protocol: 'udp', address: '127.0.0.1', port: 0 }], onUserError: (e) => errors.push(e) });
    const user = new Recorder();
    let first = true;
    const throwing: TransportUser = {
      onMessage: (m, s) => {
        if (first) {
          first = false;
          throw new Error('bug above');
        }
        user.onMessage(m, s);
      },
      onMalformed: (e, s) => user.onMalformed(e, s),
    };
    await transport.start(throwing);
    cleanups.push(() => transport.stop());
    const client = await udpClient('udp4', '127.0.0.1');
    const port = transport.listenPoints()[0]?.port ?? 0;
    client.send(request('boom'), port, '127.0.0.1');
    client.send(request('fine'), port, '127.0.0.1');
    await user.until(1);
    expect(errors).toHaveLength(1);
    expect(user.messages[0]?.message.callId).toBe('fine');
  });
});
