/**
 * A Redis server of the test's own (redis-server from the Debian package), with AOF, that the
 * test may crash (SIGKILL) and restart on the same port and data directory: the shared Redis of
 * the machine cannot be restarted under the other test files.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { randomPort } from './edge-apps/ports.ts';

export class PrivateRedis {
  private server: ChildProcess | undefined;
  private readonly dir = mkdtempSync(join(tmpdir(), 'softswitch-redis-'));
  private started = false;
  /** Random; another one is tried if the first start finds it taken. */
  port = randomPort();

  /** `appendfsync`: `always` loses nothing acknowledged in a crash; production's `everysec` up to a second. */
  constructor(private readonly appendfsync: 'always' | 'everysec' = 'always') {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts the server (again, after a crash: it reloads its AOF) and waits until it answers PING. */
  async start(): Promise<void> {
    for (let tries = 1; ; tries++) {
      try {
        await this.startOnce();
        this.started = true;
        return;
      } catch (err) {
        if (this.started || tries >= 5) throw err;
        await this.crash();
        this.port = randomPort();
      }
    }
  }

  private async startOnce(): Promise<void> {
    const server = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--appendonly',
        'yes',
        '--appendfsync',
        this.appendfsync,
        '--save',
        '',
        '--dir',
        this.dir,
        '--logfile',
        join(this.dir, 'redis.log'),
      ],
      { stdio: 'ignore' },
    );
    this.server = server;
    const probe = new Redis({ port: this.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => undefined);
    try {
      for (let i = 0; i < 100 && server.exitCode === null; i++) {
        try {
          await probe.connect();
          if ((await probe.ping()) === 'PONG') return;
        } catch {
          /* not yet */
        }
        probe.disconnect();
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`redis-server on port ${this.port} did not answer (exit code ${String(server.exitCode)})`);
    } finally {
      probe.disconnect();
    }
  }

  /** SIGKILL: no shutdown save, only what the AOF already holds survives. */
  async crash(): Promise<void> {
    const p = this.server;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const gone = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await gone;
  }

  async stop(): Promise<void> {
    await this.crash();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
