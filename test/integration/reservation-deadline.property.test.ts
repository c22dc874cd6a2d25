/**
 * The reservation deadline rule, as a property over every tariff shape and setting: a call that is
 * still up is never settled by a sweeper. Each run drives the real pieces on a virtual clock:
 * CallCredit and the balance scripts in Redis, the CreditTimer that schedules extensions and the
 * cut, and a StaleCallSweeper that looks for overdue calls at every instant the owner touches the
 * call (each timer may fire up to the grace late). The call ends by the caller's hang-up, the cut
 * for credit or the hard maximum; its owner's settle must then be the first.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BalanceStore } from '../../src/billing/balance/balance-store.ts';
import { CallCredit } from '../../src/billing/credit/call-credit.ts';
import { StaleCallSweeper } from '../../src/billing/credit/stale-call-sweeper.ts';
import type { Rate } from '../../src/billing/rating/index.ts';
import { CreditTimer } from '../../src/sip/call/credit-timer.ts';
import type { TimerPort } from '../../src/sip/call/credit-timer.ts';
import { cdrFor } from '../support/fixtures.ts';
import { setupServices } from '../support/services.ts';
import type { TestServices } from '../support/services.ts';

/**
 * Timers on a clock that moves only when told to. Each timer fires `lagMs` after the instant it
 * was planned for; one set for an instant already past (the owner was late with the timer before)
 * fires at once, so no timer is more than `lagMs` later than planned.
 */
class VirtualClock implements TimerPort {
  private seq = 0;
  private readonly pending = new Map<number, { at: number; fn: () => void }>();
  constructor(
    public t: number,
    private readonly lagMs: number,
  ) {}
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.pending.set(id, { at: ms > 0 ? this.t + ms + this.lagMs : this.t, fn });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }
  /** Removes and returns the earliest pending timer. */
  takeNext(): { at: number; fn: () => void } | undefined {
    let best: [number, { at: number; fn: () => void }] | undefined;
    for (const e of this.pending) if (!best || e[1].at < best[1].at) best = e;
    if (!best) return undefined;
    this.pending.delete(best[0]);
    return best[1];
  }
  peekAt(): number {
    let at = Number.POSITIVE_INFINITY;
    for (const e of this.pending.values()) at = Math.min(at, e.at);
    return at;
  }
}

let s: TestServices;
let nextAccount = 1;
beforeAll(async () => {
  s = await setupServices('deadlineprop');
});
afterAll(async () => {
  await s.teardown();
});

const tariffShape = fc.record({
  pricePerMinute: fc.oneof(fc.integer({ min: 0, max: 5_000_000 }), fc.constantFrom(600_000, 1)),
  connectionFee: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 500_000 })),
  minimumSeconds: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 900 })),
  initialIncrement: fc.oneof(fc.constantFrom(1, 6, 30, 60, 120), fc.integer({ min: 1, max: 900 })),
  subsequentIncrement: fc.oneof(fc.constantFrom(1, 6, 30, 60), fc.integer({ min: 1, max: 900 })),
  connectionFeePolicy: fc.constantFrom('answered' as const, 'always' as const),
});

const settings = fc.integer({ min: 6, max: 3600 }).chain((slice) =>
  fc.record({
    slice: fc.constant(slice),
    lead: fc.integer({ min: 1, max: slice - 1 }),
    grace: fc.integer({ min: 1, max: 60 }),
    maxCall: fc.integer({ min: slice + 1, max: 14_400 }),
  }),
);

