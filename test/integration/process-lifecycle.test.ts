// The start-up and signal sequence the SIP application and the account API share (src/common/process-lifecycle.ts),
// run in a real child process: exit codes, messages, and one stop per process however many signals arrive.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';

const ENV = { PIN_PEPPER: 'p'.repeat(32), DRACHTIO_SECRET: 'lifecycle-test', SIP_NONCE_KEY: 'n'.repeat(32), REDIS_NAMESPACE: 'lifecycle' };

interface Child {
  lines: Record<string, unknown>[];
  stderr: () => string;
  /** Resolves with the first stdout line of this event. */
  next: (event: string) => Promise<Record<string, unknown>>;
  kill: (signal: NodeJS.Signals) => void;
  exit: Promise<number | null>;
}

function run(mode: string, env: Record<string, string> = {}): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/lifecycle-child.ts', mode], {
    env: { ...process.env, ...ENV, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Record<string, unknown>[] = [];
  const waiting: { event: string; resolve: (l: Record<string, unknown>) => void }[] = [];
  let err = '';
  child.stderr.on('data', (d: Buffer) => {
    err += String(d);
  });
  createInterface({ input: child.stdout }).on('line', (text) => {
    const line = JSON.parse(text) as Record<string, unknown>;
    lines.push(line);
    for (const w of waiting.filter((x) => x.event === line.event)) w.resolve(line);
  });
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const timeout = setTimeout(() => child.kill('SIGKILL'), 30_000);
  void exit.then(() => clearTimeout(timeout));
  return {
    lines,
    stderr: () => err,
    exit,
    kill: (signal) => child.kill(signal),
    next: (event) =>
      new Promise((resolve, reject) => {
        const seen = lines.find((l) => l.event === event);
        if (seen) {
          resolve(seen);
          return;
        }
        waiting.push({ event, resolve });
        void exit.then((code) => reject(new Error(`exited ${code} before ${event}: ${err}`)));
      }),
  };
}

describe('an app process', () => {
  it('starts with the configuration, and on SIGTERM logs the signal, stops once and exits 0', async () => {
    const c = run('');
    expect(await c.next('listening')).toEqual({ event: 'listening', namespace: 'lifecycle' });
    await c.next('started');
    c.kill('SIGTERM');
    expect(await c.exit).toBe(0);
    expect(c.lines.slice(2)).toEqual([
      { event: 'log', fields: { signal: 'SIGTERM' }, message: 'stopping' },
      { event: 'stop', stops: 1 },
    ]);
  }, 40_000);

  it('a SIGTERM sent as soon as it says it is listening (still starting) stops it gracefully once started', async () => {
    const c = run('');
    await c.next('listening');
    c.kill('SIGTERM');
    expect(await c.exit).toBe(0);
    expect(c.lines.filter((l) => l.event !== 'started')).toEqual([
      { event: 'listening', namespace: 'lifecycle' },
      { event: 'log', fields: { signal: 'SIGTERM' }, message: 'stopping' },
      { event: 'stop', stops: 1 },
    ]);
  }, 40_000);

  it('exits 1 when stopping fails after SIGINT', async () => {
    const c = run('fail-stop');
    await c.next('started');
    c.kill('SIGINT');
    expect(await c.exit).toBe(1);
    expect(c.lines.filter((l) => l.event === 'stop')).toEqual([{ event: 'stop', stops: 1 }]);
  }, 40_000);

  it('exits 2 with the problems on a bad configuration, before starting', async () => {
    const c = run('', { REDIS_NAMESPACE: 'not a namespace!' });
    expect(await c.exit).toBe(2);
    expect(c.stderr()).toContain('REDIS_NAMESPACE must be 1-32 characters');
    expect(c.lines).toEqual([]);
  }, 40_000);

  it('exits 1 naming itself when start fails', async () => {
    const c = run('fail-start');
    expect(await c.exit).toBe(1);
    expect(c.stderr()).toBe('lifecycle child failed to start: port in use\n');
  }, 40_000);
});
