import net from 'node:net';

/**
 * A loopback TCP proxy in front of a real server (Postgres, a SIP server's admin port) that a
 * test can take down and bring back: `down()` refuses new connections and cuts the open ones,
 * `pause()` keeps them open but stops forwarding (a hung server), `up()` restores service.
 *
 * With `batchMs`, what the server sends is held and passed on in one write every `batchMs`: the
 * client then reads several messages at once, as a client whose event loop is busy does.
 *
 * With `clientDelayMs`, what the client sends reaches the server that much later (in order): the
 * server sees the client's answers late, as from a client far away or slow to write.
 */
export class TcpProxy {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private paused = false;
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
    private readonly opts: { batchMs?: number; clientDelayMs?: number } = {},
  ) {}

  async up(port = this.port): Promise<number> {
    this.paused = false;
    if (this.server) return this.port;
    const server = net.createServer((client) => {
      const upstream = net.connect(this.targetPort, this.targetHost);
      this.sockets.add(client);
      this.sockets.add(upstream);
      const gate = (from: net.Socket, to: net.Socket) =>
        from.on('data', (d) => {
          if (!this.paused) to.write(d);
        });
      const delay = this.opts.clientDelayMs;
      if (delay === undefined) gate(client, upstream);
      else
        client.on('data', (d: Buffer) => {
          if (!this.paused) setTimeout(() => upstream.write(d), delay);
        });
      let held: Buffer[] = [];
      let flush: NodeJS.Timeout | undefined;
      if (this.opts.batchMs === undefined) gate(upstream, client);
      else {
        upstream.on('data', (d: Buffer) => {
          if (this.paused) return;
          held.push(d);
          flush ??= setTimeout(() => {
            flush = undefined;
            const all = Buffer.concat(held);
            held = [];
            client.write(all);
          }, this.opts.batchMs);
        });
      }
      const close = () => {
        clearTimeout(flush);
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on('error', close);
      upstream.on('error', close);
      client.on('close', close);
      upstream.on('close', close);
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    this.server = server;
    this.port = (server.address() as net.AddressInfo).port;
    return this.port;
  }

  pause(): void {
    this.paused = true;
  }

  async down(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    for (const sock of this.sockets) sock.destroy();
    this.sockets.clear();
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
