/** One bound UDP socket (RFC 3261 §18: one datagram carries one message). */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import type { ListenPoint } from './types.ts';

export interface UdpEndpointEvents {
  onDatagram(endpoint: UdpEndpoint, data: Buffer, remote: RemoteInfo): void;
  onSocketError(endpoint: UdpEndpoint, error: Error): void;
}

const SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;

export class UdpEndpoint {
  private readonly socket: Socket;
  private point: ListenPoint;

  constructor(point: ListenPoint, events: UdpEndpointEvents) {
    this.point = point;
    this.socket = createSocket({ type: point.family === 6 ? 'udp6' : 'udp4', ipv6Only: point.family === 6 });
    this.socket.on('message', (data, remote) => events.onDatagram(this, data, remote));
    this.socket.on('error', (error) => events.onSocketError(this, error));
  }

  get listenPoint(): ListenPoint {
    return this.point;
  }

  /** Bind; resolves with the real port. */
  bind(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => reject(error);
      this.socket.once('error', onError);
      this.socket.bind({ address: this.point.address, port: this.point.port, exclusive: true }, () => {
        this.socket.off('error', onError);
        this.point = { ...this.point, port: this.socket.address().port };
        // Bursts at hundreds of calls per second overflow the default socket buffers; the kernel
        // caps these at its configured maximum.
        try {
          this.socket.setRecvBufferSize(SOCKET_BUFFER_BYTES);
          this.socket.setSendBufferSize(SOCKET_BUFFER_BYTES);
        } catch {
          // Not fatal: the defaults still work at lower rates.
        }
        resolve();
      });
    });
  }

  /** Send one datagram; resolves with the error, if any (never rejects). */
  send(data: Buffer, address: string, port: number): Promise<Error | undefined> {
    return new Promise((resolve) => {
      try {
        this.socket.send(data, port, address, (error) => resolve(error ?? undefined));
      } catch (error) {
        resolve(error instanceof Error ? error : new Error(String(error)));
      }
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }
}
