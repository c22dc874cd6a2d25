/**
 * Edge benchmark: how long the edge process takes from SIGTERM to exit with a call up. Starts
 * `bin/softswitch-edge.js`, connects a drachtio-srf app that answers, sets up one call from SIPp
 * (which then waits for a BYE that never comes), optionally holds a second control connection
 * half-open (a peer that never closes its side), sends SIGTERM and prints the time to the exit.
 *
 * Usage: tsx scripts/bench/edge-sigterm.ts [--transport udp|tcp] [--half-open] [--runs 5]
 * Prints one JSON line per run. Bounded: each run gives up after 20 s.
 */
import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { join, resolve } from 'node:path';
import Srf from 'drachtio-srf';
import { startSipp } from '../../test/support/edge-apps/sipp-runner.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const args = process.argv.slice(2);
const opt = (name: string, dflt: string): string => {
  const i = args.indexOf(name);
  return i >= 0 ? (args[i + 1] ?? dflt) : dflt;
};
const transport = opt('--transport', 'udp') === 'tcp' ? 'tcp' : 'udp';
const halfOpen = args.includes('--half-open');
const runs = Math.min(20, Math.max(1, Number(opt('--runs', '5'))));
const IP = '127.0.0.1';
const SDP = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n';

interface SrfLike {
  once(event: 'connect', cb: (err?: unknown) => void): void;
  on(event: 'error', cb: () => void): void;
  connect(opts: { host: string; port: number; secret: string }): void;
  invite(cb: (req: unknown, res: unknown) => void): void;
  createUAS(req: unknown, res: unknown, opts: { localSdp: string }): Promise<{ on(event: 'ack', cb: () => void): void }>;
}

async function once(): Promise<number> {
  const sipPort = 25000 + Math.floor(Math.random() * 5000);
  const edge = spawn(
    process.execPath,
    [
      join(ROOT, 'bin/softswitch-edge.js'),
      '--sip',
      `udp/${IP}:${sipPort}`,
      '--sip',
      `tcp/${IP}:${sipPort}`,
      '--admin-host',
      IP,
      '--admin-port',
      '0',
      '--secret',
      'bench',
      '--log-level',
      'error',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const guard = setTimeout(() => edge.kill('SIGKILL'), 20_000);
  const adminPort = await new Promise<number>((res, rej) => {
    let out = '';
    edge.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /"admin":\{"address":"[^"]+","port":(\d+)\}/.exec(out);
      if (m) res(Number(m[1]));
    });
    edge.once('exit', () => rej(new Error('edge exited before it was ready')));
  });
  const srf = new Srf() as unknown as SrfLike;
  srf.on('error', () => undefined);
  await new Promise<void>((res) => {
    srf.once('connect', () => res());
    srf.connect({ host: IP, port: adminPort, secret: 'bench' });
  });
  let peer: Socket | undefined;
  if (halfOpen) peer = connect({ host: IP, port: adminPort, allowHalfOpen: true });
  const up = new Promise<void>((res) => {
    srf.invite((req, res2) => {
      void srf.createUAS(req, res2, { localSdp: SDP }).then((d) => d.on('ack', () => res()));
    });
  });
  const caller = startSipp({ scenario: 'uac-recv-bye.xml', localIp: IP, remote: `${IP}:${sipPort}`, transport, timeoutSec: 20 });
  await up;
  const exited = new Promise<number>((res) => edge.once('exit', () => res(performance.now())));
  const t0 = performance.now();
  edge.kill('SIGTERM');
  const ms = (await exited) - t0;
  clearTimeout(guard);
  caller.kill();
  peer?.destroy();
  return ms;
}

for (let i = 0; i < runs; i++) {
  const ms = await once();
  process.stdout.write(`${JSON.stringify({ benchmark: 'edge-sigterm', transport, halfOpen, run: i + 1, sigtermToExitMs: Number(ms.toFixed(1)) })}\n`);
}
process.exit(0);
