/**
 * Runs one SIPp scenario from test/sipp/edge as a child process, bounded by -m and -timeout,
 * and reports its exit code and error log (-trace_err). Each run gets its own random local
 * port and media port, so test files can run in parallel.
 */
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomPort, sippErrors } from './ports.ts';

export const SCENARIO_DIR = resolve(import.meta.dirname, '../../sipp/edge');

export interface SippOptions {
  /** Scenario file name in test/sipp/edge. */
  readonly scenario: string;
  /** Loopback address sipp binds to. */
  readonly localIp: string;
  /** Local SIP port; random when omitted. */
  readonly localPort?: number;
  /** Target `host:port` (omit for a UAS scenario that only listens). */
  readonly remote?: string;
  readonly transport?: 'udp' | 'tcp';
  /** Number of calls (-m). */
  readonly calls?: number;
  /** Calls per second (-r). */
  readonly rate?: number;
  /** Overall timeout in seconds (-timeout). */
  readonly timeoutSec?: number;
  /** Request-URI user part (-s). */
  readonly service?: string;
  /** Percentage of packets lost (-lost). */
  readonly lostPercent?: number;
  readonly extraArgs?: readonly string[];
}

export interface SippResult {
  readonly code: number | null;
  readonly errors: string;
  readonly stdout: string;
}

export interface SippProcess {
  readonly localPort: number;
  /** Resolves once sipp has bound its SIP port (UAS scenarios must be listening before a call). */
  readonly listening: Promise<void>;
  /** Resolves when sipp exits (it always exits: -m and -timeout bound it). */
  readonly done: Promise<SippResult>;
  kill(): void;
}

export function startSipp(opts: SippOptions): SippProcess {
  const dir = mkdtempSync(join(tmpdir(), 'edge-sipp-'));
  const localPort = opts.localPort ?? randomPort();
  const errorFile = join(dir, 'errors.log');
  const args = [
    '-sf', join(SCENARIO_DIR, opts.scenario),
    '-i', opts.localIp,
    '-p', String(localPort),
    '-mp', String(randomPort()),
    '-m', String(opts.calls ?? 1),
    '-timeout', `${opts.timeoutSec ?? 20}s`,
    '-timeout_error',
    '-trace_err', '-error_file', errorFile,
    '-nostdin',
    '-t', opts.transport === 'tcp' ? 't1' : 'u1',
    '-s', opts.service ?? '1234',
  ];
  if (opts.rate !== undefined) args.push('-r', String(opts.rate));
  if (opts.lostPercent !== undefined) args.push('-lost', String(opts.lostPercent));
  if (opts.extraArgs) args.push(...opts.extraArgs);
  if (opts.remote) args.push(opts.remote);
  const child = spawn('sipp', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); if (stdout.length > 200_000) stdout = stdout.slice(-100_000); });
  child.stderr.on('data', (d: Buffer) => { stdout += d.toString(); });
  const done = new Promise<SippResult>((resolveDone) => {
    child.on('exit', (code) => {
      const errors = existsSync(errorFile) ? sippErrors(readFileSync(errorFile, 'utf8')) : '';
      resolveDone({ code, errors, stdout });
    });
    child.on('error', (err) => resolveDone({ code: -1, errors: String(err), stdout }));
  });
  let exited = false;
  void done.then(() => { exited = true; });
  const listening = waitBound(opts.localIp, localPort, opts.transport ?? 'udp', () => exited);
  return { localPort, done, listening, kill: () => { if (child.exitCode === null) child.kill('SIGKILL'); } };
}

/** Runs a scenario to completion. */
export function runSipp(opts: SippOptions): Promise<SippResult> {
  return startSipp(opts).done;
}

/** Polls until something is bound to ip:port (UDP: our bind fails with EADDRINUSE; TCP: connect succeeds). */
async function waitBound(ip: string, port: number, transport: 'udp' | 'tcp', gaveUp: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && !gaveUp()) {
    const bound = await new Promise<boolean>((resolve) => {
      if (transport === 'tcp') {
        const s = connect({ host: ip, port }, () => { s.destroy(); resolve(true); });
        s.on('error', () => resolve(false));
      } else {
        const s = createSocket('udp4');
        s.once('error', (err: NodeJS.ErrnoException) => { s.close(); resolve(err.code === 'EADDRINUSE'); });
        s.bind(port, ip, () => { s.close(); resolve(false); });
      }
    });
    if (bound) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}
