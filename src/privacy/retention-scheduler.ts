import { randomUUID } from 'node:crypto';
import type { RedisClient } from '../common/redis-connection.ts';
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../common/clock.ts';

/**
 * Runs the retention jobs by themselves, once per interval across every process of the
 * installation: each process that schedules them (every account API process) looks every
 * `checkMs` whether a run is due (the last run, kept in Redis, is older than `intervalMs`), and
 * only the one that takes the Redis lock (SET NX with an expiry, so a process that dies mid-run
 * frees it) runs them. The outcome of the last run (when, how long, what was removed, or the
 * error) is kept in Redis for the console, the API and the metrics.
 *
 *   <ns>:retention:lock   the runner's id, expires after `lockMs`
 *   <ns>:retention:last   hash: at (ms), durationMs, ok (1/0), result (JSON) or error
 */
export interface RetentionRunStatus {
  at: number;
  durationMs: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}

export interface RetentionSchedulerOptions {
  namespace: string;
  intervalMs: number;
  checkMs: number;
  lockMs: number;
}

/** The last scheduled retention run of the installation (for the API, the console and the metrics). */
export async function lastRetentionRun(redis: Pick<RedisClient, 'hgetall'>, namespace: string): Promise<RetentionRunStatus | undefined> {
  const h = await redis.hgetall(`${namespace}:retention:last`);
  if (h.at === undefined) return undefined;
  return {
    at: Number(h.at),
    durationMs: Number(h.durationMs ?? 0),
    ok: h.ok === '1',
    ...(h.result !== undefined ? { result: JSON.parse(h.result) as unknown } : {}),
    ...(h.error !== undefined ? { error: h.error } : {}),
  };
}

const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

export class RetentionScheduler {
  private timer: TimerHandle | undefined;
  private stopped = false;
  private readonly id = randomUUID();

  constructor(
    private readonly redis: RedisClient,
    private readonly run: (now: Date) => Promise<unknown>,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly opts: RetentionSchedulerOptions,
  ) {}

  private get lockKey(): string {
    return `${this.opts.namespace}:retention:lock`;
  }

  private get lastKey(): string {
    return `${this.opts.namespace}:retention:last`;
  }

  /** The last run anywhere, or undefined if none was recorded. */
  async last(): Promise<RetentionRunStatus | undefined> {
    return lastRetentionRun(this.redis, this.opts.namespace);
  }

  /**
   * Runs the jobs if a run is due and this process gets the lock; `ran` says whether it did. A
   * failed run is recorded and retried at the next check (it does not count as the interval's run).
   */
  async runIfDue(): Promise<{ ran: boolean; status?: RetentionRunStatus }> {
    const last = await this.last();
    if (last?.ok === true && this.clock.now() - last.at < this.opts.intervalMs) return { ran: false };
    if ((await this.redis.set(this.lockKey, this.id, 'PX', this.opts.lockMs, 'NX')) !== 'OK') return { ran: false };
    try {
      // checked again under the lock: another process may have finished a run meanwhile
      const again = await this.last();
      if (again?.ok === true && this.clock.now() - again.at < this.opts.intervalMs) return { ran: false };
      const started = this.clock.now();
      let status: RetentionRunStatus;
      try {
        const result = await this.run(new Date(started));
        status = { at: started, durationMs: this.clock.now() - started, ok: true, result };
        this.log.info({ durationMs: status.durationMs, result }, 'retention: scheduled run done');
      } catch (err) {
        status = { at: started, durationMs: this.clock.now() - started, ok: false, error: (err as Error).message };
        this.log.error({ err }, 'retention: scheduled run failed');
      }
      await this.redis.hset(this.lastKey, {
        at: String(status.at),
        durationMs: String(status.durationMs),
        ok: status.ok ? '1' : '0',
        ...(status.ok ? { result: JSON.stringify(status.result ?? null) } : { error: status.error ?? '' }),
      });
      if (status.ok) await this.redis.hdel(this.lastKey, 'error');
      else await this.redis.hdel(this.lastKey, 'result');
      return { ran: true, status };
    } finally {
      await this.redis.eval(RELEASE, 1, this.lockKey, this.id);
    }
  }

  /** Checks now and every `checkMs` until stop(). */
  start(): void {
    const tick = () => {
      if (this.stopped) return;
      this.runIfDue()
        .catch((err: unknown) => this.log.error({ err }, 'retention: scheduler check failed'))
        .finally(() => {
          if (!this.stopped) this.timer = this.clock.setTimeout(tick, this.opts.checkMs);
        });
    };
    tick();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
  }
}
