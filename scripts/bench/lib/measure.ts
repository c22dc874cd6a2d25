/**
 * Shared helpers for the money-engine benchmarks: percentiles, process CPU from /proc, machine
 * description, Redis INFO commandstats deltas, namespace cleanup, argument parsing and a CDR
 * builder. No dependency on the test support code.
 */
import { execSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname } from 'node:path';
import type { Redis } from 'ioredis';
import type { CdrRecord } from '../../../src/billing/balance/balance-store.ts';

export const round = (value: number, places = 3): number => Number(value.toFixed(places));

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

export function summarise(values: Float64Array | number[], places = 3): { count: number; mean: number; p50: number; p90: number; p99: number; max: number } {
  const sorted = Float64Array.from(values).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    count: sorted.length,
    mean: round(sorted.length ? sum / sorted.length : Number.NaN, places),
    p50: round(percentile(sorted, 50), places),
    p90: round(percentile(sorted, 90), places),
    p99: round(percentile(sorted, 99), places),
    max: round(sorted[sorted.length - 1] ?? Number.NaN, places),
  };
}

let clockTicks: number | undefined;
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execSync('getconf CLK_TCK', { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** User + system CPU seconds a process has used so far, from /proc/<pid>/stat (undefined if unreadable). */
export function processCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After the command name: state is field 3, utime field 14, stime field 15 (1-based in proc(5)).
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return (utime + stime) / ticksPerSecond();
  } catch {
    return undefined;
  }
}

/** CPU meter for this process and others: cores used (CPU seconds per wall second) over an interval. */
export class CpuMeter {
  private readonly startWall = process.hrtime.bigint();
  private readonly startSelf = process.cpuUsage();
  private readonly startOthers: Map<string, number | undefined>;

  constructor(private readonly others: Record<string, number | undefined>) {
    this.startOthers = new Map(Object.entries(others).map(([k, pid]) => [k, pid === undefined ? undefined : processCpuSeconds(pid)]));
  }

  stop(): Record<string, { cpu_s: number; cores: number } | null> & { wall_s: number } {
    const wall = Number(process.hrtime.bigint() - this.startWall) / 1e9;
    const self = process.cpuUsage(this.startSelf);
    const selfS = (self.user + self.system) / 1e6;
    const out: Record<string, { cpu_s: number; cores: number } | null> & { wall_s: number } = {
      wall_s: round(wall),
      node: { cpu_s: round(selfS), cores: round(selfS / wall) },
    } as never;
    for (const [name, pid] of Object.entries(this.others)) {
      const before = this.startOthers.get(name);
      const after = pid === undefined ? undefined : processCpuSeconds(pid);
      out[name] = before === undefined || after === undefined ? null : { cpu_s: round(after - before), cores: round((after - before) / wall) };
    }
    return out;
  }
}

function tryExec(cmd: string): string | null {
  try {
    return execSync(cmd, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

export function machine(): Record<string, unknown> {
  return {
    nproc: Number(tryExec('nproc') ?? cpus().length),
    cpu_model: cpus()[0]?.model ?? 'unknown',
    mem_total_gb: round(totalmem() / 2 ** 30, 1),
    node: process.version,
    loadavg_at_start: loadavg().map((v) => round(v, 2)),
  };
}

export async function redisServer(redis: Redis): Promise<{ version: string; pid: number | undefined; persistence: string }> {
  const info = await redis.info('server');
  const field = (name: string): string | undefined => new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim();
  const pidText = field('process_id');
  const pid = pidText && processCpuSeconds(Number(pidText)) !== undefined ? Number(pidText) : undefined;
  const [, aof] = (await redis.config('GET', 'appendonly')) as string[];
  const [, save] = (await redis.config('GET', 'save')) as string[];
  return { version: field('redis_version') ?? 'unknown', pid, persistence: `appendonly=${aof ?? '?'} save="${save ?? '?'}"` };
}

export type CommandStats = Map<string, { calls: number; usec: number }>;

export async function commandStats(redis: Redis): Promise<CommandStats> {
  const info = await redis.info('commandstats');
  const out: CommandStats = new Map();
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
    out.set(m[1]!, { calls: Number(m[2]), usec: Number(m[3]) });
  }
  return out;
}

/** Per-command calls and µs per call between two snapshots (server-wide: includes any other client's traffic). */
export function statsDelta(
  before: CommandStats,
  after: CommandStats,
  only?: string[],
): Record<string, { calls: number; usec_per_call: number; total_s: number }> {
  const out: Record<string, { calls: number; usec_per_call: number; total_s: number }> = {};
  for (const [name, a] of after) {
    if (only && !only.includes(name)) continue;
    const b = before.get(name) ?? { calls: 0, usec: 0 };
    const calls = a.calls - b.calls;
    if (calls <= 0) continue;
    out[name] = { calls, usec_per_call: round((a.usec - b.usec) / calls, 2), total_s: round((a.usec - b.usec) / 1e6) };
  }
  return out;
}

export { deleteNamespace } from '../../../test/support/redis-namespace.ts';

/** A plausible answered-call CDR (about 500 bytes of JSON, like production ones). */
export function benchCdr(callId: string, accountId: number, cost: number, startTime: number): CdrRecord {
  return {
    callId,
    accountId,
    kind: 'device',
    cli: '+447700900123',
    sourceIp: '192.0.2.10',
    accessNumber: null,
    device: 'bench-device',
    dialledNumber: '00441632960001',
    destination: '441632960001',
    startTime,
    answerTime: startTime + 2000,
    endTime: startTime + 62_000,
    durationMs: 60_000,
    billedSeconds: 60,
    ratePrefix: '44',
    pricePerMinute: cost,
    cost,
    currency: 'GBP',
    disposition: 'answered',
    sipCode: 200,
    sipReason: 'OK',
    carrier: 'bench-carrier',
  };
}

/** `--name=value` arguments; a list value is comma-separated. */
export function args(): Map<string, string> {
  const out = new Map<string, string>();
  for (const a of process.argv.slice(2)) {
    const m = /^--([a-z0-9-]+)(?:=(.*))?$/.exec(a);
    if (m) out.set(m[1]!, m[2] ?? 'true');
  }
  return out;
}

export function intArg(a: Map<string, string>, name: string, fallback: number): number {
  const v = a.get(name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`--${name} must be a non-negative integer`);
  return n;
}

export function listArg(a: Map<string, string>, name: string, fallback: number[]): number[] {
  const v = a.get(name);
  if (v === undefined) return fallback;
  return v.split(',').map((x) => {
    const n = Number(x);
    if (!Number.isInteger(n) || n <= 0) throw new RangeError(`--${name} must be a list of positive integers`);
    return n;
  });
}

export function writeJson(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
