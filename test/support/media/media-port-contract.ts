/**
 * The behaviour every MediaServer implementation must show, run against each one
 * (test/integration/media-embedded-port.test.ts, test/unit/media-freeswitch-port.test.ts).
 * A harness answers a call and gives a simulated caller: keys (RFC 4733 or INFO), what the
 * caller heard, hangup.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MediaServer, MediaSession, MediaSessionEvents, Prompt } from '../../../src/media/media-port.ts';
import type { PromptName } from '../../../src/media/prompts/catalog.ts';
import { MissingPromptsError } from '../../../src/media/prompts/prompt-check.ts';

export interface SimulatedCaller {
  /** Keys pressed in the media (RFC 4733 for the embedded endpoint, DTMF on the channel for FreeSWITCH). */
  press(keys: string): void;
  /** Keys sent as SIP INFO in the caller's dialog. */
  info(key: string): void;
  /** Resolves when the caller has heard exactly these prompts since the last check. */
  expectHeard(prompts: readonly Prompt[]): Promise<void>;
  hangup(): void;
  readonly dialogDestroyed: boolean;
  /** An SDP answer from a carrier to the leg's offer. The carrier sends no RTP. */
  carrierAnswer(offer: string): Promise<string>;
  /** The caller starts (true) or stops (false) sending RTP. */
  talk(on: boolean): void;
}

export interface HarnessOptions {
  /** The media server's RTP timeout (ms). Default: long enough not to fire in a test. */
  rtpTimeoutMs?: number;
}

export interface MediaHarness {
  server: MediaServer;
  call(): Promise<{ session: MediaSession; caller: SimulatedCaller }>;
  /** Deletes a prompt's file where the media server reads it (after the server started). */
  removePrompt(name: PromptName): void;
  /** The server's start-up check of the prompt catalogue. */
  checkPrompts(): Promise<void>;
  /** What the server reported to its observer as missing prompts. */
  readonly missing: { server: string; files: readonly string[] }[];
  close(): Promise<void>;
}

/** The next event of a kind, or a failure after `ms` (so a missing event fails the test instead of hanging it). */
function nextEvent<E extends keyof MediaSessionEvents>(session: MediaSession, event: E, ms = 5000): Promise<Parameters<MediaSessionEvents[E]>[0]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      session.off(event, fn);
      reject(new Error(`no ${event} event within ${ms} ms`));
    }, ms);
    const fn = ((e: Parameters<MediaSessionEvents[E]>[0]) => {
      clearTimeout(timer);
      session.off(event, fn);
      resolve(e);
    }) as MediaSessionEvents[E];
    session.on(event, fn);
  });
}

