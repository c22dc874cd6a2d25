/**
 * The edge as its own process (`bin/softswitch-edge.js`) on a random loopback address, as it runs
 * in production: for tests that kill it (SIGTERM or SIGKILL) the way a server dies.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { randomLoopback, randomPort } from './ports.ts';

const BIN = resolve(import.meta.dirname, '../../../bin/softswitch-edge.js');

export interface EdgeProcess {
  readonly child: ChildProcess;
  readonly ip: string;
  readonly sipPort: number;
  readonly adminPort: number;
  readonly secret: string;
  /** `ip:port` of the SIP listening points. */
  readonly sipHostport: string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts the edge process; resolves once it reports its admin port. */
export async function spawnEdgeProcess(secret: string, logLevel = 'error'): Promise<EdgeProcess> {
  const ip = randomLoopback();
  for (let attempt = 0; attempt < 5; attempt++) {
    const sipPort = randomPort();
    const child = spawn(
      process.execPath,
      [
        BIN,
        '--sip',
        `udp/${ip}:${sipPort}`,
        '--sip',
        `tcp/${ip}:${sipPort}`,
        '--admin-host',
        ip,
        '--admin-port',
        '0',
        '--secret',
        secret,
        '--log-level',
        logLevel,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.once('exit', (code, signal) => res({ code, signal })));
    let out = '';
    const ready = await new Promise<number | undefined>((res) => {
      child.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /"admin":\{"address":"[^"]+","port":(\d+)\}/.exec(out);
        if (m) res(Number(m[1]));
      });
      void exited.then(() => res(undefined));
    });
    if (ready !== undefined) return { child, ip, sipPort, adminPort: ready, secret, sipHostport: `${ip}:${sipPort}`, exited };
  }
  throw new Error('could not start the edge process');
}
