/**
 * The wrong-PIN budgets against real Redis with a fake clock: per access number and per carrier
 * source, sliding window, counted before the PIN is checked (parallel attempts cannot exceed the
 * budget), a right PIN's unit given back. The IVR's use of them over real SIP: test/e2e/ivr-pin-budget.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PinBudget } from '../../src/sip/ivr/pin-budget.ts';
import { REDIS_KINDS, setupServices } from '../support/services.ts';
import type { TestServices } from '../support/services.ts';

const clock = { now: Date.UTC(2026, 1, 1) };
let s: TestServices;
let seq = 0;

function budget(perAccessNumber: number, perSource: number, windowMs = 60_000): PinBudget {
  return new PinBudget(s.redis, { namespace: `${s.namespace}:${++seq}`, perAccessNumber, perSource, windowMs, now: () => clock.now });
}

describe.each(REDIS_KINDS)('on %s Redis', (redis) => {
  beforeAll(async () => {
    s = await setupServices('pinbudget', { redis });
  });
  afterAll(async () => {
    await s.teardown();
  });

  describe('wrong-PIN budgets', () => {
    it('a source budget spans access numbers; the attempt that spends it says so; then nothing more is taken', async () => {
      const b = budget(100, 3);
      const results = [];
      for (const n of ['+441', '+442', '+443']) results.push(await b.take({ accessNumber: n, sourceIp: '192.0.2.1' }));
      expect(results.map((r) => r.ok)).toEqual([true, true, true]);
      expect(results.map((r) => (r.ok ? r.nowSpent : []))).toEqual([[], [], ['source']]);
      expect(await b.take({ accessNumber: '+444', sourceIp: '192.0.2.1' })).toEqual({ ok: false, spent: 'source' });
      expect(await b.spent({ accessNumber: '+444', sourceIp: '192.0.2.1' })).toBe('source');
      // another source on the same numbers is unaffected
      expect((await b.take({ accessNumber: '+441', sourceIp: '192.0.2.2' })).ok).toBe(true);
    });

    it('an access-number budget spans sources', async () => {
      const b = budget(2, 100);
      expect((await b.take({ accessNumber: '+441', sourceIp: '192.0.2.1' })).ok).toBe(true);
      expect(await b.take({ accessNumber: '+441', sourceIp: '192.0.2.2' })).toMatchObject({ ok: true, nowSpent: ['access_number'] });
      expect(await b.take({ accessNumber: '+441', sourceIp: '192.0.2.3' })).toEqual({ ok: false, spent: 'access_number' });
      expect(await b.spent({ accessNumber: '+442', sourceIp: '192.0.2.3' })).toBeUndefined();
    });

    it('the window slides: each attempt counts for exactly one window after it was made', async () => {
      const b = budget(3, 100, 60_000);
      const at = { accessNumber: '+441', sourceIp: '192.0.2.9' };
      const start = clock.now;
      for (const offset of [0, 20_000, 40_000]) {
        clock.now = start + offset;
        expect((await b.take(at)).ok).toBe(true);
      }
      clock.now = start + 59_999;
      expect(await b.spent(at)).toBe('access_number');
      clock.now = start + 60_000; // the first attempt has left the window: one unit free
      expect((await b.take(at)).ok).toBe(true);
      expect((await b.take(at)).ok).toBe(false);
      clock.now = start + 99_999; // the attempt at 20 s has left; those at 40 s and 60 s are inside
      expect((await b.take(at)).ok).toBe(true);
      expect((await b.take(at)).ok).toBe(false);
      clock.now = start + 100_000; // the one at 40 s has left too
      expect((await b.take(at)).ok).toBe(true);
      expect((await b.take(at)).ok).toBe(false);
    });

    it('a right PIN gives its unit back; a wrong one does not', async () => {
      const b = budget(2, 100);
      const at = { accessNumber: '+441', sourceIp: '192.0.2.10' };
      const right = await b.take(at);
      if (!right.ok) throw new Error('expected a unit');
      await b.giveBack(at, right.ticket);
      expect((await b.take(at)).ok).toBe(true); // wrong: kept
      expect((await b.take(at)).ok).toBe(true); // wrong: kept, budget spent
      expect((await b.take(at)).ok).toBe(false);
    });

    it('attempts fired in parallel are counted before they are checked: exactly the budget gets through', async () => {
      const b = budget(1000, 25);
      const results = await Promise.all(Array.from({ length: 200 }, (_, i) => b.take({ accessNumber: `+44${i % 7}`, sourceIp: '192.0.2.77' })));
      expect(results.filter((r) => r.ok)).toHaveLength(25);
      expect(results.filter((r) => r.ok && r.nowSpent.includes('source'))).toHaveLength(1);
    });
  });
});