async function until(pred: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`condition not met in ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function endedPromise(session: MediaSession): Promise<{ reason: string }> {
  return new Promise((resolve) => session.on('ended', resolve));
}

export function mediaPortContract(name: string, makeHarness: (opts?: HarnessOptions) => Promise<MediaHarness>): void {
  describe(`media port contract: ${name}`, () => {
    let h: MediaHarness;
    beforeEach(async () => {
      h = await makeHarness();
    });
    afterEach(async () => {
      await h.close();
    });

    it('plays a prompt list to the end and the caller hears it', async () => {
      const { session, caller } = await h.call();
      const r = await session.play(['tones/beep', { silenceMs: 40 }, 'tones/beep']);
      expect(r).toEqual({ kind: 'done' });
      await caller.expectHeard(['tones/beep', { silenceMs: 40 }, 'tones/beep']);
      await session.destroy();
    });

    it('an interruptible prompt stops at the first key and reports it', async () => {
      const { session, caller } = await h.call();
      const playing = session.play(['tones/ringback'], { interruptible: true });
      caller.press('5');
      expect(await playing).toEqual({ kind: 'interrupted', digit: '5' });
      await session.destroy();
    });

    it('a prompt that is not interruptible plays on through keys, which still raise dtmf events', async () => {
      const { session, caller } = await h.call();
      const keys: string[] = [];
      session.on('dtmf', (e) => keys.push(e.digit));
      const playing = session.play(['tones/beep']);
      caller.press('7');
      expect(await playing).toEqual({ kind: 'done' });
      expect(keys).toEqual(['7']);
      await session.destroy();
    });

    it('collects keys up to the terminator', async () => {
      const { session, caller } = await h.call();
      const collecting = session.collect({ min: 6, max: 12, firstDigitMs: 5000, interDigitMs: 3000, prompts: ['tones/beep'] });
      caller.press('123456#');
      expect(await collecting).toEqual({ kind: 'digits', digits: '123456', terminator: '#' });
      await session.destroy();
    });

    it('with no terminators, # is a key like any other (one-key menus)', async () => {
      const { session, caller } = await h.call();
      const collecting = session.collect({ min: 1, max: 1, terminators: '', firstDigitMs: 5000, interDigitMs: 3000 });
      caller.press('#');
      expect(await collecting).toEqual({ kind: 'digits', digits: '#' });
      await session.destroy();
    });

    it('prompt fragments play back to back, without a gap between them (spoken amounts)', async () => {
      const { session, caller } = await h.call();
      expect(await session.play(['you-have', 'numbers/20', 'numbers/1', 'time/minutes'])).toEqual({ kind: 'done' });
      await caller.expectHeard(['you-have', 'numbers/20', 'numbers/1', 'time/minutes']);
      await session.destroy();
    });

    it('a missing prompt: the start-up check refuses, naming the file; in a call it is reported with its file and the call goes on', async () => {
      h.removePrompt('tones/beep');
      const refused = await h.checkPrompts().then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(refused).toBeInstanceOf(MissingPromptsError);
      expect((refused as MissingPromptsError).missing).toEqual(['en/prepaid/tones/beep.wav']);
      expect((refused as Error).message).toMatch(/1 prompt file\(s\) missing under .+: en\/prepaid\/tones\/beep\.wav/);

      const { session, caller } = await h.call();
      expect(await session.play([{ silenceMs: 40 }, 'tones/beep'])).toEqual({ kind: 'done' });
      await caller.expectHeard([{ silenceMs: 40 }]);
      await until(() => h.missing.length > 0);
      expect(h.missing[0]?.files).toEqual([expect.stringMatching(/\/en\/prepaid\/tones\/beep\.wav$/)]);
      // the caller is still there: keys are collected as usual
      const collecting = session.collect({ min: 1, max: 1, firstDigitMs: 5000, interDigitMs: 3000, prompts: ['tones/beep'] });
      caller.press('3');
      expect(await collecting).toEqual({ kind: 'digits', digits: '3' });
      await session.destroy();
    });

    it('the start-up check passes when every prompt is there', async () => {
      await expect(h.checkPrompts()).resolves.toBeUndefined();
    });

    it('RTP timeout after the bridge: caller and carrier both silent is reported', async () => {
      const t = await makeHarness({ rtpTimeoutMs: 300 });
      try {
        const { session, caller } = await t.call();
        const timedOut = nextEvent(session, 'rtp-timeout');
        const leg = await session.createLeg();
        await leg.setRemoteSdp(await caller.carrierAnswer(leg.localSdp));
        await session.bridge(leg);
        expect(['caller', 'outbound']).toContain((await timedOut).leg);
        await session.destroy();
      } finally {
        await t.close();
      }
    });

    it('RTP timeout after the bridge: a carrier that sends nothing while the caller talks is reported for the outbound leg', async () => {
      const t = await makeHarness({ rtpTimeoutMs: 300 });
      try {
        const { session, caller } = await t.call();
        caller.talk(true);
        const timeouts: string[] = [];
        session.on('rtp-timeout', (e) => timeouts.push(e.leg));
        const leg = await session.createLeg();
        await leg.setRemoteSdp(await caller.carrierAnswer(leg.localSdp));
        await session.bridge(leg);
        await until(() => timeouts.length > 0);
        expect(timeouts).toEqual(['outbound']);
        caller.talk(false);
        await session.destroy();
      } finally {
        await t.close();
      }
    });

    it('completes at max keys without a terminator', async () => {
      const { session, caller } = await h.call();
      const collecting = session.collect({ min: 1, max: 1, firstDigitMs: 5000, interDigitMs: 3000 });
      caller.press('1');
      expect(await collecting).toEqual({ kind: 'digits', digits: '1' });
      await session.destroy();
    });

    it('a key during the prompt stops it and counts as the first key', async () => {
      const { session, caller } = await h.call();
      const collecting = session.collect({ min: 2, max: 4, firstDigitMs: 5000, interDigitMs: 3000, prompts: ['tones/ringback'] });
      caller.press('98#');
      expect(await collecting).toEqual({ kind: 'digits', digits: '98', terminator: '#' });
      await session.destroy();
    });

    it('an inter-digit timeout with at least min keys completes the entry', async () => {
      const { session, caller } = await h.call();
      const collecting = session.collect({ min: 2, max: 10, firstDigitMs: 5000, interDigitMs: 150 });
      caller.press('44');
      expect(await collecting).toEqual({ kind: 'digits', digits: '44' });
      await session.destroy();
    });

    it('no key at all: each try plays the prompts and the retry prompt, then a timeout', async () => {
      const { session, caller } = await h.call();
      const r = await session.collect({
        min: 1,
        max: 4,
        firstDigitMs: 100,
        interDigitMs: 100,
        retries: 1,
        prompts: ['tones/beep'],
        retryPrompts: [{ silenceMs: 60 }],
      });
      expect(r).toEqual({ kind: 'timeout' });
      await caller.expectHeard(['tones/beep', { silenceMs: 60 }, 'tones/beep']);
      await session.destroy();
    });

    it('too few keys before the terminator fail the try', async () => {
      const { session, caller } = await h.call();
      const collecting = session.collect({ min: 3, max: 6, firstDigitMs: 300, interDigitMs: 300 });
      caller.press('1#');
      expect(await collecting).toEqual({ kind: 'timeout' });
      await session.destroy();
    });

    it('takes keys from SIP INFO (dtmf-relay and dtmf bodies)', async () => {
      const { session, caller } = await h.call();
      const collecting = session.collect({ min: 2, max: 2, firstDigitMs: 5000, interDigitMs: 3000 });
      caller.info('4');
      caller.info('2');
      expect(await collecting).toEqual({ kind: 'digits', digits: '42' });
      expect(session.receiveInfo('text/plain', 'hello')).toBe(false);
      await session.destroy();
    });

    it('the caller hanging up ends a collect with hangup and the session with caller-hangup', async () => {
      const { session, caller } = await h.call();
      const ended = endedPromise(session);
      const collecting = session.collect({ min: 1, max: 4, firstDigitMs: 10_000, interDigitMs: 3000, prompts: ['tones/ringback'] });
      caller.hangup();
      expect(await collecting).toEqual({ kind: 'hangup' });
      expect(await ended).toEqual({ reason: 'caller-hangup' });
      expect(h.server.sessionCount).toBe(0);
      expect(await session.play(['tones/beep'])).toEqual({ kind: 'hangup' });
    });

    it('a new operation stops a looping prompt', async () => {
      const { session } = await h.call();
      const ringing = session.play(['tones/beep'], { loop: true });
      const next = session.play([{ silenceMs: 20 }]);
      expect(await ringing).toEqual({ kind: 'stopped' });
      expect(await next).toEqual({ kind: 'done' });
      await session.destroy();
    });

    it('destroy hangs up the caller, ends the session once, and is idempotent', async () => {
      const { session, caller } = await h.call();
      const reasons: string[] = [];
      session.on('ended', (e) => reasons.push(e.reason));
      await Promise.all([session.destroy(), session.destroy()]);
      await session.destroy();
      expect(reasons).toEqual(['destroyed']);
      expect(caller.dialogDestroyed).toBe(true);
      expect(h.server.sessionCount).toBe(0);
    });

    it('an outbound leg: offer SDP, carrier answer, bridge, inject, release, then prompts again', async () => {
      const { session, caller } = await h.call();
      const leg = await session.createLeg();
      expect(leg.localSdp).toMatch(/m=audio \d+ RTP\/AVP/);
      await leg.setRemoteSdp(await caller.carrierAnswer(leg.localSdp));
      await session.bridge(leg);
      await session.inject(['tones/beep']);
      await expect(session.collect({ min: 1, max: 1, firstDigitMs: 10, interDigitMs: 10 })).rejects.toThrow(/bridged/);
      await session.release();
      expect(await session.play([{ silenceMs: 20 }])).toEqual({ kind: 'done' });
      const again = await session.createLeg();
      expect(again.localSdp).toMatch(/m=audio/);
      await session.destroy();
    });

    it('bridging a leg the session did not create is a bug', async () => {
      const a = await h.call();
      const b = await h.call();
      const leg = await b.session.createLeg();
      await expect(async () => a.session.bridge(leg)).rejects.toThrow(/did not create/);
      await a.session.destroy();
      await b.session.destroy();
    });
  });
}
