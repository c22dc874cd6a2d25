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

/** How long a closing control connection may take to pass on what was written (shutdown only). */
export const TERMINATE_GRACE_MS = 250;

export class AppConnection {
  readonly id = nextConnectionId++;
  authenticated = false;
  tags: readonly string[] = [];
  /** Verbs this connection registered (§3.1: a set per connection, so `route` is idempotent). */
  readonly verbs = new Set<string>();
  private readonly decoder: FrameDecoder;
  /** Frames in event order; `undefined` marks a reserved slot not yet filled (see reserve()). */
  private queue: Array<string | undefined> = [];
  /** Absolute index of queue[0] among all frames ever queued (for reserved slots). */
  private base = 0;
  private flushScheduled = false;
  private closed = false;

  constructor(
    private readonly socket: Socket,
    maxFrameBytes: number,
    private readonly events: AppConnectionEvents,
  ) {
    this.decoder = new FrameDecoder(maxFrameBytes);
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 45_000);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => {
      /* 'close' follows */
    });
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
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      process.nextTick(() => this.flush());
    }
  }

  /**
   * Reserves the next place in the output order for a reply whose content is known only later
   * (e.g. R6/R7 after the SIP message went out). Frames queued after the reservation wait
   * behind it, which keeps §1.7: R6 before the responses to that request, R7 of a 2xx before
   * the ACK. The returned function must be called exactly once.
   */
  reserve(): (payload: string) => void {
    if (this.closed) return () => undefined;
    const index = this.base + this.queue.length;
    this.queue.push(undefined);
    let filled = false;
    return (payload: string) => {
      if (filled || this.closed) return;
      filled = true;
      const at = index - this.base;
      if (at < 0 || at >= this.queue.length) return;
      this.queue[at] = encodeFrame(payload);
      if (at === 0) this.scheduleFlush();
    };
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

  /**
   * Shutdown: like close(), but never waits for the peer. The socket is destroyed once what was
   * written has gone to the kernel, or after {@link TERMINATE_GRACE_MS} when the peer does not
   * read, so a stuck or half-open app cannot hold the server up.
   */
  terminate(): void {
    const socket = this.socket;
    this.close();
    if (socket.destroyed) return;
    const destroy = (): void => {
      socket.destroy();
    };
    socket.once('finish', destroy);
    setTimeout(destroy, TERMINATE_GRACE_MS).unref();
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.socket.destroyed) {
      this.queue = [];
      return;
    }
    let n = 0;
    while (n < this.queue.length && this.queue[n] !== undefined) n++;
    if (n === 0) return;
    const data = n === 1 ? (this.queue[0] as string) : this.queue.slice(0, n).join('');
    this.queue = n === this.queue.length ? [] : this.queue.slice(n);
    this.base += n;
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
