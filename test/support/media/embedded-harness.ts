/** The contract harness for the embedded endpoint: a real RTP peer on loopback as the caller. */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EmbeddedMediaServer } from '../../../src/media/embedded/embedded-media-server.ts';
import type { EmbeddedMediaOptions } from '../../../src/media/embedded/embedded-media-server.ts';
import { PromptStore } from '../../../src/media/embedded/prompt-store.ts';
import { digitToEvent } from '../../../src/media/embedded/telephone-event.ts';
import { isDigit } from '../../../src/media/media-port.ts';
import type { MediaSession, Prompt } from '../../../src/media/media-port.ts';
import { fakeInvite, FakeUas } from './fake-dialog.ts';
import type { FakeDialog } from './fake-dialog.ts';
import type { HarnessOptions, MediaHarness, SimulatedCaller } from './media-port-contract.ts';
import { promptPath } from '../../../src/media/prompts/catalog.ts';
import { RtpPeer } from './rtp-peer.ts';

export const SOUNDS_DIR = path.resolve(import.meta.dirname, '../../../freeswitch/sounds');

/** A private copy of the prompts (so a test can remove one). */
export function copySounds(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sounds-'));
  cpSync(SOUNDS_DIR, dir, { recursive: true });
  return dir;
}

export async function embeddedHarness(
  portMin: number,
  portMax: number,
  extra: Partial<EmbeddedMediaOptions> = {},
  opts: HarnessOptions = {},
): Promise<MediaHarness & { embedded: EmbeddedMediaServer; uas: FakeUas; peers: RtpPeer[] }> {
  const uas = new FakeUas();
  const soundsDir = copySounds();
  const missing: MediaHarness['missing'] = [];
  const server = new EmbeddedMediaServer({
    uas,
    portMin,
    portMax,
    soundsDir,
    rtpTimeoutMs: opts.rtpTimeoutMs ?? 0,
    observer: { promptMissing: (e) => missing.push(e) },
    ...extra,
  });
  const store = new PromptStore(SOUNDS_DIR);
  const peers: RtpPeer[] = [];
  const talkers = new Set<NodeJS.Timeout>();
  return {
    server,
    embedded: server,
    uas,
    peers,
    missing,
    removePrompt(name) {
      rmSync(path.join(soundsDir, promptPath('en', name)));
    },
    checkPrompts: () => server.checkPrompts(),
    async call() {
      const peer = await RtpPeer.open();
      peers.push(peer);
      const { req, res } = fakeInvite(peer.sdp());
      const session: MediaSession = await server.answer(req, res);
      const dialog = uas.dialogs.at(-1) as FakeDialog;
      peer.useSdp(dialog.localSdp);
      let consumed = 0;
      const caller: SimulatedCaller = {
        press(keys) {
          for (const k of keys) {
            if (!isDigit(k)) throw new Error(`not a key: ${k}`);
            void digitToEvent(k);
            peer.pressKey(k);
          }
        },
        info(key) {
          dialog.info(key === '2' ? 'application/dtmf' : 'application/dtmf-relay', key === '2' ? '2' : `Signal=${key}\r\nDuration=160\r\n`);
        },
        async expectHeard(prompts: readonly Prompt[]) {
          const expected = Buffer.concat(store.frames('en', prompts, 'PCMU'));
          await peer.waitFor(() => peer.audio(0).length - consumed >= expected.length);
          const all = peer.audio(0);
          const got = all.subarray(consumed, consumed + expected.length);
          consumed = all.length;
          if (!got.equals(expected) || all.length - (consumed - expected.length) !== expected.length) {
            throw new Error(`heard ${got.length} bytes differing from the expected ${expected.length}`);
          }
        },
        hangup() {
          dialog.hangup();
        },
        get dialogDestroyed() {
          return dialog.destroyed;
        },
        talk(on) {
          for (const t of talkers) clearInterval(t);
          talkers.clear();
          if (!on) return;
          let frames = 0;
          const t = setInterval(() => {
            if (++frames > 3000) clearInterval(t); // at most 60 s of audio
            peer.sendAudio(0);
          }, 20);
          talkers.add(t);
        },
        async carrierAnswer(offer) {
          const carrier = await RtpPeer.open();
          peers.push(carrier);
          carrier.useSdp(offer);
          return carrier.sdp(['PCMU']);
        },
      };
      return { session, caller };
    },
    async close() {
      for (const t of talkers) clearInterval(t);
      await server.close();
      await Promise.all(peers.map((p) => p.close()));
      rmSync(soundsDir, { recursive: true, force: true });
    },
  };
}
