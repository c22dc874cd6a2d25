/**
 * Edge benchmark: SIPp UAC → edge (own process) → trivial createUAS app (own process); SIPp
 * hangs up after 200 ms. For each rate: -m rate·duration calls, bounded by -timeout; records
 * successful/failed calls, retransmissions and unexpected messages from SIPp's statistics, and
 * the CPU of the edge and app processes from /proc. Then holds N calls to measure the edge's
 * memory per established dialog, and (optionally) runs the edge under --cpu-prof.
 *
 * Usage: tsx scripts/bench/edge-throughput.ts [--rates 500,700] [--duration 60] [--hold 5000] [--profile]
 * Writes bench-results/edge.json.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
const args = process.argv.slice(2);
const opt = (name: string, dflt: string): string => {
  const i = args.indexOf(name);
  return i >= 0 ? (args[i + 1] ?? dflt) : dflt;
};
const rates = opt('--rates', '500').split(',').map(Number);
const duration = Number(opt('--duration', '60'));
const hold = Number(opt('--hold', '5000'));
const profile = args.includes('--profile');
const IP = '127.0.0.1';
const SIP_PORT = 25060 + Math.floor(Math.random() * 1000);
const ADMIN_PORT = SIP_PORT + 1000;
const SECRET = 'bench';
const CLK = 100; // USER_HZ

function cpuTicks(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}
function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

function waitLine(child: ChildProcess, text: string): Promise<void> {
  return new Promise((res, rej) => {
    let buf = '';
    child.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.includes(text)) res();
    });
    child.on('exit', (code) => rej(new Error(`exited ${code} before "${text}"`)));
  });
}

async function startEdge(profDir?: string): Promise<ChildProcess> {
  const nodeArgs = [
    '--import',
    'tsx',
    ...(profDir ? ['--cpu-prof', '--cpu-prof-dir', profDir] : []),
    'src/edge/bin/main.ts',
    '--sip',
    `udp/${IP}:${SIP_PORT}`,
    '--sip',
    `tcp/${IP}:${SIP_PORT}`,
    '--admin-host',
    IP,
    '--admin-port',
    String(ADMIN_PORT),
    '--secret',
    SECRET,
    '--log-level',
    'error',
  ];
  const edge = spawn(process.execPath, nodeArgs, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  await waitLine(edge, 'edge-ready');
  return edge;
}
async function startApp(): Promise<ChildProcess> {
  const app = spawn(process.execPath, ['--import', 'tsx', 'scripts/bench/edge-trivial-app.ts', IP, String(ADMIN_PORT), SECRET], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await waitLine(app, 'app-ready');
  return app;
}
function stop(child: ChildProcess): Promise<void> {
  return new Promise((res) => {
    if (child.exitCode !== null) return res();
    child.once('exit', () => res());
    child.kill('SIGTERM');
  });
}

interface SippStats {
  successful: number;
  failed: number;
  retransmissions: number;
  unexpected: number;
  wallSec: number;
  raw: Record<string, string>;
}

function runSipp(
  scenario: string,
  rate: number,
  calls: number,
  timeoutSec: number,
  extra: string[] = [],
  onStat?: (row: Record<string, string>) => void,
): Promise<SippStats> {
  const dir = mkdtempSync(join(tmpdir(), 'edge-bench-'));
  const statFile = join(dir, 'stat.csv');
  const a = [
    '-sf',
    join(ROOT, 'test/sipp/edge', scenario),
    '-i',
    IP,
    '-p',
    String(SIP_PORT + 2000),
    '-mp',
    String(SIP_PORT + 3000),
    '-r',
    String(rate),
    '-m',
    String(calls),
    '-l',
    String(Math.max(calls, 1000)),
    '-timeout',
    `${timeoutSec}s`,
    '-nostdin',
    '-s',
    '1234',
    '-trace_stat',
    '-stf',
    statFile,
    '-fd',
    '1',
    '-trace_err',
    '-error_file',
    join(dir, 'err.log'),
    ...extra,
    `${IP}:${SIP_PORT}`,
  ];
  const started = Date.now();
  const child = spawn('sipp', a, { cwd: dir, stdio: 'ignore' });
  let poll: ReturnType<typeof setInterval> | undefined;
  const lastRow = (): Record<string, string> => {
    if (!existsSync(statFile)) return {};
    const lines = readFileSync(statFile, 'utf8').trim().split('\n');
    const head = (lines[0] ?? '').split(';');
    const row = (lines[lines.length - 1] ?? '').split(';');
    return Object.fromEntries(head.map((h, i) => [h, row[i] ?? '']));
  };
  if (onStat) poll = setInterval(() => onStat(lastRow()), 500);
  return new Promise((res) =>
    child.on('exit', () => {
      if (poll) clearInterval(poll);
      const row = lastRow();
      const n = (k: string): number => Number(row[k] ?? 0);
      const errLog = existsSync(join(dir, 'err.log')) ? readFileSync(join(dir, 'err.log'), 'utf8') : '';
      res({
        successful: n('SuccessfulCall(C)'),
        failed: n('FailedCall(C)'),
        retransmissions: n('Retransmissions(C)'),
        unexpected: (errLog.match(/Aborting call|unexpected/gi) ?? []).length,
        wallSec: (Date.now() - started) / 1000,
        raw: row,
      });
    }),
  );
}

async function throughput(rate: number): Promise<Record<string, unknown>> {
  const edge = await startEdge();
  const app = await startApp();
  const e0 = cpuTicks(edge.pid!);
  const a0 = cpuTicks(app.pid!);
  const stats = await runSipp('uac-bye.xml', rate, rate * duration, duration + 30);
  const edgeCpu = (cpuTicks(edge.pid!) - e0) / CLK / stats.wallSec;
  const appCpu = (cpuTicks(app.pid!) - a0) / CLK / stats.wallSec;
  await stop(app);
  await stop(edge);
  const retransmissionsByMessage = Object.fromEntries(
    Object.entries(stats.raw).filter(([k, v]) => /Retrans/.test(k) && k !== 'Retransmissions(C)' && /\(C\)/.test(k) && Number(v) > 0),
  );
  const result = {
    rate,
    calls: rate * duration,
    ...stats,
    raw: undefined,
    retransmissionsByMessage,
    loadAverage: (await import('node:os')).loadavg()[0],
    edgeCpuCores: +edgeCpu.toFixed(3),
    appCpuCores: +appCpu.toFixed(3),
    clean: stats.failed === 0 && stats.successful === rate * duration && stats.retransmissions === 0,
  };
  console.log(JSON.stringify(result));
  return result;
}

async function heldCalls(): Promise<Record<string, unknown>> {
  const edge = await startEdge();
  const app = await startApp();
  await new Promise((r) => setTimeout(r, 500));
  const before = rssKb(edge.pid!);
  let peak = 0;
  let atHold = 0;
  const holdMs = Math.ceil(hold / 500) * 1000 + 15_000;
  const stats = await runSipp('uac-hold.xml', 500, hold, holdMs / 1000 + 30, ['-d', String(holdMs)], (row) => {
    const current = Number(row['CurrentCall'] ?? 0);
    if (current >= hold && atHold === 0) atHold = rssKb(edge.pid!);
    peak = Math.max(peak, current);
  });
  await stop(app);
  await stop(edge);
  const result = {
    heldCalls: hold,
    peakConcurrent: peak,
    rssBeforeKb: before,
    rssAtHoldKb: atHold,
    bytesPerDialog: atHold > 0 ? Math.round(((atHold - before) * 1024) / hold) : null,
    failed: stats.failed,
  };
  console.log(JSON.stringify(result));
  return result;
}

async function cpuProfile(rate: number): Promise<Record<string, unknown>> {
  const dir = join(ROOT, 'bench-results', 'edge-profile');
  mkdirSync(dir, { recursive: true });
  const edge = await startEdge(dir);
  const app = await startApp();
  const stats = await runSipp('uac-bye.xml', rate, rate * 20, 50);
  await stop(app);
  await stop(edge);
  const file = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort()
    .pop();
  return { rate, seconds: 20, file: file ? join('bench-results/edge-profile', file) : null, failed: stats.failed };
}

const out: Record<string, unknown> = { date: new Date().toISOString(), durationSec: duration, machine: { cpus: (await import('node:os')).cpus().length } };
out.throughput = [];
for (const r of rates) (out.throughput as unknown[]).push(await throughput(r));
if (hold > 0) out.memory = await heldCalls();
if (profile) out.profile = await cpuProfile(rates[0] ?? 500);
mkdirSync(join(ROOT, 'bench-results'), { recursive: true });
const file = join(ROOT, 'bench-results', 'edge.json');
const previous = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : {};
writeFileSync(file, JSON.stringify({ ...previous, ...out }, null, 2) + '\n');
console.log(`written ${file}`);
