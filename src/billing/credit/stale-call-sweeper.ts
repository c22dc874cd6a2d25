import type { Logger } from 'pino';
import type { BalanceStore } from '../balance/balance-store.ts';
import { cdrOfOpenCall } from './open-call-settlement.ts';

/**
 * Settles calls whose process died: an open reservation past its deadline (a live call moves
 * its deadline forward at every extension) is settled from what Redis holds. An answered call
 * is charged from its answer to the last moment it was known alive (its last extension); a call
 * never answered costs nothing. Every app instance may run a sweeper: settle is idempotent, so
 * two sweepers, or a sweeper and the owner, settle a call once.
 */
export class StaleCallSweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;

  constructor(
    private readonly store: BalanceStore,
    private readonly log: Logger,
    private readonly opts: { intervalMs: number; now?: () => number },
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      void this.sweep().catch((err: Error) => this.log.warn({ err: err.message }, 'sweep failed'));
    }, this.opts.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** One pass; returns how many calls it settled. Overlapping calls share one pass. */
  sweep(): Promise<number> {
    this.running ??= this.pass().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async pass(): Promise<number> {
    const now = (this.opts.now ?? Date.now)();
    let settled = 0;
    for (const { shard, member } of await this.store.overdueCalls(now, 500)) {
      // one call that cannot be settled (a corrupt record) must not stop the others'
      try {
        const call = await this.store.openCall(shard, member);
        if (!call) continue;
        const cdr = cdrOfOpenCall(call, call.seenAt ?? call.answeredAt ?? call.created, { disposition: 'abandoned', sipReason: 'settled by sweeper' });
        const r = await this.store.settle(call.accountId, cdr, 'sweeper');
        if (r.ok && !r.duplicate) {
          settled++;
          this.log.warn({ callId: call.callId, accountId: call.accountId, cost: cdr.cost }, 'abandoned call settled by the sweeper');
        }
      } catch (err) {
        this.log.error({ err: (err as Error).message, shard, member }, 'an overdue call could not be settled');
      }
    }
    return settled;
  }
}
