import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedMediaServer } from '../../src/media/embedded/embedded-media-server.ts';
import { ALAW_TO_ULAW, ULAW_TO_ALAW, mapBytes } from '../../src/media/embedded/g711.ts';
import { decodeTelephoneEvent } from '../../src/media/embedded/telephone-event.ts';
import { parseWav } from '../../src/media/embedded/wav.ts';
import { MediaNotAcceptableError, MediaPortsExhaustedError } from '../../src/media/media-port.ts';
import type { MediaSession } from '../../src/media/media-port.ts';
import { readPcapUdpPayloads } from '../../scripts/prompts/dtmf-pcap.ts';
import { SOUNDS_DIR } from '../support/media/embedded-harness.ts';
import { fakeInvite, FakeUas } from '../support/media/fake-dialog.ts';
import type { FakeDialog } from '../support/media/fake-dialog.ts';
import { RtpPeer } from '../support/media/rtp-peer.ts';

const MIN = 31100;
const MAX = 31140;
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function setup(opts: { portMax?: number; rtpTimeoutMs?: number } = {}): Promise<{ server: EmbeddedMediaServer; uas: FakeUas }> {
  const uas = new FakeUas();
  const server = new EmbeddedMediaServer({ uas, portMin: MIN, portMax: opts.portMax ?? MAX, soundsDir: SOUNDS_DIR, rtpTimeoutMs: opts.rtpTimeoutMs ?? 0 });
  cleanup.push(() => server.close());
  return { server, uas };
}

async function peer(): Promise<RtpPeer> {
  const p = await RtpPeer.open();
  cleanup.push(() => p.close());
  return p;
}

async function call(server: EmbeddedMediaServer, uas: FakeUas, caller: RtpPeer, sdp = caller.sdp()): Promise<{ session: MediaSession; dialog: FakeDialog }> {
  const { req, res } = fakeInvite(sdp);
  const session = await server.answer(req, res);
  const dialog = uas.dialogs.at(-1) as FakeDialog;
  caller.useSdp(dialog.localSdp);
  return { session, dialog };
}

const promptBytes = (name: string): Buffer => parseWav(readFileSync(path.join(SOUNDS_DIR, 'en/prepaid', `${name}.wav`))).data;