describe('reservation deadline (property)', () => {
  it('no live call is ever overdue, whatever the slice, lead, grace, increments, minimum, fee, credit and duration', async () => {
    await fc.assert(
      fc.asyncProperty(
        tariffShape,
        settings,
        fc.integer({ min: 1, max: 200_000_000 }), // the account's credit (micro-units)
        fc.double({ min: 0, max: 1, noNaN: true }), // how long the caller holds, as a share of what the run allows
        fc.double({ min: 0, max: 1, noNaN: true }), // how late each timer fires, as a share of the grace
        fc.double({ min: 0, max: 1, noNaN: true }), // how long it rang, as a share of the keep-alive interval
        async (shape, set, creditMicros, holdShare, lagShare, ringShare) => {
          const rate: Rate = { prefix: '44', description: '', effectiveFrom: new Date(0), effectiveUntil: null, ...shape };
          const lagMs = Math.floor(lagShare * (set.grace * 1000 - 1));
          const clock = new VirtualClock(Date.UTC(2026, 11, 1, 12, 0, 0), lagMs);
          // a namespace per run, so that a failing run's open call never disturbs the next (fast-check's shrinking re-runs)
          const store = new BalanceStore(s.redis, { namespace: `${s.namespace}:run${nextAccount}`, shards: 4, now: () => clock.t });
          const credit = new CallCredit(store, { sliceSeconds: set.slice, maxCallSeconds: set.maxCall, graceSeconds: set.grace, now: () => clock.t });
          const sweeper = new StaleCallSweeper(store, s.logger, { intervalMs: 1000, now: () => clock.t });
          const accountId = nextAccount++;
          await store.syncAccount(
            { accountId, creditFloor: 0, maxConcurrentCalls: 10, dailySpendCap: null, status: 'active' },
            { openingBalance: creditMicros },
          );
          const callId = `prop-${accountId}`;
          const auth = await credit.authorise(accountId, callId, rate);
          if (!auth.ok) return; // not even the first unit affordable: no call

          clock.t += Math.floor(ringShare * credit.keepAliveEveryMs);
          expect(await sweeper.sweep()).toBe(0); // answered before the next keep-alive was due
          const answeredAt = clock.t;
          await credit.answered(accountId, callId, rate, answeredAt, auth.coveredSeconds, cdrFor(callId, accountId, 0));

          const holdMs = 1 + Math.floor(holdShare * Math.min(set.maxCall, 40 * set.slice) * 1000);
          let inflight: Promise<unknown> = Promise.resolve();
          let cut: string | undefined;
          const timer = new CreditTimer({
            answeredAt,
            coveredSeconds: auth.coveredSeconds,
            maxCallSeconds: set.maxCall,
            leadSeconds: set.lead,
            warnSeconds: 0,
            timers: clock,
            extend: (c) => {
              const p = credit.extend(accountId, callId, rate, answeredAt, c);
              inflight = p;
              return p;
            },
            cut: (reason) => {
              cut = reason;
            },
          });
          let end: number;
          for (;;) {
            const fireAt = clock.peekAt();
            if (answeredAt + holdMs <= fireAt) {
              // the caller hangs up first
              clock.t = answeredAt + holdMs;
              expect(await sweeper.sweep()).toBe(0);
              timer.stop();
              end = clock.t;
              break;
            }
            clock.t = fireAt;
            expect(await sweeper.sweep(), `swept before the owner's timer at +${fireAt - answeredAt} ms`).toBe(0);
            clock.takeNext()!.fn();
            await inflight;
            await new Promise((r) => setImmediate(r)); // the timer's continuation after the extension
            if (cut !== undefined) {
              end = clock.t;
              break;
            }
          }
          const r = await credit.settle(accountId, rate, {
            ...cdrFor(callId, accountId, 0),
            answerTime: answeredAt,
            endTime: end,
            durationMs: end - answeredAt,
            disposition: cut ?? 'answered',
          });
          expect(r).toMatchObject({ ok: true, duplicate: false });
          expect(await store.get(accountId)).toMatchObject({ reserved: 0, callsInProgress: 0 });
        },
      ),
      { numRuns: 1000, ...(process.env.PROPERTY_SEED ? { seed: Number(process.env.PROPERTY_SEED) } : {}) },
    );
  }, 120_000);
});
