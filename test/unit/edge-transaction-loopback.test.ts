/**
 * Transport and transaction layer together on loopback sockets: a scripted UDP peer calls in
 * and is rejected; the edge sends an OPTIONS over TCP to a scripted peer and gets the answer.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createResponse, parseMessage, SipRequest, type SipResponse } from '../../src/edge/message/index.ts';
import { SipTransport } from '../../src/edge/transport/index.ts';
import { IstState, TransactionLayer } from '../../src/edge/transaction/index.ts';
import { RecordingClientUser, RecordingTu } from './edge-transaction-fixtures.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

/** Resolves on the first event-loop turn where `condition` holds. */
function when(condition: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const check = (): void => {
      if (condition()) resolve();
      else setImmediate(check);
    };
    check();
  });
}

async function edge(
  listen: ConstructorParameters<typeof SipTransport>[0]['listen'],
  counter?: { n: number },
): Promise<{ transport: SipTransport; layer: TransactionLayer; tu: RecordingTu }> {
  const transport = new SipTransport({
    listen,
    rateLimiter: () => {
      if (counter !== undefined) counter.n++;
      return true;
    },
  });
  const tu = new RecordingTu();
  const layer = new TransactionLayer(transport, tu);
  await transport.start(layer);
  cleanups.push(async () => {
    layer.shutdown();
    await transport.stop();
  });
  return { transport, layer, tu };
}

/** Collects datagrams; `next()` waits for the next unread one. */
class UdpPeer {
  private readonly inbox: Buffer[] = [];
  private waiter: (() => void) | undefined;
  constructor(readonly socket: UdpSocket) {
    socket.on('message', (m) => {
      this.inbox.push(m);
      this.waiter?.();
    });
  }
  async next(): Promise<SipResponse> {
    while (this.inbox.length === 0)
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
      });
    const r = parseMessage(this.inbox.shift() as Buffer);
    if (!r.ok || r.message.kind !== 'response') throw new Error('expected a response');
    return r.message;
  }
}

const INVITE = [
  'INVITE sip:1234@127.0.0.1 SIP/2.0',
  'Via: SIP/2.0/UDP 127.0.0.1:PORT;branch=z9hG4bKloop1',
  'From: <sip:peer@127.0.0.1>;tag=p1',
  'To: <sip:1234@127.0.0.1>',
  'Call-ID: loop-1',
  'CSeq: 1 INVITE',
  'Contact: <sip:peer@127.0.0.1:PORT>',
  'Max-Forwards: 70',
  'Content-Length: 0',
  '',
  '',
].join('\r\n');

describe('edge transaction over loopback sockets', () => {
  it('UDP: 100 Trying, one delivery despite a retransmission, 486 to the caller, its ACK absorbed', async () => {
    const received = { n: 0 };
    const { transport, tu } = await edge([{ protocol: 'udp', address: '127.0.0.1', port: 0 }], received);
    const edgePort = transport.listenPoints()[0]?.port ?? 0;
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
    cleanups.push(() => new Promise<void>((resolve) => socket.close(() => resolve())));
    const peer = new UdpPeer(socket);
    const text = INVITE.replaceAll('PORT', String(socket.address().port));
    socket.send(text, edgePort, '127.0.0.1');
    const trying = await peer.next();
    expect(trying.status).toBe(100);
    // The retransmission reaches the transaction before the TU has answered: absorbed.
    socket.send(text, edgePort, '127.0.0.1');
    // The rate hook sees each datagram just before it is parsed and handled in the same turn.
    await when(() => received.n === 2);
    await new Promise<void>((resolve) => setImmediate(resolve));
    const delivered = tu.of('request');
    expect(delivered).toHaveLength(1);
    const txn = delivered[0]?.txn;
    if (txn === undefined) throw new Error('no transaction');
    await txn.respond(createResponse(txn.request, 486, { toTag: 'edge-tag' }));
    const busy = await peer.next();
    expect(busy.status).toBe(486);
    expect(busy.toTag).toBe('edge-tag');
    expect(busy.topVia?.rport).toBe(socket.address().port);
    const ackText = text
      .replace('INVITE sip', 'ACK sip')
      .replace('CSeq: 1 INVITE', 'CSeq: 1 ACK')
      .replace('To: <sip:1234@127.0.0.1>', 'To: <sip:1234@127.0.0.1>;tag=edge-tag');
    socket.send(ackText, edgePort, '127.0.0.1');
    await when(() => txn.state === IstState.Confirmed);
    expect(tu.of('ack')).toHaveLength(0);
    expect(tu.of('request')).toHaveLength(1);
  });

  it('TCP: a client transaction connects, sends, and receives its response on the same connection', async () => {
    const { layer } = await edge([{ protocol: 'tcp', address: '127.0.0.1', port: 0 }]);
    const sockets: Socket[] = [];
    const server = createServer((s) => {
      sockets.push(s);
      let buffer = '';
      s.on('data', (d: Buffer) => {
        buffer += d.toString();
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        const r = parseMessage(buffer.slice(0, end + 4));
        buffer = buffer.slice(end + 4);
        if (!r.ok || r.message.kind !== 'request') return;
        const answer = createResponse(r.message, 200, { toTag: 'peer' });
        s.write(answer.toString());
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          for (const s of sockets) s.destroy();
          server.close(() => resolve());
        }),
    );
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    const request = new SipRequest('OPTIONS', `sip:peer@127.0.0.1:${port};transport=tcp`);
    request
      .append('Max-Forwards', '70')
      .append('From', '<sip:edge@127.0.0.1>;tag=e1')
      .append('To', `<sip:peer@127.0.0.1:${port}>`)
      .append('Call-ID', 'tcp-out-1')
      .append('CSeq', '1 OPTIONS');
    const user = new RecordingClientUser();
    const done = new Promise<void>((resolve) => {
      const original = user.onResponse.bind(user);
      user.onResponse = (...args) => {
        original(...args);
        resolve();
      };
    });
    const txn = layer.sendRequest(request, { protocol: 'tcp', address: '127.0.0.1', port }, user);
    expect((await txn.sent).ok).toBe(true);
    await done;
    expect(user.statuses()).toEqual([200]);
    expect(txn.terminated).toBe(true);
    expect(sockets).toHaveLength(1);
  });
});
