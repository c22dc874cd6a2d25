import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FreeSwitchMediaServer, fsFiles, fsFileString, fsTerminators, MEDIA_TIMEOUT_HEADER } from '../../src/media/freeswitch/freeswitch-media-server.ts';
import { MediaNotAcceptableError } from '../../src/media/media-port.ts';
import type { Prompt } from '../../src/media/media-port.ts';
import { promptPath } from '../../src/media/prompts/catalog.ts';
import { copySounds } from '../support/media/embedded-harness.ts';
import { FakeDialog, fakeInvite, FakeUas } from '../support/media/fake-dialog.ts';
import { FakeFsMediaServer } from '../support/media/fake-fsmrf.ts';
import type { FakeFsEndpoint } from '../support/media/fake-fsmrf.ts';
import { mediaPortContract } from '../support/media/media-port-contract.ts';
import type { HarnessOptions, MediaHarness } from '../support/media/media-port-contract.ts';
import { PROMPT_NAMES } from '../../src/media/prompts/catalog.ts';
import { parseWav } from '../../src/media/embedded/wav.ts';
import { DirectoryRecordingStore } from '../../src/recordings/recording-store.ts';

const SOUNDS = '/usr/share/freeswitch/sounds/softswitch';

function toPrompt(file: string): Prompt {
  const silence = /^silence_stream:\/\/(\d+)$/.exec(file);
  if (silence !== null) return { silenceMs: Number(silence[1]) };
  const m = new RegExp(`^${SOUNDS}/en/prepaid/(.+)\\.wav$`).exec(file);
  if (m === null) throw new Error(`unexpected file ${file}`);
  return m[1] as Prompt;
}

async function fsHarness(opts: HarnessOptions = {}): Promise<MediaHarness & { fake: FakeFsMediaServer; uas: FakeUas }> {
  const localSounds = copySounds();
  const fake = new FakeFsMediaServer({ fileMs: 60, sounds: { fsDir: SOUNDS, localDir: localSounds } });
  const uas = new FakeUas();
  const missing: MediaHarness['missing'] = [];
  const server = new FreeSwitchMediaServer({
    ms: fake,
    uas,
    soundsDir: SOUNDS,
    rtpTimeoutMs: opts.rtpTimeoutMs ?? 20_000,
    observer: { promptMissing: (e) => missing.push(e) },
  });
  return {
    server,
    fake,
    uas,
    missing,
    removePrompt(name) {
      rmSync(path.join(localSounds, promptPath('en', name)));
    },
    checkPrompts: () => server.checkPrompts(),
    async call() {
      const { req, res } = fakeInvite('v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 4000 RTP/AVP 0 101\r\n');
      const session = await server.answer(req, res);
      const ep = fake.endpoints.at(-1) as FakeFsEndpoint;
      const dialog = (uas.dialogs.at(-1) ?? fake.dialogs.at(-1)) as FakeDialog; // (fake.dialogs: drachtio-fsmrf's connectCaller)
      let consumed = 0;
      return {
        session,
        caller: {
          press(keys) {
            for (const k of keys) ep.press(k);
          },
          info(key) {
            dialog.info(key === '2' ? 'application/dtmf' : 'application/dtmf-relay', key === '2' ? '2' : `Signal=${key}\r\nDuration=160\r\n`);
          },
          expectHeard(prompts) {
            const heard = ep.heard.slice(consumed).map(toPrompt);
            consumed = ep.heard.length;
            expect(heard).toEqual(prompts);
            return Promise.resolve();
          },
          hangup() {
            dialog.hangup();
          },
          get dialogDestroyed() {
            return dialog.destroyed;
          },
          carrierAnswer() {
            return Promise.resolve('v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 5000 RTP/AVP 0\r\n');
          },
          talk(on) {
            ep.setPeerSending(on);
          },
        },
      };
    },
    async close() {
      await server.close();
      rmSync(localSounds, { recursive: true, force: true });
    },
  };
}

mediaPortContract('FreeSWITCH adapter (fake drachtio-fsmrf)', fsHarness);

