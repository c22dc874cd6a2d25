import type { RedisClient } from '../common/redis-connection.ts';
import type { BalanceKeys } from '../billing/balance/keys.ts';

/** What the ledger writer has not yet written to Postgres: the shard streams hold exactly those events. */
export interface LedgerBacklogFigures {
  pendingEvents: number;
  lagSeconds: number; // age of the oldest unwritten event (0 when none), not rounded
}

/**
 * The one reading of the ledger writer's backlog, for the operator dashboard and the metrics:
 * pending events, the age of the oldest one (its stream id's milliseconds) and the dead letters.
 */
export class LedgerBacklog {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: BalanceKeys,
    private readonly now: () => number = Date.now,
  ) {}

  async figures(): Promise<LedgerBacklogFigures> {
    // per stream (each shard stream is a cluster slot of its own: no pipeline over them)
    const r = await Promise.all(this.keys.allStreams().map((st) => Promise.all([this.redis.xlen(st), this.redis.xrange(st, '-', '+', 'COUNT', 1)])));
    let pendingEvents = 0;
    let oldest = Infinity;
    for (const [len, head] of r) {
      pendingEvents += Number(len);
      const first = head[0]?.[0];
      if (first) oldest = Math.min(oldest, Number(first.split('-')[0]));
    }
    return { pendingEvents, lagSeconds: oldest === Infinity ? 0 : Math.max(0, (this.now() - oldest) / 1000) };
  }

  /** Events Postgres refused, kept in the dead-letter stream. */
  async deadLetters(): Promise<number> {
    return Number(await this.redis.xlen(this.keys.deadLetters()));
  }
}
