import dgram from 'node:dgram';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DigitEntry, EntryState } from '../../src/media/embedded/digit-entry.ts';
import { PacingClock } from '../../src/media/embedded/pacing-clock.ts';
import type { ClockPort } from '../../src/media/embedded/pacing-clock.ts';
import { PortAllocator } from '../../src/media/embedded/port-allocator.ts';
import { MediaPortsExhaustedError } from '../../src/media/media-port.ts';
import { nextSessionState, SessionState } from '../../src/media/embedded/embedded-session.ts';

const fakeClock: ClockPort = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

describe('pacing clock (fake timers)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('ticks every 20 ms against the start time, so a late timer does not push later ticks', () => {
    vi.useFakeTimers({ now: 0 });
    const clock = new PacingClock({ clock: fakeClock });
    const at: number[] = [];
    const stop = clock.subscribe((_n, t) => at.push(t));
    vi.advanceTimersByTime(30);
    vi.setSystemTime(Date.now() + 7); // the timer fires 7 ms late
    vi.advanceTimersByTime(13);
    vi.advanceTimersByTime(60);
    stop();
    expect(at).toEqual([20, 40, 60, 80, 100]);
    expect(clock.stats.maxLatenessMs).toBeGreaterThan(0);
  });

  it('catches up missed ticks after a stall, up to maxCatchUp, and counts the rest as skipped', () => {
    vi.useFakeTimers({ now: 0 });
    const clock = new PacingClock({ clock: fakeClock, maxCatchUp: 3 });
    const ticks: number[] = [];
    clock.subscribe((n) => ticks.push(n));
    vi.advanceTimersByTime(20);
    vi.setSystemTime(200); // the loop was blocked for 180 ms: the timer due at 40 runs at 220
    vi.advanceTimersByTime(20);
    expect(ticks).toEqual([1, 9, 10, 11]);
    expect(clock.stats.skipped).toBe(7);
    expect(clock.stats.caughtUp).toBe(2);
  });

  it('one timer for all listeners, running only while someone listens', () => {
    vi.useFakeTimers({ now: 0 });
    const clock = new PacingClock({ clock: fakeClock });
    const a: number[] = [];
    const b: number[] = [];
    const stopA = clock.subscribe((n) => a.push(n));
    const stopB = clock.subscribe((n) => b.push(n));
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(40);
    stopA();
    vi.advanceTimersByTime(20);
    stopB();
    expect(clock.running).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
    expect(a).toEqual([1, 2]);
    expect(b).toEqual([1, 2, 3]);
  });
});

describe('digit entry (one try of collect)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });
  const rules = { min: 2, max: 4, terminators: '#', firstDigitMs: 5000, interDigitMs: 2000 };

  it('the first key while prompting stops the prompt; the terminator completes', async () => {
    const e = new DigitEntry(rules, fakeClock);
    expect(e.key('1')).toBe(true);
    expect(e.key('2')).toBe(false);
    e.key('#');
    expect(await e.outcome).toEqual({ ok: true, digits: '12', terminator: '#' });
  });

  it('waits firstDigitMs after the prompt, then interDigitMs between keys', async () => {
    vi.useFakeTimers();
    const e = new DigitEntry(rules, fakeClock);
    e.promptEnded();
    vi.advanceTimersByTime(4999);
    expect(e.state).toBe(EntryState.WaitingFirst);
    e.key('4');
    vi.advanceTimersByTime(1999);
    e.key('5');
    vi.advanceTimersByTime(2000);
    expect(await e.outcome).toEqual({ ok: true, digits: '45' });
  });

  it('fails on the first-digit timeout, on too few keys at the inter-digit timeout, and on an early terminator', async () => {
    vi.useFakeTimers();
    const a = new DigitEntry(rules, fakeClock);
    a.promptEnded();
    vi.advanceTimersByTime(5000);
    expect(await a.outcome).toEqual({ ok: false });
    const b = new DigitEntry(rules, fakeClock);
    b.promptEnded();
    b.key('1');
    vi.advanceTimersByTime(2000);
    expect(await b.outcome).toEqual({ ok: false });
    const c = new DigitEntry(rules, fakeClock);
    c.key('1');
    c.key('#');
    expect(await c.outcome).toEqual({ ok: false });
  });

  it('completes at max keys; keys after the end are ignored; bad counts are a bug', async () => {
    const e = new DigitEntry(rules, fakeClock);
    for (const k of '123456') e.key(k as '1');
    expect(await e.outcome).toEqual({ ok: true, digits: '1234' });
    expect(() => new DigitEntry({ ...rules, min: 5, max: 4 }, fakeClock)).toThrow(RangeError);
  });
});

describe('media session state machine', () => {
  it('allows idle → bridged → idle → ended and refuses anything out of ended', () => {
    let s = SessionState.Idle;
    s = nextSessionState(s, SessionState.Bridged);
    s = nextSessionState(s, SessionState.Idle);
    s = nextSessionState(s, SessionState.Ended);
    expect(() => nextSessionState(s, SessionState.Idle)).toThrow(/illegal/);
    expect(() => nextSessionState(SessionState.Idle, SessionState.Idle)).toThrow(/illegal/);
  });
});

describe('RTP port range', () => {
  it('hands out even ports until exhausted, then throws a typed 503 error; released ports come back', async () => {
    const ports = new PortAllocator({ address: '127.0.0.1', min: 31201, max: 31206 });
    expect(ports.range).toEqual([31202, 31206]);
    expect(ports.capacity).toBe(3);
    const got = [await ports.allocate(), await ports.allocate(), await ports.allocate()];
    expect(got.map((g) => g.port)).toEqual([31202, 31204, 31206]);
    const err = await ports.allocate().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MediaPortsExhaustedError);
    expect((err as MediaPortsExhaustedError).sipStatus).toBe(503);
    await ports.release(31204);
    expect((await ports.allocate()).port).toBe(31204);
    await ports.closeAll();
    expect(ports.used).toBe(0);
  });

  it('skips a port another process holds', async () => {
    const squatter = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => squatter.bind(31210, '127.0.0.1', () => resolve()));
    const ports = new PortAllocator({ address: '127.0.0.1', min: 31210, max: 31212 });
    expect((await ports.allocate()).port).toBe(31212);
    await expect(ports.allocate()).rejects.toBeInstanceOf(MediaPortsExhaustedError);
    await ports.closeAll();
    squatter.close();
  });

  it('refuses a nonsensical range', () => {
    expect(() => new PortAllocator({ address: '127.0.0.1', min: 40000, max: 30000 })).toThrow(RangeError);
    expect(() => new PortAllocator({ address: '127.0.0.1', min: 80, max: 90 })).toThrow(RangeError);
  });
});
