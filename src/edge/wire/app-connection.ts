/**
 * One admin connection from a drachtio-srf app (spec §1.1, §2.1).
 *
 * Frames are written in event order through one queue per connection and flushed once per
 * tick, which keeps the ordering rules of §1.7 (R6 before the responses to that request, R7
 * of a 2xx before the ACK) and coalesces small frames into one TCP segment as the reference does.
 */
import type { Socket } from 'node:net';
import { FrameDecoder, encodeFrame } from './frame-decoder.ts';
import { parseAppCommand, type AppCommand } from './app-command.ts';
import { failurePayload } from './server-frames.ts';

export interface AppConnectionEvents {
  onCommand(connection: AppConnection, command: AppCommand): void;
  onClose(connection: AppConnection): void;
}

let nextConnectionId = 1;

export class AppConnection {
  readonly id = nextConnectionId++;
  authenticated = false;
  tags: readonly string[] = [];
  /** Verbs this connection registered (§3.1: a set per connection, so `route` is idempotent). */
  readonly verbs = new Set<string>();
  private readonly decoder: FrameDecoder;
  private queue: string[] = [];
  private flushScheduled = false;
  private closed = false;

  constructor(private readonly socket: Socket, maxFrameBytes: number, private readonly events: AppConnectionEvents) {
    this.decoder = new FrameDecoder(maxFrameBytes);
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 45_000);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => { /* 'close' follows */ });
    socket.on('close', () => this.onSocketClose());
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  get remoteAddress(): string {
    return this.socket.remoteAddress ?? '';
  }

  /** Queues one payload; it is framed (§1.2) and written after the current tick, in order. */
  send(payload: string): void {
    if (this.closed) return;
    this.queue.push(encodeFrame(payload));
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      process.nextTick(() => this.flush());
    }
  }

  /** §9.1: every `NO` reply is followed by closing the connection. */
  rejectAndClose(appMsgId: string, reason: string): void {
    this.send(failurePayload(appMsgId, 'NO', reason));
    this.flush();
    this.close();
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    this.socket.end();
    this.markClosed();
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.queue.length === 0 || this.socket.destroyed) {
      this.queue = [];
      return;
    }
    const data = this.queue.length === 1 ? (this.queue[0] as string) : this.queue.join('');
    this.queue = [];
    this.socket.write(data);
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    const result = this.decoder.push(chunk);
    for (const payload of result.payloads) {
      if (this.closed) return;
      this.dispatch(payload);
    }
    if (result.kind === 'error') {
      // §1.2: a malformed length makes the server drop the connection, with no reply.
      this.socket.destroy();
      this.markClosed();
    }
  }

  private dispatch(payload: string): void {
    let command: AppCommand;
    try {
      command = parseAppCommand(payload);
    } catch {
      command = { type: 'invalid', msgId: '', reason: 'Invalid message format' };
    }
    try {
      this.events.onCommand(this, command);
    } catch {
      // A handler bug must never take the process down; the app sees the connection close.
      this.close();
    }
  }

  private onSocketClose(): void {
    this.markClosed();
  }

  private markClosed(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue = [];
    this.events.onClose(this);
  }
}
