/** One listening TCP socket. */
import { createServer, type Server, type Socket } from 'node:net';
import type { ListenPoint } from './types.ts';

export class TcpEndpoint {
  private readonly server: Server;
  private point: ListenPoint;

  constructor(point: ListenPoint, onConnection: (endpoint: TcpEndpoint, socket: Socket) => void) {
    this.point = point;
    this.server = createServer((socket) => onConnection(this, socket));
    this.server.on('error', () => undefined);
  }

  get listenPoint(): ListenPoint {
    return this.point;
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => reject(error);
      this.server.once('error', onError);
      this.server.listen({ host: this.point.address, port: this.point.port, ipv6Only: this.point.family === 6, exclusive: true }, () => {
        this.server.off('error', onError);
        const address = this.server.address();
        if (address !== null && typeof address === 'object') this.point = { ...this.point, port: address.port };
        resolve();
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
