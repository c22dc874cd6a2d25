/**
 * RTP ports from a configured range (even ports, RFC 3550 §11), each bound to a UDP socket at
 * allocation so a port in use by another process is skipped, not handed out. Allocation
 * rotates through the range so a just-freed port is reused last (late packets of an old call
 * do not reach a new one). When no port is left: MediaPortsExhaustedError (the SIP side answers
 * 503). Every socket handed out is closed by release() or closeAll().
 */
import dgram from 'node:dgram';
import type { Socket } from 'node:dgram';
import { MediaPortsExhaustedError } from '../media-port.ts';

export interface PortAllocatorOptions {
  address: string;
  min: number;
  max: number;
}

export class PortAllocator {
  private readonly inUse = new Map<number, Socket>();
  private cursor: number;
  readonly range: readonly [number, number];

  constructor(private readonly opts: PortAllocatorOptions) {
    const min = opts.min + (opts.min % 2);
    if (!Number.isInteger(opts.min) || !Number.isInteger(opts.max) || min > opts.max || opts.min < 1024 || opts.max > 65535) {
      throw new RangeError(`bad RTP port range ${opts.min}-${opts.max}`);
    }
    this.range = [min, opts.max];
    this.cursor = min;
  }

  /** Ports the range holds. */
  get capacity(): number {
    return Math.floor((this.range[1] - this.range[0]) / 2) + 1;
  }

  get used(): number {
    return this.inUse.size;
  }

  /** A bound socket on a free even port of the range. */
  async allocate(): Promise<{ port: number; socket: Socket }> {
    const total = this.capacity;
    for (let tried = 0; tried < total; tried++) {
      const port = this.cursor;
      this.cursor = port + 2 > this.range[1] ? this.range[0] : port + 2;
      if (this.inUse.has(port)) continue;
      this.inUse.set(port, undefined as unknown as Socket); // reserve while binding
      const socket = await this.bind(port);
      if (socket === undefined) {
        this.inUse.delete(port);
        continue;
      }
      this.inUse.set(port, socket);
      return { port, socket };
    }
    throw new MediaPortsExhaustedError(this.range);
  }

  private bind(port: number): Promise<Socket | undefined> {
    const type = this.opts.address.includes(':') ? 'udp6' : 'udp4';
    const socket = dgram.createSocket({ type, reuseAddr: false });
    return new Promise((resolve) => {
      const onError = (): void => {
        socket.close();
        resolve(undefined);
      };
      socket.once('error', onError);
      socket.bind(port, this.opts.address, () => {
        socket.off('error', onError);
        resolve(socket);
      });
    });
  }

  /** Close the port's socket and return the port to the range. */
  release(port: number): Promise<void> {
    const socket = this.inUse.get(port);
    this.inUse.delete(port);
    if (socket === undefined) return Promise.resolve();
    return new Promise((resolve) => {
      try {
        socket.close(() => resolve());
      } catch {
        resolve(); // already closed
      }
    });
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.inUse.keys()].map((p) => this.release(p)));
  }
}
