/**
 * Debian's Kamailio running the shipped configuration (sip-config/kamailio/kamailio.cfg) on a
 * loopback address of its own, in the foreground, with a dispatcher list naming the SIP servers
 * under test. Only the three site settings differ from what an operator runs: the listen address,
 * the list file and the probing interval (kamailio-local.cfg beside a copy of the file).
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomLoopback, randomPort } from './edge-apps/ports.ts';

const CONFIG = resolve(import.meta.dirname, '../../sip-config/kamailio/kamailio.cfg');
const MODULES = ['/usr/lib/x86_64-linux-gnu/kamailio/modules', '/usr/lib/kamailio/modules', '/usr/lib64/kamailio/modules'];

/** Why Kamailio cannot run here, or undefined when it can. */
export function kamailioUnavailable(): string | undefined {
  const probe = spawnSync('kamailio', ['-v'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) return 'kamailio is not installed (Debian package kamailio)';
  if (!MODULES.some((d) => existsSync(join(d, 'dispatcher.so')))) return "kamailio's dispatcher module is missing";
  return undefined;
}

export interface KamailioOptions {
  /** Its loopback address (default: a random one). */
  ip?: string;
  /** `host:port` of each SIP server (UDP), dispatcher set 1. */
  servers: string[];
  probeIntervalSeconds: number;
  /** Requests per two seconds per source before pike drops them. */
  pikeDensity?: number;
  /** SIP worker processes per transport (default 2). */
  children?: number;
}

export class KamailioProcess {
  readonly ip: string;
  readonly port = randomPort();
  readonly log: string[] = [];
  private child: ChildProcess | undefined;

  constructor(private readonly o: KamailioOptions) {
    this.ip = o.ip ?? randomLoopback();
  }

  /** The main process's pid (it forks the workers), while it runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  get hostport(): string {
    return `${this.ip}:${this.port}`;
  }

  async start(): Promise<void> {
    const dir = mkdtempSync(join(tmpdir(), 'kamailio-'));
    copyFileSync(CONFIG, join(dir, 'kamailio.cfg'));
    writeFileSync(join(dir, 'dispatcher.list'), this.o.servers.map((s) => `1 sip:${s};transport=udp\n`).join(''));
    writeFileSync(
      join(dir, 'kamailio-local.cfg'),
      [
        `#!substdef "!SS_LISTEN_UDP!udp:${this.ip}:${this.port}!g"`,
        `#!substdef "!SS_LISTEN_TCP!tcp:${this.ip}:${this.port}!g"`,
        `#!substdef "!SS_DISPATCHER_LIST!${join(dir, 'dispatcher.list')}!g"`,
        `#!substdef "!SS_PROBE_INTERVAL!${this.o.probeIntervalSeconds}!g"`,
        `#!substdef "!SS_PIKE_DENSITY!${this.o.pikeDensity ?? 400}!g"`,
        `#!substdef "!SS_CHILDREN!${this.o.children ?? 2}!g"`,
        '',
      ].join('\n'),
    );
    const modules = MODULES.find((d) => existsSync(join(d, 'dispatcher.so')))!;
    const child = spawn('kamailio', ['-DD', '-E', '-f', join(dir, 'kamailio.cfg'), '-Y', dir, '-L', modules, '-P', join(dir, 'kamailio.pid')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const onData = (b: Buffer) => {
      for (const line of b.toString().split('\n')) if (line.trim()) this.log.push(line);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    // ready once its SIP workers run (its start-up summary names the listening sockets first)
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`kamailio exited ${child.exitCode}:\n${this.log.slice(-30).join('\n')}`);
      if (this.log.some((l) => /Listening on/.test(l)) && this.log.length > 8) {
        await new Promise((r) => setTimeout(r, 300));
        return;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`kamailio did not start within 10 s:\n${this.log.slice(-30).join('\n')}`);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(t);
  }
}