describe('embedded endpoint over loopback', () => {
  it('plays a prompt paced at 20 ms: payload equal to the file, sequence +1, timestamp +160, one SSRC, marker first', async () => {
    const { server, uas } = await setup();
    const caller = await peer();
    const { session } = await call(server, uas, caller);
    expect(await session.play(['numbers/7'])).toEqual({ kind: 'done' });
    const file = promptBytes('numbers/7');
    const frames = Math.ceil(file.length / 160);
    await caller.waitFor((r) => r.length >= frames);
    const got = caller.received;
    expect(got).toHaveLength(frames);
    expect(caller.audio(0).subarray(0, file.length).equals(file)).toBe(true);
    expect(
      caller
        .audio(0)
        .subarray(file.length)
        .every((b) => b === 0xff),
    ).toBe(true);
    got.forEach((p, i) => {
      if (i === 0) return;
      const prev = got[i - 1];
      if (prev === undefined) return;
      expect((prev.sequence + 1) & 0xffff).toBe(p.sequence);
      expect((prev.timestamp + 160) >>> 0).toBe(p.timestamp);
      expect(p.ssrc).toBe(prev.ssrc);
      expect(p.marker).toBe(false);
    });
    expect(got[0]?.marker).toBe(true);
    const span = (got.at(-1)?.at ?? 0) - (got[0]?.at ?? 0);
    expect(span).toBeGreaterThan((frames - 1) * 20 - 60); // generous: paced, not burst
    expect(span).toBeLessThan((frames - 1) * 20 + 400);
  });

  it('answers a PCMA caller in A-law, converting the mu-law prompt', async () => {
    const { server, uas } = await setup();
    const caller = await peer();
    const { session, dialog } = await call(server, uas, caller, caller.sdp(['PCMA']));
    expect(dialog.localSdp).toContain('m=audio');
    expect(dialog.localSdp).toMatch(/RTP\/AVP 8 101/);
    await session.play(['and']);
    const file = promptBytes('and');
    await caller.waitFor(() => caller.audio(8).length >= file.length);
    expect(caller.audio(8).subarray(0, file.length).equals(mapBytes(file, ULAW_TO_ALAW))).toBe(true);
  });

  it('RFC 4733: held keys, three end packets and duplicated packets each count once', async () => {
    const { server, uas } = await setup();
    const caller = await peer();
    const { session } = await call(server, uas, caller);
    const keys: string[] = [];
    session.on('dtmf', (e) => keys.push(`${e.digit}:${e.source}`));
    const collecting = session.collect({ min: 4, max: 8, firstDigitMs: 5000, interDigitMs: 3000 });
    caller.pressKey('1', { duplicate: true });
    caller.pressKey('1');
    caller.pressKey('2', { skipStart: true });
    caller.pressKey('3', { duplicate: true });
    caller.pressKey('#', { duplicate: true });
    expect(await collecting).toEqual({ kind: 'digits', digits: '1123', terminator: '#' });
    expect(keys).toEqual(['1:rfc4733', '1:rfc4733', '2:rfc4733', '3:rfc4733', '#:rfc4733']);
  });

  it('the sip-tester recordings, replayed at the endpoint, give their keys', async () => {
    const { server, uas } = await setup();
    const caller = await peer();
    const { session } = await call(server, uas, caller);
    const collecting = session.collect({ min: 3, max: 3, firstDigitMs: 5000, interDigitMs: 3000 });
    for (const name of ['4', 'star', '0']) {
      for (const udp of readPcapUdpPayloads(readFileSync(`/usr/share/sip-tester/dtmf_2833_${name}.pcap`))) {
        caller.socket.send(udp, caller.remote?.port ?? 0, '127.0.0.1');
      }
    }
    expect(await collecting).toEqual({ kind: 'digits', digits: '4*0' });
  });

  it('INFO keys in the dialog are answered 200 and collected', async () => {
    const { server, uas } = await setup();
    const caller = await peer();
    const { session, dialog } = await call(server, uas, caller);
    const collecting = session.collect({ min: 1, max: 2, firstDigitMs: 5000, interDigitMs: 3000 });
    dialog.info('application/dtmf-relay', 'Signal=9\r\nDuration=100\r\n');
    dialog.info('application/dtmf', '#');
    expect(await collecting).toEqual({ kind: 'digits', digits: '9', terminator: '#' });
    expect(dialog.infoReplies).toEqual([200, 200]);
  });

  it('symmetric RTP: prompts go to where the caller sends from, not to the SDP address', async () => {
    const { server, uas } = await setup();
    const caller = await peer();
    const wrong = caller.sdp().replace(`m=audio ${caller.port} `, 'm=audio 9 ');
    const { session } = await call(server, uas, caller, wrong);
    caller.sendAudio(0); // the caller's NAT opens; the endpoint learns the real address
    await new Promise<void>((resolve) => {
      setImmediate(resolve);
    });
    const playing = session.play(['tones/beep']);
    await caller.waitFor((r) => r.length >= 5);
    expect(caller.received[0]?.payloadType).toBe(0);
    await session.destroy();
    expect(await playing).toEqual({ kind: 'stopped' });
  });

  it('relays between caller and carrier (transcoding the laws), injects a warning towards the caller, relays DTMF', async () => {
    const { server, uas } = await setup();
    const caller = await peer();
    const carrier = await peer();
    const { session } = await call(server, uas, caller, caller.sdp(['PCMU']));
    const leg = await session.createLeg();
    carrier.useSdp(leg.localSdp);
    await leg.setRemoteSdp(carrier.sdp(['PCMA'])); // the carrier chooses A-law
    await session.bridge(leg);

    const speech = Buffer.alloc(160);
    for (let i = 0; i < 160; i++) speech[i] = i;
    caller.sendAudio(0, speech);
    await carrier.waitFor((r) => r.some((p) => p.payloadType === 8));
    expect(carrier.audio(8).equals(mapBytes(speech, ULAW_TO_ALAW))).toBe(true);

    carrier.sendAudio(8, Buffer.alloc(160, 0xd5));
    await caller.waitFor((r) => r.some((p) => p.payloadType === 0));
    expect(caller.audio(0).equals(mapBytes(Buffer.alloc(160, 0xd5), ALAW_TO_ULAW))).toBe(true); // transcoded back to the caller's law
    caller.clear();

    await session.inject(['tones/beep']);
    carrier.sendAudio(8, Buffer.alloc(160, 0x55)); // dropped while the warning plays
    const beep = promptBytes('tones/beep');
    await caller.waitFor(() => caller.audio(0).length >= beep.length);
    expect(caller.audio(0).subarray(0, beep.length).equals(beep)).toBe(true);
    const callerSsrcs = new Set(caller.received.map((p) => p.ssrc));
    expect(callerSsrcs.size).toBe(1); // relayed and injected audio share our SSRC

    caller.pressKey('5');
    await carrier.waitFor((r) => r.filter((p) => p.payloadType === 101).length >= 6);
    const events = carrier.received.filter((p) => p.payloadType === 101).map((p) => decodeTelephoneEvent(p.payload));
    expect(events.every((e) => e?.event === 5)).toBe(true);

    await session.release();
    expect(server.ports.used).toBe(1);
    expect(await session.play([{ silenceMs: 20 }])).toEqual({ kind: 'done' });
  });

  it('reports an RTP timeout once per silence, for the caller and the outbound leg', async () => {
    const { server, uas } = await setup({ rtpTimeoutMs: 200 });
    const caller = await peer();
    const { session } = await call(server, uas, caller);
    const seen: string[] = [];
    const next = (): Promise<void> =>
      new Promise((resolve) => {
        const fn = (e: { leg: string; silentMs: number }): void => {
          seen.push(e.leg);
          expect(e.silentMs).toBeGreaterThanOrEqual(200);
          session.off('rtp-timeout', fn);
          resolve();
        };
        session.on('rtp-timeout', fn);
      });
    await next();
    expect(seen).toEqual(['caller']);
    caller.sendAudio(0);
    await next();
    expect(seen).toEqual(['caller', 'caller']);
    const leg = await session.createLeg();
    await leg.setRemoteSdp((await peer()).sdp(['PCMU']));
    await session.bridge(leg);
    const both = new Set<string>();
    await new Promise<void>((resolve) => {
      session.on('rtp-timeout', (e) => {
        both.add(e.leg);
        if (both.has('outbound')) resolve();
      });
      caller.sendAudio(0);
    });
    expect(both.has('outbound')).toBe(true);
  });

  it('port range exhaustion: a typed 503 error for answer and for an outbound leg; nothing leaked', async () => {
    const { server, uas } = await setup({ portMax: MIN + 2 }); // two ports
    const a = await peer();
    const { session } = await call(server, uas, a);
    const leg = await session.createLeg();
    expect(leg.localSdp).toContain(`m=audio ${MIN + 2} `);
    const b = await peer();
    const { req, res } = fakeInvite(b.sdp());
    const err = await server.answer(req, res).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MediaPortsExhaustedError);
    expect((err as MediaPortsExhaustedError).sipStatus).toBe(503);
    expect(uas.dialogs).toHaveLength(1); // nothing answered
    await session.release();
    const again = await session.createLeg();
    expect(again.localSdp).toContain(`m=audio ${MIN + 2} `);
    await session.destroy();
    expect(server.ports.used).toBe(0);
    expect(server.sessionCount).toBe(0);
  });

  it('an INVITE without a usable offer is refused with 488 before a port is taken', async () => {
    const { server } = await setup();
    const uas = new FakeUas();
    const s2 = new EmbeddedMediaServer({ uas, portMin: MIN + 20, portMax: MIN + 30, soundsDir: SOUNDS_DIR });
    cleanup.push(() => s2.close());
    for (const body of [undefined, 'v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 4000 RTP/AVP 18\r\n']) {
      const { req, res } = fakeInvite(body);
      const err = await s2.answer(req, res).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MediaNotAcceptableError);
      expect((err as MediaNotAcceptableError).sipStatus).toBe(488);
    }
    expect(s2.ports.used).toBe(0);
    expect(server.ports.used).toBe(0);
  });

  it('every socket is closed after destroy and after a caller hangup: the same ports bind again', async () => {
    const { server, uas } = await setup({ portMax: MIN + 4 });
    const sessions: { session: MediaSession; dialog: FakeDialog }[] = [];
    for (let i = 0; i < 2; i++) sessions.push(await call(server, uas, await peer()));
    await sessions[0]?.session.createLeg();
    expect(server.ports.used).toBe(3);
    const ended = new Promise<void>((resolve) => sessions[1]?.session.on('ended', () => resolve()));
    sessions[1]?.dialog.hangup();
    await ended;
    await sessions[0]?.session.destroy();
    expect(server.ports.used).toBe(0);
    for (const port of [MIN, MIN + 2, MIN + 4]) {
      const s = dgram.createSocket('udp4');
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.bind(port, '127.0.0.1', () => resolve());
      });
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
  });
});
