import type { RedisClient } from '../common/redis-connection.ts';

/**
 * The durable hand-over of callback requests from the API to exactly one SIP app process: a Redis
 * stream read through one consumer group.
 *
 *   <ns>:callback:requests   stream; each entry `{ id: <callback request id> }`
 *   group `sip-apps`         every SIP app process reads as its own consumer (its process name)
 *
 * An entry is acknowledged only once its request has been placed (or found already taken), so a
 * process that dies holding entries leaves them pending; after `claimIdleMs` another process takes
 * them over with XAUTOCLAIM. Delivering an entry twice is harmless: the request row goes from
 * 'queued' to 'placing' once (CallbackRequests.take), and only the process that moved it places the
 * call. The group is created at the start of the stream by whichever side comes first, so entries
 * added before any SIP app ever ran are read too.
 */
export const CALLBACK_GROUP = 'sip-apps';

export const callbackStreamKey = (namespace: string): string => `${namespace}:callback:requests`;

export interface CallbackEntry {
  /** The stream entry id (to acknowledge). */
  entry: string;
  /** The callback request id. */
  id: string;
}

async function ensureGroup(redis: RedisClient, stream: string): Promise<void> {
  try {
    await redis.xgroup('CREATE', stream, CALLBACK_GROUP, '0', 'MKSTREAM');
  } catch (err) {
    if (!String((err as Error).message).startsWith('BUSYGROUP')) throw err;
  }
}

/** The API side: queues a request for the SIP app processes. */
export class CallbackQueue {
  private ready?: Promise<void>;
  private readonly stream: string;

  constructor(
    private readonly redis: RedisClient,
    namespace: string,
  ) {
    this.stream = callbackStreamKey(namespace);
  }

  async add(id: string): Promise<string> {
    this.ready ??= ensureGroup(this.redis, this.stream).catch((err: unknown) => {
      this.ready = undefined;
      throw err;
    });
    await this.ready;
    const entry = await this.redis.xadd(this.stream, '*', 'id', id);
    if (!entry) throw new Error('callback queue: XADD returned no id');
    return entry;
  }
}

type StreamReply = [string, [string, string[]][]][] | null;

const entriesOf = (rows: [string, string[] | null][]): CallbackEntry[] =>
  rows.flatMap(([entry, fields]) => {
    if (!fields) return []; // deleted from the stream while pending
    const at = fields.indexOf('id');
    const id = at >= 0 ? fields[at + 1] : undefined;
    return id ? [{ entry, id }] : [];
  });

/** The SIP app side: one consumer of the group. */
export class CallbackConsumer {
  private ready = false;
  private readonly stream: string;

  constructor(
    private readonly redis: RedisClient,
    namespace: string,
    readonly consumer: string,
    private readonly o: { claimIdleMs: number; count?: number },
  ) {
    this.stream = callbackStreamKey(namespace);
  }

  private async init(): Promise<void> {
    if (this.ready) return;
    await ensureGroup(this.redis, this.stream);
    this.ready = true;
  }

  /** How long an entry may stay unacknowledged and untouched before another consumer takes it over. */
  get claimIdleMs(): number {
    return this.o.claimIdleMs;
  }

  /** Entries other consumers have held unacknowledged for longer than `claimIdleMs` (a process that died), now this consumer's; at most `count`. */
  async claimStale(count = this.o.count ?? 10): Promise<CallbackEntry[]> {
    await this.init();
    const r = (await this.redis.xautoclaim(this.stream, CALLBACK_GROUP, this.consumer, this.o.claimIdleMs, '0', 'COUNT', count)) as [
      string,
      [string, string[] | null][],
      string[]?,
    ];
    const deleted = r[2] ?? [];
    if (deleted.length > 0) await this.redis.xack(this.stream, CALLBACK_GROUP, ...deleted);
    return entriesOf(r[1]);
  }

  /** New entries (at most `count`), waiting up to `blockMs` (0: do not wait). The connection is held while it blocks: give the consumer its own. */
  async readNew(blockMs: number, count = this.o.count ?? 10): Promise<CallbackEntry[]> {
    await this.init();
    const r = (
      blockMs > 0
        ? await this.redis.xreadgroup('GROUP', CALLBACK_GROUP, this.consumer, 'COUNT', count, 'BLOCK', blockMs, 'STREAMS', this.stream, '>')
        : await this.redis.xreadgroup('GROUP', CALLBACK_GROUP, this.consumer, 'COUNT', count, 'STREAMS', this.stream, '>')
    ) as StreamReply;
    return r ? entriesOf(r.flatMap(([, rows]) => rows)) : [];
  }

  /**
   * Entries this consumer is still working on (a request being placed): their idle time starts
   * again (XCLAIM to itself, JUSTID: the delivery count stays), so no other consumer takes them
   * over as a dead process's while the placing goes on longer than `claimIdleMs`.
   */
  async touch(entries: readonly string[]): Promise<void> {
    if (entries.length === 0) return;
    await this.redis.call('XCLAIM', this.stream, CALLBACK_GROUP, this.consumer, '0', ...entries, 'JUSTID');
  }

  async ack(entry: string): Promise<void> {
    await this.redis.xack(this.stream, CALLBACK_GROUP, entry);
  }

  /** Entries delivered and not yet acknowledged (all consumers). */
  async pending(): Promise<number> {
    await this.init();
    const r = (await this.redis.xpending(this.stream, CALLBACK_GROUP)) as [number, ...unknown[]];
    return Number(r[0]);
  }
}
