/**
 * Call control's timing on the injected clock (src/common/clock.ts): the no-answer deadline and
 * the answer time, driven by hand, with no sleeps.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { CallCredit } from '../../src/billing/credit/call-credit.ts';
import { CallControl } from '../../src/sip/call/call-control.ts';
import { CallState, PrepaidCall } from '../../src/sip/call/prepaid-call.ts';
import type { RouteAttempt } from '../../src/sip/routing/route-plan.ts';
import { ManualClock } from '../support/manual-clock.ts';

const log = pino({ level: 'silent' });
const NO_ANSWER_MS = 30_000;

function control(clock: ManualClock): CallControl {
  return new CallControl({
    credit: {} as CallCredit,
    log,
    clock,
    tariff: () => Promise.reject(new Error('not used')),
    carriers: () => Promise.resolve([]),
    isBlocked: () => Promise.resolve(false),
    settings: { routingMode: 'priority', noAnswerTimeoutMs: NO_ANSWER_MS, maxCallSeconds: 3600, extendLeadSeconds: 10, warnSeconds: 0 },
  });
}

function ringingCall(clock: ManualClock): PrepaidCall {
  const call = new PrepaidCall(
    {
      callId: 'c-1',
      accountId: 1,
      kind: 'device',
      cli: null,
      sourceIp: null,
      accessNumber: null,
      device: 'alice',
      dialledNumber: '441632960001',
      currency: 'GBP',
    },
    clock.now(),
  );
  call.to(CallState.Reserved);
  return call;
}

const route = (carrierId: string): RouteAttempt => ({
  carrierId,
  buyRate: undefined,
  uri: `sip:441632960001@${carrierId}.test`,
  gateway: { id: 1, carrierId, address: '192.0.2.1', port: 5060, transport: 'udp', priority: 1 } as RouteAttempt['gateway'],
});

/** One outbound attempt the test controls: it may ring, and a CANCEL (the deadline's) fails it 487 as a carrier would. */
function attempts(tried: string[], behaviour: (carrierId: string) => { ring: boolean }) {
  const answers = new Map<string, (value: string) => void>();
  const attempt = (r: RouteAttempt, sent: (cancel: () => void) => void, ringing: () => void) =>
    new Promise<string>((resolve, reject) => {
      tried.push(r.carrierId);
      answers.set(r.carrierId, resolve);
      sent(() => reject(Object.assign(new Error('cancelled'), { status: 487, reason: 'Request Terminated' })));
      if (behaviour(r.carrierId).ring) ringing();
    });
  return { attempt, answer: (carrierId: string) => answers.get(carrierId)!(`dialog-${carrierId}`) };
}

/** Lets the dialling loop reach its next await (each attempt is started after a microtask or two). */
const settle = () =>
  new Promise<void>((resolve) => {
    setImmediate(resolve);
  });

describe('call control on the injected clock', () => {
  it('a route that rang until the no-answer deadline is a final 480 No Answer at that very millisecond; no other carrier rings the callee', async () => {
    const clock = new ManualClock();
    const tried: string[] = [];
    const { attempt } = attempts(tried, () => ({ ring: true }));
    const call = ringingCall(clock);
    const outcome = control(clock).dial(call, [route('a'), route('b')], attempt, () => false, log);
    await settle();
    clock.advance(NO_ANSWER_MS - 1);
    await settle();
    expect(tried).toEqual(['a']);
    expect(clock.pending).toBe(1); // still ringing one millisecond before the deadline
    clock.advance(1);
    expect(await outcome).toEqual({ kind: 'failed', status: 480, reason: 'No Answer' });
    expect(tried).toEqual(['a']);
    expect([call.sipCode, call.sipReason, call.disposition]).toEqual([480, 'No Answer', 'no_answer']);
  });

  it('routes that never rang fail like a 408 at the deadline and the next is tried; when all have: 503 All Routes Failed', async () => {
    const clock = new ManualClock();
    const tried: string[] = [];
    const { attempt } = attempts(tried, () => ({ ring: false }));
    const call = ringingCall(clock);
    const outcome = control(clock).dial(call, [route('a'), route('b')], attempt, () => false, log);
    await settle();
    clock.advance(NO_ANSWER_MS);
    await settle();
    expect(tried).toEqual(['a', 'b']);
    clock.advance(NO_ANSWER_MS);
    expect(await outcome).toEqual({ kind: 'failed', status: 503, reason: 'All Routes Failed' });
    expect([call.sipCode, call.sipReason, call.disposition]).toEqual([503, 'All Routes Failed', 'failed']);
  });

  it('an answer before the deadline stops its timer and is timed on the clock', async () => {
    const clock = new ManualClock();
    const tried: string[] = [];
    const { attempt, answer } = attempts(tried, () => ({ ring: true }));
    const call = ringingCall(clock);
    const outcome = control(clock).dial(call, [route('a')], attempt, () => false, log);
    await settle();
    clock.advance(12_345);
    answer('a');
    expect(await outcome).toMatchObject({ kind: 'answered', value: 'dialog-a' });
    expect(call.answerTime).toBe(call.startTime + 12_345);
    expect(clock.pending).toBe(0);
  });
});
