import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CreditTimer } from '../../src/sip/call/credit-timer.ts';

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

const timers = {
  now: () => Date.now(),
  setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms),
  clearTimeout: (h: unknown) => clearTimeout(h as NodeJS.Timeout),
};

describe('credit timer', () => {
  it('extends before the cover runs out, then warns and cuts at the last covered second', async () => {
    const answeredAt = Date.now();
    const covers = [120, 150];
    const extend = vi.fn(async (_c: number) => (covers.length ? { ok: true, coveredSeconds: covers.shift()! } : { ok: false, coveredSeconds: 150 }));
    const cut = vi.fn();
    const warn = vi.fn();
    new CreditTimer({ answeredAt: Date.now(), coveredSeconds: 60, maxCallSeconds: 14_400, leadSeconds: 10, warnSeconds: 30, extend, warn, cut, timers });
    await vi.advanceTimersByTimeAsync(50_000);
    expect(extend).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(60_000); // t = 110 s
    expect(extend).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(30_000); // t = 140 s: refused at 140
    expect(extend).toHaveBeenCalledTimes(3);
    expect(warn).not.toHaveBeenCalled();
    expect(cut).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(9_999); // t = 149.999 s: the 150th second is paid for
    expect(cut).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1); // t = 150.000 s: the paid second, not before
    expect(cut).toHaveBeenCalledWith('credit_exhausted', answeredAt + 150_000);
  });

  it('says until when the call is paid only once the cover is final (an extension refused): a late cut or hang-up is billed no further', async () => {
    const answeredAt = Date.now();
    const covers = [120];
    const extend = vi.fn(async (_c: number) => (covers.length ? { ok: true, coveredSeconds: covers.shift()! } : { ok: false, coveredSeconds: 120 }));
    const timer = new CreditTimer({ answeredAt, coveredSeconds: 60, maxCallSeconds: 14_400, leadSeconds: 10, warnSeconds: 0, extend, cut: vi.fn(), timers });
    expect(timer.paidUntilMs).toBeUndefined();
    await vi.advanceTimersByTimeAsync(50_000); // extended to 120: more may come
    expect(timer.paidUntilMs).toBeUndefined();
    await vi.advanceTimersByTimeAsync(60_000); // refused at 110 s: the 120th second is the last paid
    expect(timer.paidUntilMs).toBe(answeredAt + 120_000);
  });

  it('warns warnSeconds before the cut when there is time to', async () => {
    const cut = vi.fn();
    const warn = vi.fn();
    new CreditTimer({
      answeredAt: Date.now(),
      coveredSeconds: 120,
      maxCallSeconds: 14_400,
      leadSeconds: 60,
      warnSeconds: 30,
      extend: async () => ({ ok: false, coveredSeconds: 120 }),
      warn,
      cut,
      timers,
    });
    await vi.advanceTimersByTimeAsync(89_999);
    expect(warn).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(warn).toHaveBeenCalledWith(30);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(cut).toHaveBeenCalledWith('credit_exhausted', expect.any(Number));
  });

  it('warnSeconds 0 gives no warning at all (not a "0 seconds left" at the cut)', async () => {
    const cut = vi.fn();
    const warn = vi.fn();
    new CreditTimer({
      answeredAt: Date.now(),
      coveredSeconds: 10,
      maxCallSeconds: 14_400,
      leadSeconds: 5,
      warnSeconds: 0,
      extend: async () => ({ ok: false, coveredSeconds: 10 }),
      warn,
      cut,
      timers,
    });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(cut).toHaveBeenCalled();
    expect(warn).not.toHaveBeenCalled();
  });

  it('cuts at the hard maximum duration whatever the credit', async () => {
    const cut = vi.fn();
    new CreditTimer({
      answeredAt: Date.now(),
      coveredSeconds: 60,
      maxCallSeconds: 100,
      leadSeconds: 10,
      warnSeconds: 5,
      extend: async () => ({ ok: true, coveredSeconds: 10_000 }),
      cut,
      timers,
    });
    const answeredAt = Date.now();
    await vi.advanceTimersByTimeAsync(99_999);
    expect(cut).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(cut).toHaveBeenCalledTimes(1);
    expect(cut).toHaveBeenCalledWith('max_duration', answeredAt + 100_000);
  });

  it('keeps the cover it holds when the extension fails with an error, and stops cleanly', async () => {
    const cut = vi.fn();
    const onError = vi.fn();
    const t = new CreditTimer({
      answeredAt: Date.now(),
      coveredSeconds: 60,
      maxCallSeconds: 1000,
      leadSeconds: 10,
      warnSeconds: 5,
      extend: async () => {
        throw new Error('redis down');
      },
      cut,
      onError,
      timers,
    });
    await vi.advanceTimersByTimeAsync(50_000);
    expect(onError).toHaveBeenCalled();
    t.stop();
    await vi.advanceTimersByTimeAsync(2_000_000);
    expect(cut).not.toHaveBeenCalled();
  });

  it('holds only the timers still pending: a call extended for hours keeps two, not one per slice (memory per held call)', async () => {
    const pending = new Set<unknown>();
    const cleared: unknown[] = [];
    const counting = {
      now: () => Date.now(),
      setTimeout: (fn: () => void, ms: number) => {
        const h: NodeJS.Timeout = setTimeout(() => {
          pending.delete(h);
          fn();
        }, ms);
        pending.add(h);
        return h;
      },
      clearTimeout: (h: unknown) => {
        cleared.push(h);
        pending.delete(h);
        clearTimeout(h as NodeJS.Timeout);
      },
    };
    let covered = 60;
    const t = new CreditTimer({
      answeredAt: Date.now(),
      coveredSeconds: covered,
      maxCallSeconds: 14_400,
      leadSeconds: 15,
      warnSeconds: 0,
      extend: async () => ({ ok: true, coveredSeconds: (covered += 60) }),
      cut: vi.fn(),
      timers: counting,
    });
    await vi.advanceTimersByTimeAsync(3 * 3600_000); // three hours: 180 extensions
    expect(covered).toBeGreaterThan(3 * 3600);
    expect(pending.size).toBe(2); // the next extension and the hard maximum
    t.stop();
    expect(cleared).toHaveLength(2); // stop() clears what is pending, not every timer the call ever had
    expect(pending.size).toBe(0);
  });
});
