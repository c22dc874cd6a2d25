/**
 * A hand-driven admin client for protocol-level tests: writes frames (optionally byte by byte
 * or coalesced) and waits for decoded frames from the edge.
 */
import { connect, type Socket } from 'node:net';
import { FrameDecoder, encodeFrame } from '../../../src/edge/wire/frame-decoder.ts';

export interface Frame {
  readonly payload: string;
  readonly tokens: string[];
  readonly body: string;
}

export class RawAdminClient {
  readonly frames: Frame[] = [];
  private readonly decoder = new FrameDecoder(16 * 1024 * 1024);
  private waiters: Array<() => void> = [];
  closed = false;
  readonly closedPromise: Promise<void>;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const payload of this.decoder.push(chunk).payloads) {
        const cr = payload.indexOf('\r\n');
        const leader = cr < 0 ? payload : payload.slice(0, cr);
        this.frames.push({ payload, tokens: leader.split('|'), body: cr < 0 ? '' : payload.slice(cr + 2) });
      }
      this.wake();
    });
    this.closedPromise = new Promise((resolve) =>
      socket.on('close', () => {
        this.closed = true;
        this.wake();
        resolve();
      }),
    );
    socket.on('error', () => undefined);
  }

  static open(host: string, port: number): Promise<RawAdminClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port }, () => resolve(new RawAdminClient(socket)));
      socket.once('error', reject);
    });
  }

  send(payload: string): void {
    this.socket.write(encodeFrame(payload));
  }

  writeRaw(data: string | Buffer): void {
    this.socket.write(data);
  }

  async writeByteByByte(data: Buffer): Promise<void> {
    for (const b of data) {
      await new Promise<void>((resolve) => this.socket.write(Buffer.from([b]), () => resolve()));
    }
  }

  /** The first frame (from `from` on) matching `predicate`, waiting up to `timeoutMs`. */
  async next(predicate: (f: Frame) => boolean, timeoutMs = 3000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.find(predicate);
      if (found) return found;
      if (this.closed) throw new Error('connection closed while waiting for a frame');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for a frame');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** The `response` frame answering app msgId `id`. */
  reply(id: string, timeoutMs?: number): Promise<Frame> {
    return this.next((f) => f.tokens[1] === 'response' && f.tokens[2] === id, timeoutMs);
  }

  close(): void {
    this.socket.destroy();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const fn of w) fn();
  }
}