describe('FreeSWITCH adapter: what it asks of FreeSWITCH', () => {
  it('maps prompts to files under the sounds folder, silence to silence_stream, lists to file_string', () => {
    expect(fsFiles('/s', 'en', ['welcome', { silenceMs: 300 }, 'numbers/12'])).toEqual([
      '/s/en/prepaid/welcome.wav',
      'silence_stream://300',
      '/s/en/prepaid/numbers/12.wav',
    ]);
    expect(fsFileString(['/a.wav', '/b.wav'])).toBe('file_string:///a.wav!/b.wav');
    expect(fsFileString(['/a.wav'])).toBe('/a.wav');
  });

  it('bridges with uuid_bridge, warns with uuid_broadcast to the caller leg, parks on release', async () => {
    const h = await fsHarness();
    const { session } = await h.call();
    const caller = h.fake.endpoints[0] as FakeFsEndpoint;
    const leg = await session.createLeg();
    const outbound = h.fake.endpoints[1] as FakeFsEndpoint;
    expect(leg.localSdp).toBe(outbound.local.sdp);
    await leg.setRemoteSdp('v=0\r\nm=audio 6000 RTP/AVP 0\r\n');
    expect(outbound.remoteSdp).toContain('6000');
    await session.bridge(leg);
    expect(caller.bridgedWith).toBe(outbound);
    await session.inject(['one-minute-remaining', 'tones/beep']);
    expect(caller.broadcasts).toEqual([`file_string://${SOUNDS}/en/prepaid/one-minute-remaining.wav!${SOUNDS}/en/prepaid/tones/beep.wav aleg`]);
    await session.release();
    expect(caller.bridgedWith).toBeUndefined();
    expect(outbound.destroyed).toBe(true);
    await h.close();
    expect(caller.destroyed).toBe(true);
  });

  it('INFO keys enter FreeSWITCH with uuid_recv_dtmf', async () => {
    const h = await fsHarness();
    const { session, caller } = await h.call();
    caller.info('5');
    const ep = h.fake.endpoints[0] as FakeFsEndpoint;
    expect(ep.apis).toContain(`uuid_recv_dtmf ${ep.uuid} 5`);
    await session.destroy();
  });

  it('FreeSWITCH hanging up for MEDIA_TIMEOUT reports rtp-timeout, then ends the session', async () => {
    const h = await fsHarness();
    const { session } = await h.call();
    const seen: string[] = [];
    session.on('rtp-timeout', (e) => seen.push(`timeout:${e.leg}`));
    const ended = new Promise<void>((resolve) =>
      session.on('ended', (e) => {
        seen.push(`ended:${e.reason}`);
        resolve();
      }),
    );
    (h.fake.endpoints[0] as FakeFsEndpoint).hangupFromServer('MEDIA_TIMEOUT');
    await ended;
    expect(seen).toEqual(['timeout:caller', 'ended:media-server-hangup']);
    expect(h.uas.dialogs[0]?.destroyed).toBe(true);
    await h.close();
  });

  it('the RTP timeout reaches FreeSWITCH before the answer: X-Media-Timeout on the INVITEs for the caller and for the carrier leg, media_timeout set by the dialplan', async () => {
    const h = await fsHarness({ rtpTimeoutMs: 5000 });
    const { session } = await h.call();
    const leg = await session.createLeg();
    const [caller, outbound] = h.fake.endpoints as [FakeFsEndpoint, FakeFsEndpoint];
    for (const ep of [caller, outbound]) {
      expect(ep.invite.headers[MEDIA_TIMEOUT_HEADER]).toBe('5000');
      expect(ep.mediaTimeoutMs).toBe(5000); // what the RTP session took at the answer
    }
    // the caller's 200 OK does not carry it
    expect(h.uas.dialogs[0]).toBeDefined();
    expect(leg.localSdp).toBe(outbound.local.sdp);
    await h.close();
  });

  it('no RTP timeout configured: no header, no media_timeout', async () => {
    const h = await fsHarness({ rtpTimeoutMs: 0 });
    await h.call();
    const ep = h.fake.endpoints[0] as FakeFsEndpoint;
    expect(ep.invite.headers).toEqual({});
    expect(ep.mediaTimeoutMs).toBe(0);
    await h.close();
  });

  it('the offer the carrier receives is one plain RTP/AVP line: no SRTP line, no a=crypto, well under one UDP datagram', async () => {
    const h = await fsHarness();
    const { session } = await h.call();
    const leg = await session.createLeg();
    const mLines = leg.localSdp.split(/\r?\n/).filter((l) => l.startsWith('m='));
    expect(mLines).toHaveLength(1);
    expect(mLines[0]).toMatch(/^m=audio \d+ RTP\/AVP /);
    expect(leg.localSdp).not.toMatch(/a=crypto|RTP\/SAVP/);
    expect(Buffer.byteLength(leg.localSdp)).toBeLessThan(600);
    await h.close();
  });

  it('an empty terminator list is sent as "none" (drachtio-fsmrf would turn it into #)', () => {
    expect(fsTerminators('')).toBe('none');
    expect(fsTerminators(undefined)).toBe('#');
    expect(fsTerminators('#*')).toBe('#*');
  });

  it('refuses a late offer (no SDP) with 488, as the embedded endpoint does, and creates nothing', async () => {
    const h = await fsHarness();
    const { req, res } = fakeInvite(undefined);
    await expect(h.server.answer(req, res)).rejects.toBeInstanceOf(MediaNotAcceptableError);
    expect(h.fake.endpoints).toHaveLength(0);
    await h.close();
  });

  it('answerOffer (a callback leg A offering in its 200): FreeSWITCH answers the offer, the answer goes in the ACK, the leg is the caller; a failed ACK frees the endpoint', async () => {
    const h = await fsHarness();
    const offer = 'v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 4002 RTP/AVP 0 101\r\n';
    const acked: string[] = [];
    const dialog = new FakeDialog('');
    const session = await h.server.answerOffer(offer, (sdp) => {
      acked.push(sdp);
      return Promise.resolve(dialog);
    });
    const ep = h.fake.endpoints.at(-1)!;
    expect(ep.remoteSdp).toBe(offer);
    expect(acked).toEqual([ep.local.sdp]);
    expect(session.dialog).toBe(dialog);
    // the leg hanging up ends the session, as a caller's BYE does
    const ended = new Promise((r) => session.on('ended', r));
    dialog.hangup();
    await ended;
    await expect(h.server.answerOffer(offer, () => Promise.reject(new Error('ACK not sent')))).rejects.toThrow('ACK not sent');
    expect(h.fake.endpoints.at(-1)!.destroyed).toBe(true);
    await expect(h.server.answerOffer('', () => Promise.resolve(dialog))).rejects.toBeInstanceOf(MediaNotAcceptableError);
    await h.close();
  });

  it('the start-up check asks FreeSWITCH for every prompt of the catalogue with file_exists', async () => {
    const h = await fsHarness();
    await h.checkPrompts();
    expect(h.fake.apis).toContain(`file_exists ${SOUNDS}/en/prepaid/welcome.wav`);
    expect(h.fake.apis.filter((a) => a.startsWith('file_exists '))).toHaveLength(PROMPT_NAMES.length); // every prompt of the catalogue, once
    await h.close();
  });
});

