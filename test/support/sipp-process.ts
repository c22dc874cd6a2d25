/**
 * One sipp child process, bounded by the caller's -m and -timeout, with its error log
 * (-trace_err) read back when it exits. Every sipp runner in the tests starts sipp here.
 *
 * sipp exits with 254 when it cannot bind its SIP port. A port picked at random by this module
 * can be taken by anything else on the machine between the pick and the bind, so such a start is
 * retried with another port; a port the caller fixed (a UAS another party must reach) is not.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomPort, sippErrors } from './edge-apps/ports.ts';

/** sipp's exit code for "could not bind a socket" (EXIT_BIND_ERROR, -2). */
export const SIPP_BIND_ERROR = 254;
const BIND_TRIES = 5;

export interface SippRun {
  readonly code: number | null;
  readonly errors: string;
  readonly stdout: string;
}

export interface SippSpawnOptions {
  /** Loopback address sipp binds to (-i). */
  readonly ip: string;
  /** Local SIP port (-p); random, and retried on a bind failure, when omitted. */
  readonly port?: number;
  readonly transport?: 'udp' | 'tcp';
  /** Every other argument: scenario, counts, timeouts, the remote host. */
  readonly args: readonly string[];
  /** Working directory (sipp writes its logs there); a fresh temporary one when omitted. */
  readonly cwd?: string;
  /** Keep sipp's error file as it is (default: drop notes about RTP sockets it could not bind). */
  readonly rawErrors?: boolean;
}

export interface SippChild {
  /** The SIP port of the current (last) attempt. */
  readonly port: number;
  /** Resolves once sipp has bound its SIP port (UAS scenarios must be listening before a call). */
  readonly listening: Promise<void>;
  /** Resolves when sipp exits (it always exits: -m and -timeout bound it). */
  readonly done: Promise<SippRun>;
  kill(): void;
}

export function spawnSipp(opts: SippSpawnOptions): SippChild {
  const cwd = opts.cwd ?? mkdtempSync(join(tmpdir(), 'sipp-'));
  const transport = opts.transport ?? 'udp';
  let port = opts.port ?? randomPort();
  let killed = false;
  let kill: () => void = () => undefined;
  let exited = false;
  let childPid: number | undefined;

  const attempt = (tries: number): Promise<SippRun> =>
    new Promise<SippRun>((resolveRun) => {
      const errorFile = join(cwd, `errors-${tries}.log`);
      const child = spawn(
        'sipp',
        [
          '-i',
          opts.ip,
          '-p',
          String(port),
          '-mp',
          String(randomPort()),
          '-t',
          transport === 'tcp' ? 't1' : 'u1',
          '-nostdin',
          '-trace_err',
          '-error_file',
          errorFile,
          ...opts.args,
        ],
        { cwd, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      childPid = child.pid;
      kill = () => {
        killed = true;
        if (child.exitCode === null) child.kill('SIGKILL');
      };
      let stdout = '';
      const collect = (d: Buffer) => {
        stdout += d.toString();
        if (stdout.length > 200_000) stdout = stdout.slice(-100_000);
      };
      child.stdout.on('data', collect);
      child.stderr.on('data', collect);
      child.on('error', (err) => resolveRun({ code: -1, errors: String(err), stdout }));
      child.on('exit', (code) => {
        if (code === SIPP_BIND_ERROR && opts.port === undefined && tries < BIND_TRIES && !killed) {
          port = randomPort();
          resolveRun(attempt(tries + 1));
          return;
        }
        const text = existsSync(errorFile) ? readFileSync(errorFile, 'utf8') : '';
        resolveRun({ code, errors: opts.rawErrors ? text : sippErrors(text), stdout });
      });
    });

  const done = attempt(1);
  void done.then(() => {
    exited = true;
  });
  const listening = waitBound(
    opts.ip,
    () => port,
    transport,
    () => childPid,
    () => exited,
  );
  return {
    get port() {
      return port;
    },
    listening,
    done,
    kill: () => kill(),
  };
}

/**
 * Polls until the sipp process itself has bound ip:port: the socket shows in /proc/net (UDP:
 * bound; TCP: listening) and its inode is one of the process's open files. Neither binding the
 * port to probe it (that could take it from sipp as it starts) nor a socket of another process on
 * the port (the reason sipp may fail and retry) counts.
 */
async function waitBound(ip: string, port: () => number, transport: 'udp' | 'tcp', pid: () => number | undefined, gaveUp: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && !gaveUp()) {
    const p = pid();
    if (p !== undefined && boundBy(p, ip, port(), transport)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

function boundBy(pid: number, ip: string, port: number, transport: 'udp' | 'tcp'): boolean {
  const want = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const addr = ip.includes(':')
    ? null
    : ip
        .split('.')
        .map((o) => Number(o).toString(16).toUpperCase().padStart(2, '0'))
        .reverse()
        .join('');
  const inodes = new Set<string>();
  for (const table of transport === 'udp' ? ['/proc/net/udp', '/proc/net/udp6'] : ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!existsSync(table)) continue;
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      const local = f[1];
      if (!local?.endsWith(want)) continue;
      if (transport === 'tcp' && f[3] !== '0A') continue; // LISTEN
      const host = local.slice(0, -want.length);
      if (addr === null || host === addr || /^0+$/.test(host)) inodes.add(f[9] ?? '');
    }
  }
  if (inodes.size === 0) return false;
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSafe(`/proc/${pid}/fd/${fd}`));
      if (m && inodes.has(m[1]!)) return true;
    }
  } catch {
    /* the process is gone */
  }
  return false;
}

function readlinkSafe(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return '';
  }
}
