import type { Logger } from 'pino';
import type { BalanceStore, CdrRecord } from '../balance/balance-store.ts';
import { billableSecondsFromMs, billedSeconds, callCost } from '../rating/index.ts';
import type { Rate } from '../rating/index.ts';

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

  constructor(private readonly store: BalanceStore, private readonly log: Logger, private readonly opts: { intervalMs: number; now?: () => number }) {}

  start(): void {
    this.timer = setInterval(() => { void this.sweep().catch((err: Error) => this.log.warn({ err: err.message }, 'sweep failed')); }, this.opts.intervalMs);
    this.timer.unref();
  }

  stop(): void { clearInterval(this.timer); }

  /** One pass; returns how many calls it settled. Overlapping calls share one pass. */
  sweep(): Promise<number> {
    this.running ??= this.pass().finally(() => { this.running = undefined; });
    return this.running;
  }

  private async pass(): Promise<number> {
    const now = (this.opts.now ?? Date.now)();
    let settled = 0;
    for (const { shard, member } of await this.store.overdueCalls(now, 500)) {
      const call = await this.store.openCall(shard, member);
      if (!call) continue;
      const callId = call.callId;
      const rate = call.rateJson ? reviveRate(call.rateJson) : null;
      const facts = call.factsJson ? (JSON.parse(call.factsJson) as Partial<CdrRecord>) : {};
      const answeredAt = call.answeredAt;
      const end = answeredAt === null ? call.created : Math.max(call.seenAt ?? answeredAt, answeredAt);
      const d = answeredAt === null ? 0 : billableSecondsFromMs(end - answeredAt);
      const cdr: CdrRecord = {
        kind: 'other', cli: null, sourceIp: null, accessNumber: null, device: null, dialledNumber: null, destination: null, currency: null,
        carrier: null, ...facts,
        callId, accountId: call.accountId, startTime: facts.startTime ?? call.created, answerTime: answeredAt, endTime: end,
        durationMs: answeredAt === null ? 0 : end - answeredAt,
        billedSeconds: rate && answeredAt !== null ? billedSeconds(rate, d) : 0,
        cost: rate && answeredAt !== null ? callCost(rate, d, true) : 0,
        ratePrefix: rate?.prefix ?? null, pricePerMinute: rate?.pricePerMinute ?? null,
        disposition: 'abandoned', sipCode: null, sipReason: 'settled by sweeper',
      };
      const r = await this.store.settle(call.accountId, cdr, 'sweeper');
      if (r.ok && !r.duplicate) {
        settled++;
        this.log.warn({ callId, accountId: call.accountId, cost: cdr.cost }, 'abandoned call settled by the sweeper');
      }
    }
    return settled;
  }
}

function reviveRate(json: string): Rate {
  const r = JSON.parse(json) as Rate & { effectiveFrom: string; effectiveUntil: string | null };
  return { ...r, effectiveFrom: new Date(r.effectiveFrom), effectiveUntil: r.effectiveUntil === null ? null : new Date(r.effectiveUntil) };
}
