import { hostname } from 'node:os';
import { isCluster } from '../common/redis-connection.ts';
import type { RedisClient } from '../common/redis-connection.ts';
import type { Logger } from 'pino';
import { decodeEvent, MalformedEventError } from './stream-event.ts';
import type { LedgerEvent } from './stream-event.ts';

/** Where a batch of events goes (Postgres in production). Must be idempotent on event id. */
export interface LedgerSink {
  write(events: readonly LedgerEvent[]): Promise<void>;
}

export interface LedgerWriterOptions {
  streams: string[]; // the shard streams to drain
  deadLetterStream: string; // events that can never be written go here, never dropped
  group?: string;
  consumer?: string;
  batchSize?: number;
  blockMs?: number;
  claimIdleMs?: number; // pending entries idle this long belong to a dead writer
  maxBackoffMs?: number;
  logger: Logger;
}

type RawEntries = [string, [string, string[]][]][] | null;

/** On a Redis Cluster, how often an idle writer looks for new events (it cannot block on several slots). */
export const CLUSTER_POLL_MS = 100;

/**
 * Moves balance events from the Redis shard streams into Postgres in batches.
 *
 *   XREADGROUP (own pending first, then new) ─▶ decode ─▶ sink.write (one transaction) ─▶ XACK + XDEL
 *
 * - At-least-once delivery from the stream, exactly-once effect in Postgres (the sink is
 *   idempotent on event id), so a crash between the write and the XACK only causes a replay.
 * - Postgres down: the batch stays pending and is retried with capped exponential backoff; the
 *   events wait in Redis, nothing is lost.
 * - A writer that died mid-batch: its pending entries are taken over with XAUTOCLAIM once idle
 *   for claimIdleMs.
 * - An event Postgres rejects for its content (not for being unreachable) is isolated by writing
 *   the batch one event at a time; the one that fails goes to the dead-letter stream, logged.
 */
export class LedgerWriter {
  readonly group: string;
  readonly consumer: string;
  private readonly perStream: number;
  private readonly blockMs: number;
  private readonly claimIdleMs: number;
  private readonly maxBackoffMs: number;
  private readonly log: Logger;
  private running = false;
  private loop: Promise<void> | undefined;
  private lastClaim = 0;
  private failures = 0;
  private stopWake: (() => void) | undefined;
  /** Events written since start; for metrics and tests. */
  written = 0;

  constructor(
    private readonly redis: RedisClient, // a connection of its own: XREADGROUP BLOCK holds it
    private readonly sink: LedgerSink,
    private readonly opts: LedgerWriterOptions,
  ) {
    this.group = opts.group ?? 'ledger';
    this.consumer = opts.consumer || `${hostname()}-${process.pid}`;
    this.perStream = Math.max(1, Math.ceil((opts.batchSize ?? 1000) / Math.max(1, opts.streams.length)));
    this.blockMs = opts.blockMs ?? 1000;
    this.claimIdleMs = opts.claimIdleMs ?? 30_000;
    this.maxBackoffMs = opts.maxBackoffMs ?? 10_000;
    this.log = opts.logger.child({ component: 'ledger.writer', consumer: this.consumer });
  }

