/**
 * A real drachtio-server for one test file (TEST_SIP_SERVER=drachtio, DRACHTIO_BIN): started on
 * a random loopback address with random SIP and admin ports, with a configuration written for it
 * (the admin address, port and secret; the SIP contact for UDP and TCP; the spammer list of
 * sip-config/drachtio.conf.xml), and ready once its admin port accepts connections. A start
 * that fails to bind is retried on other ports. Its RFC 3261 timers are drachtio's own
 * (T1 = 500 ms); tests that need the edge's short test timers skip themselves there.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_SPAMMER_USER_AGENTS } from '../../src/edge/config/edge-config.ts';
import { randomLoopback, randomPort } from './edge-apps/ports.ts';

export interface DrachtioServer {
  readonly ip: string;
  readonly sipPort: number;
  readonly adminPort: number;
  readonly secret: string;
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 10_000;
const ATTEMPTS = 5;

function configXml(ip: string, sipPort: number, adminPort: number, secret: string): string {
  const agents = DEFAULT_SPAMMER_USER_AGENTS.map((a) => `        <value>${a}</value>`).join('\n');
  return `<drachtio>
  <admin port="${adminPort}" secret="${secret}">${ip}</admin>
  <sip>
    <contacts>
      <contact>sip:${ip}:${sipPort};transport=udp,tcp</contact>
    </contacts>
    <spammers action="reject" tcp-action="reject">
      <header name="User-Agent">
${agents}
      </header>
    </spammers>
  </sip>
  <cdrs>false</cdrs>
  <logging>
    <console/>
    <loglevel>notice</loglevel>
    <sofia-loglevel>0</sofia-loglevel>
  </logging>
</drachtio>
`;
}

/** Resolves true once host:port accepts a TCP connection, false at the deadline or if `exited`. */
async function acceptsConnections(host: string, port: number, exited: () => boolean): Promise<boolean> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline && !exited()) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect({ host, port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => {
        socket.destroy();
        resolve(false);
      });
    });
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

function stopper(child: ChildProcess): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      child.kill('SIGTERM');
    });
}

export async function startDrachtioServer(bin: string, secret: string): Promise<DrachtioServer> {
  const dir = mkdtempSync(join(tmpdir(), 'drachtio-'));
  let lastOutput = '';
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const ip = randomLoopback();
    const sipPort = randomPort();
    const adminPort = randomPort();
    const file = join(dir, `drachtio-${attempt}.conf.xml`);
    writeFileSync(file, configXml(ip, sipPort, adminPort, secret));
    const child = spawn(bin, ['-f', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let exited = false;
    child.once('exit', () => {
      exited = true;
    });
    child.once('error', () => {
      exited = true;
    });
    let output = '';
    child.stdout?.on('data', (d: Buffer) => {
      output = (output + d.toString()).slice(-4000);
    });
    child.stderr?.on('data', (d: Buffer) => {
      output = (output + d.toString()).slice(-4000);
    });
    if (await acceptsConnections(ip, adminPort, () => exited)) {
      return { ip, sipPort, adminPort, secret, stop: stopper(child) };
    }
    lastOutput = output;
    await stopper(child)();
  }
  throw new Error(`drachtio-server (${bin}) did not start after ${ATTEMPTS} attempts; last output:\n${lastOutput}`);
}
