/**
 * One TCP connection, inbound or outbound, with its stream framer. Framing errors (oversize,
 * unusable Content-Length) close the connection: the stream cannot be resynchronised.
 */
import type { Socket } from 'node:net';
import { StreamFramer } from './stream-framer.ts';
import type { ListenPoint } from './types.ts';

export interface TcpConnectionEvents {
  onFrame(connection: TcpConnection, data: Buffer): void;
  onClose(connection: TcpConnection): void;
}

/** Most bytes queued for a peer that does not read before the connection is dropped. */
const MAX_WRITE_BACKLOG = 4 * 1024 * 1024;

let nextId = 1;

export class TcpConnection {
  readonly id = nextId++;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  /** The listening point this connection belongs to (its port is the one advertised). */
  readonly listenPoint: ListenPoint;
  readonly outbound: boolean;
  private readonly socket: Socket;
  private readonly framer: StreamFramer;
  private closed = false;

  constructor(socket: Socket, listenPoint: ListenPoint, outbound: boolean, maxMessageSize: number, idleTimeoutMs: number, events: TcpConnectionEvents) {
    this.socket = socket;
    this.listenPoint = listenPoint;
    this.outbound = outbound;
    this.remoteAddress = unmapV4(socket.remoteAddress ?? '');
    this.remotePort = socket.remotePort ?? 0;
    this.localAddress = unmapV4(socket.localAddress ?? listenPoint.address);
    this.framer = new StreamFramer(maxMessageSize);
    socket.setNoDelay(true);
    if (idleTimeoutMs > 0) {
      socket.setTimeout(idleTimeoutMs);
      socket.on('timeout', () => socket.destroy());
    }
    socket.on('data', (chunk: Buffer) => {
      for (const event of this.framer.push(chunk)) {
        if (this.closed) return;
        if (event.type === 'message') events.onFrame(this, event.data);
        else if (event.type === 'ping')
          void this.write(Buffer.from('\r\n')); // resolves with the error, never rejects
        else socket.destroy();
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      if (this.closed) return;
      this.closed = true;
      events.onClose(this);
    });
  }

  get isOpen(): boolean {
    return !this.closed && !this.socket.destroyed;
  }

  /** Queue bytes; resolves with the error, if any (never rejects). */
  write(data: Buffer): Promise<Error | undefined> {
    if (!this.isOpen) return Promise.resolve(new Error('connection closed'));
    if (this.socket.writableLength > MAX_WRITE_BACKLOG) {
      this.socket.destroy();
      return Promise.resolve(new Error('peer is not reading: connection dropped'));
    }
    return new Promise((resolve) => {
      this.socket.write(data, (error) => resolve(error ?? undefined));
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

/** `::ffff:127.0.0.1` → `127.0.0.1`. */
export function unmapV4(address: string): string {
  return address.startsWith('::ffff:') && address.indexOf('.') > 0 ? address.slice(7) : address;
}
