/** SIPp runs and child processes for the SIP benchmarks (sip-call-flow.ts, sip-hold.ts). */
import { spawn, execSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../../..');

/** The first `bytes` of a file (sipp's error log can grow past what one string holds on a long run), or '' when there is none. */
function fileStart(file: string, bytes: number): string {
  if (!existsSync(file)) return '';
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    return buf.subarray(0, readSync(fd, buf, 0, bytes, 0)).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** Resolves once the child has printed `text` on its standard output. */
export function waitLine(child: ChildProcess, text: string): Promise<void> {
  return new Promise((res, rej) => {
    let buf = '';
    child.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.includes(text)) res();
    });
    child.on('exit', (code) => rej(new Error(`exited ${code} before "${text}"`)));
  });
}

export interface SippOutcome {
  successful: number;
  failed: number;
  retransmissions: number;
  wallSec: number;
  setupMs: number[];
  errors: string;
}

export function runSipp(
  scenario: string,
  opts: { rate?: number; calls: number; timeoutSec: number; ip: string; port: number; remote?: string; extra?: string[] },
): { done: Promise<SippOutcome>; child: ChildProcess } {
  const dir = mkdtempSync(join(tmpdir(), 'sip-bench-'));
  const statFile = join(dir, 'stat.csv');
  const argv = [
    '-sf',
    join(ROOT, 'test/sipp/app', scenario),
    '-i',
    opts.ip,
    '-p',
    String(opts.port),
    '-mp',
    String(opts.port + 100),
    '-m',
    String(opts.calls),
    '-l',
    String(Math.max(opts.calls, 1000)),
    '-timeout',
    `${opts.timeoutSec}s`,
    '-nostdin',
    '-trace_stat',
    '-stf',
    statFile,
    '-fd',
    '1',
    '-trace_err',
    '-error_file',
    join(dir, 'err.log'),
    '-trace_rtt',
    '-rtt_freq',
    '1',
    ...(opts.rate ? ['-r', String(opts.rate)] : []),
    ...(opts.extra ?? []),
    ...(opts.remote ? [opts.remote] : []),
  ];
  const started = Date.now();
  const child = spawn('sipp', argv, { cwd: dir, stdio: 'ignore' });
  const done = new Promise<SippOutcome>((res) =>
    child.on('exit', () => {
      const lines = existsSync(statFile) ? readFileSync(statFile, 'utf8').trim().split('\n') : [];
      const head = (lines[0] ?? '').split(';');
      const row = (lines[lines.length - 1] ?? '').split(';');
      const stat = Object.fromEntries(head.map((h, i) => [h, row[i] ?? '']));
      const n = (k: string): number => Number(stat[k] ?? 0);
      const rttFile = execSync(`ls ${dir} | grep _rtt.csv || true`, { encoding: 'utf8' }).trim().split('\n')[0];
      const setupMs = rttFile
        ? readFileSync(join(dir, rttFile), 'utf8')
            .trim()
            .split('\n')
            .slice(1)
            .map((l) => Number(l.split(';')[1]))
            .filter((v) => Number.isFinite(v))
        : [];
      res({
        successful: n('SuccessfulCall(C)'),
        failed: n('FailedCall(C)'),
        retransmissions: n('Retransmissions(C)'),
        wallSec: (Date.now() - started) / 1000,
        setupMs,
        errors: fileStart(join(dir, 'err.log'), 2000),
      });
    }),
  );
  return { done, child };
}
