/**
 * Runs one SIPp scenario from test/sipp/edge as a child process, bounded by -m and -timeout,
 * and reports its exit code and error log (-trace_err). Each run gets its own random local
 * port and media port, so test files can run in parallel.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSipp } from '../sipp-process.ts';
import type { SippChild, SippRun } from '../sipp-process.ts';

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

export type SippResult = SippRun;

/** A running sipp (see SippChild); `localPort` is its SIP port. */
export type SippProcess = Omit<SippChild, 'port'> & { readonly localPort: number };

export function startSipp(opts: SippOptions): SippProcess {
  const args = [
    '-sf',
    join(SCENARIO_DIR, opts.scenario),
    '-m',
    String(opts.calls ?? 1),
    '-timeout',
    `${opts.timeoutSec ?? 20}s`,
    '-timeout_error',
    '-s',
    opts.service ?? '1234',
  ];
  if (opts.rate !== undefined) args.push('-r', String(opts.rate));
  if (opts.lostPercent !== undefined) args.push('-lost', String(opts.lostPercent));
  if (opts.extraArgs) args.push(...opts.extraArgs);
  if (opts.remote) args.push(opts.remote);
  const child = spawnSipp({ ip: opts.localIp, port: opts.localPort, transport: opts.transport, args, cwd: mkdtempSync(join(tmpdir(), 'edge-sipp-')) });
  return {
    get localPort() {
      return child.port;
    },
    done: child.done,
    listening: child.listening,
    kill: () => child.kill(),
  };
}

/** Runs a scenario to completion. */
export function runSipp(opts: SippOptions): Promise<SippResult> {
  return startSipp(opts).done;
}