  async ensureGroups(): Promise<void> {
    for (const s of this.opts.streams) {
      try {
        await this.redis.xgroup('CREATE', s, this.group, '0', 'MKSTREAM');
      } catch (err) {
        if (!String((err as Error).message).includes('BUSYGROUP')) throw err;
      }
    }
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Stops after the batch in hand is written (or given up for now). */
  async stop(): Promise<void> {
    this.running = false;
    this.stopWake?.();
    await this.loop;
  }

  /**
   * The running loop overlaps the two halves of the work: while one batch is being written to
   * Postgres, the next is read and decoded from Redis. Only one write is in flight at a time (back
   * pressure, and batches reach Postgres in order). After a failed write the entries read ahead
   * are dropped from memory (they stay pending) and the loop re-reads its own pending entries.
   */
  private async run(): Promise<void> {
    await this.ensureGroups();
    let recovering = true; // first, whatever this consumer left pending
    let inflight: Promise<void> | undefined;
    let failed: unknown;
    while (this.running) {
      try {
        let entries: LedgerEvent[] = [];
        if (recovering) {
          if (inflight) await inflight;
          entries = await this.read('0', false);
          if (entries.length === 0) recovering = false;
        }
        if (entries.length === 0 && Date.now() - this.lastClaim >= Math.min(this.claimIdleMs, 5000)) {
          this.lastClaim = Date.now();
          entries = await this.claimIdle();
        }
        if (entries.length === 0 && !recovering) entries = await this.read('>', true);
        if (inflight) await inflight;
        if (failed !== undefined) {
          const err = failed;
          failed = undefined;
          recovering = true;
          throw err;
        }
        if (entries.length === 0) continue;
        inflight = this.writeBatch(entries).then(
          () => {
            this.failures = 0;
          },
          (err: unknown) => {
            failed = err;
          },
        );
      } catch (err) {
        this.failures++;
        const delay = Math.min(this.maxBackoffMs, 100 * 2 ** Math.min(this.failures, 10));
        this.log.warn({ err: (err as Error).message, retryInMs: delay, failures: this.failures }, 'ledger batch not written; events stay pending');
        await this.sleep(delay);
      }
    }
    await inflight;
  }

  /**
   * One unit of work: own pending entries first, then idle entries of dead writers, then new
   * ones. Returns how many events were written. `block` lets the new-entry read wait.
   */
  async step(block = false): Promise<number> {
    let entries = await this.read('0', false); // ours, delivered but not acked
    if (entries.length === 0 && Date.now() - this.lastClaim >= Math.min(this.claimIdleMs, 5000)) {
      this.lastClaim = Date.now();
      entries = await this.claimIdle();
    }
    if (entries.length === 0) entries = await this.read('>', block);
    if (entries.length === 0) return 0;
    await this.writeBatch(entries);
    return entries.length;
  }

  /** Processes until no event is pending or new (for commands such as reconcile, and tests). */
  async drain(maxRounds = 10_000): Promise<number> {
    await this.ensureGroups();
    let total = 0;
    for (let i = 0; i < maxRounds; i++) {
      const n = await this.step(false);
      if (n === 0) {
        const claimed = await this.claimIdle(0);
        if (claimed.length === 0) return total;
        await this.writeBatch(claimed);
        total += claimed.length;
      }
      total += n;
    }
    return total;
  }

  private async read(id: '0' | '>', block: boolean): Promise<LedgerEvent[]> {
    const streams = this.opts.streams;
    // COUNT applies to each stream: share the batch between them so a batch stays batchSize events
    const head: (string | number)[] = ['GROUP', this.group, this.consumer, 'COUNT', this.perStream];
    const reader = this.redis as unknown as { xreadgroup(...a: (string | number)[]): Promise<RawEntries> };
    const xreadgroup = (...a: (string | number)[]) => reader.xreadgroup(...a);
    if (!isCluster(this.redis)) {
      const args = [...head];
      if (block) args.push('BLOCK', this.blockMs);
      args.push('STREAMS', ...streams, ...streams.map(() => id));
      return this.decodeAll(await xreadgroup(...args));
    }
    // Redis Cluster: each shard stream is a slot of its own and one XREADGROUP may name one slot
    // only, so every stream is read by its own command (sent together); a blocking read would hold
    // a node's connection for one stream, so waiting for new events is a short poll instead
    const results = await Promise.all(streams.map((s) => xreadgroup(...head, 'STREAMS', s, id)));
    const entries: NonNullable<RawEntries> = results.flatMap((r) => r ?? []);
    if (block && entries.every(([, e]) => e.length === 0)) await this.sleep(Math.min(this.blockMs, CLUSTER_POLL_MS));
    return this.decodeAll(entries);
  }

  private async claimIdle(idleMs = this.claimIdleMs): Promise<LedgerEvent[]> {
    const out: LedgerEvent[] = [];
    for (const s of this.opts.streams) {
      const r = (await this.redis.xautoclaim(s, this.group, this.consumer, idleMs, '0-0', 'COUNT', this.perStream)) as [string, [string, string[]][]];
      if (r[1].length > 0) this.log.info({ stream: s, count: r[1].length }, 'reclaimed pending events of an idle writer');
      out.push(...(await this.decodeAll([[s, r[1]]])));
    }
    return out;
  }

  private async decodeAll(res: RawEntries): Promise<LedgerEvent[]> {
    const out: LedgerEvent[] = [];
    for (const [stream, entries] of res ?? []) {
      for (const [id, fields] of entries) {
        if (fields === null) {
          // deleted while pending
          await this.redis.xack(stream, this.group, id);
          continue;
        }
        try {
          out.push(decodeEvent(stream, id, fields));
        } catch (err) {
          if (!(err instanceof MalformedEventError)) throw err;
          await this.deadLetter(stream, id, fields, err.message);
        }
      }
    }
    return out;
  }

  private async writeBatch(events: LedgerEvent[]): Promise<void> {
    try {
      await this.sink.write(events);
    } catch (err) {
      if (!isContentError(err)) throw err; // unreachable: retry later
      this.log.error({ err: (err as Error).message, count: events.length }, 'batch rejected; isolating the bad event');
      for (const e of events) {
        try {
          await this.sink.write([e]);
        } catch (one) {
          if (!isContentError(one)) throw one;
          await this.deadLetter(e.stream, e.streamId, flatten(e), (one as Error).message);
          continue;
        }
        await this.ack([e]);
      }
      return;
    }
    await this.ack(events);
    this.written += events.length;
  }

  private async ack(events: readonly LedgerEvent[]): Promise<void> {
    const byStream = new Map<string, string[]>();
    for (const e of events) {
      const ids = byStream.get(e.stream) ?? [];
      ids.push(e.streamId);
      byStream.set(e.stream, ids);
    }
    // written events leave the stream (what remains is unwritten); one transaction per stream: each
    // stream is one slot, and a cluster refuses a transaction over several
    await Promise.all(
      [...byStream].map(([s, ids]) =>
        this.redis
          .multi()
          .xack(s, this.group, ...ids)
          .xdel(s, ...ids)
          .exec(),
      ),
    );
  }

  /**
   * The dead-letter stream is not in the shard's slot, so the copy is added first and the entry then
   * acknowledged and removed: a crash in between leaves the event in both, and its next delivery
   * dead-letters it again (a second copy in the dead letters, never a lost one).
   */
  private async deadLetter(stream: string, id: string, fields: string[], why: string): Promise<void> {
    this.log.error({ stream, id, why }, 'event moved to the dead-letter stream');
    await this.redis.xadd(this.opts.deadLetterStream, '*', 'stream', stream, 'sid', id, 'why', why, ...fields);
    await this.redis.multi().xack(stream, this.group, id).xdel(stream, id).exec();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.stopWake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }
}

/** Postgres refused the data itself (SQLSTATE class 22 data exception, 23 integrity violation). */
function isContentError(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && /^(22|23)/.test(code);
}

function flatten(e: LedgerEvent): string[] {
  return [
    'id',
    e.eventId,
    'type',
    e.type,
    'acct',
    String(e.accountId ?? ''),
    'amount',
    String(e.amount),
    'bal',
    String(e.balanceAfter),
    'ref',
    e.reference,
    'ts',
    String(e.occurredAt),
    'cdr',
    e.cdr ? JSON.stringify(e.cdr) : '',
    ...(e.session ? ['session', JSON.stringify(e.session)] : []),
  ];
}