describe('FreeSWITCH adapter: call recording', () => {
  async function bridged(recordings?: DirectoryRecordingStore) {
    const localSounds = copySounds();
    const fake = new FakeFsMediaServer({ fileMs: 20, sounds: { fsDir: SOUNDS, localDir: localSounds } });
    const uas = new FakeUas();
    const server = new FreeSwitchMediaServer({ ms: fake, uas, soundsDir: SOUNDS, rtpTimeoutMs: 0, ...(recordings ? { recordings } : {}) });
    const { req, res } = fakeInvite('v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 4000 RTP/AVP 0 101\r\n');
    const session = await server.answer(req, res);
    const caller = fake.endpoints[0] as FakeFsEndpoint;
    const leg = await session.createLeg();
    const outbound = fake.endpoints[1] as FakeFsEndpoint;
    await leg.setRemoteSdp('v=0\r\nm=audio 6000 RTP/AVP 0\r\n');
    return {
      session,
      leg,
      caller,
      outbound,
      async close() {
        await server.close();
        rmSync(localSounds, { recursive: true, force: true });
      },
    };
  }

  it('the notice plays on the outbound leg only; the recording is RECORD_STEREO + uuid_record into the store, stopped on release, described from the store', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fs-recordings-'));
    const store = new DirectoryRecordingStore(dir);
    const c = await bridged(store);
    try {
      await c.session.announce(c.leg, ['recording-notice']);
      expect(c.outbound.heard).toEqual([`${SOUNDS}/en/prepaid/recording-notice.wav`]);
      expect(c.caller.heard).toEqual([]);
      await expect(c.session.record('2026/12/08/a.wav')).rejects.toThrow(/not bridged/);
      await c.session.bridge(c.leg);
      const rec = await c.session.record('2026/12/08/a.wav');
      const file = path.join(dir, '2026/12/08/a.wav');
      expect(c.caller.variable('RECORD_STEREO')).toBe('true');
      expect(c.caller.apis).toContain(`uuid_record ${c.caller.uuid} start ${file}`);
      await new Promise((r) => setTimeout(r, 100));
      await c.session.release();
      expect(c.caller.apis).toContain(`uuid_record ${c.caller.uuid} stop ${file}`);
      const facts = await rec.stop();
      const bytes = readFileSync(file);
      expect(facts).toMatchObject({ key: '2026/12/08/a.wav', bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') });
      expect(facts.durationMs).toBeGreaterThanOrEqual(100);
      expect(parseWav(bytes).channels).toBe(2);
      expect(await rec.stop()).toEqual(facts); // idempotent
    } finally {
      await c.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the caller hanging up closes the file (FreeSWITCH does); a store FreeSWITCH cannot write to, or none, refuses to record and the call goes on', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fs-recordings-'));
    const c = await bridged(new DirectoryRecordingStore(dir));
    try {
      await c.session.bridge(c.leg);
      const rec = await c.session.record('2026/12/08/b.wav');
      await c.session.destroy();
      expect((await rec.stop()).bytes).toBe(readFileSync(path.join(dir, '2026/12/08/b.wav')).length);
    } finally {
      await c.close();
    }
    // the directory is a file: uuid_record answers -ERR
    rmSync(dir, { recursive: true, force: true });
    const { writeFileSync } = await import('node:fs');
    writeFileSync(dir, 'x');
    const blocked = await bridged(new DirectoryRecordingStore(dir));
    try {
      await blocked.session.bridge(blocked.leg);
      await expect(blocked.session.record('2026/12/08/c.wav')).rejects.toThrow(/uuid_record: -ERR/);
      await blocked.session.inject(['tones/beep']); // still bridged and working
      expect(blocked.caller.bridgedWith).toBe(blocked.outbound);
    } finally {
      await blocked.close();
      rmSync(dir, { force: true });
    }
    const none = await bridged();
    try {
      await none.session.bridge(none.leg);
      await expect(none.session.record('2026/12/08/d.wav')).rejects.toThrow(/no recording store/);
    } finally {
      await none.close();
    }
  });

  it("a device call anchored for recording: open() gives FreeSWITCH's answer to the device's offer without any SIP; bridged and recorded like an access-number call", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fs-recordings-'));
    const localSounds = copySounds();
    const fake = new FakeFsMediaServer({ fileMs: 20, sounds: { fsDir: SOUNDS, localDir: localSounds } });
    const uas = new FakeUas();
    const server = new FreeSwitchMediaServer({ ms: fake, uas, soundsDir: SOUNDS, rtpTimeoutMs: 0, recordings: new DirectoryRecordingStore(dir) });
    try {
      const offer = 'v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 4100 RTP/AVP 0 101\r\n';
      const { session, localSdp } = await server.open(offer);
      const device = fake.endpoints[0] as FakeFsEndpoint;
      expect(device.remoteSdp).toBe(offer);
      expect(localSdp).toBe(device.local.sdp);
      expect(uas.dialogs).toEqual([]); // nothing answered: the B2BUA answers the device
      const leg = await session.createLeg();
      await leg.setRemoteSdp('v=0\r\nm=audio 6100 RTP/AVP 0\r\n');
      await session.announce(leg, ['recording-notice']);
      await session.bridge(leg);
      const rec = await session.record('2026/12/08/dev.wav');
      await new Promise((r) => setTimeout(r, 50));
      await session.destroy();
      expect((await rec.stop()).bytes).toBe(readFileSync(path.join(dir, '2026/12/08/dev.wav')).length);
      expect(server.sessionCount).toBe(0);
    } finally {
      await server.close();
      rmSync(localSounds, { recursive: true, force: true });
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
