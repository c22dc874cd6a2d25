/**
 * Prompt audio for the embedded endpoint: reads freeswitch/sounds/<lang>/prepaid/<name>.wav once,
 * keeps it as G.711 bytes per law, and cuts prompt lists into 20 ms frames (160 bytes; a
 * prompt's last frame is padded with silence, so each prompt starts on a frame boundary).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promptPath } from '../prompts/catalog.ts';
import { assertPromptCatalogue } from '../prompts/prompt-check.ts';
import type { Prompt } from '../media-port.ts';
import { ALAW_SILENCE, ULAW_SILENCE } from './g711.ts';
import type { Codec } from './sdp.ts';
import { parseWav, toG711 } from './wav.ts';

export const FRAME_BYTES = 160;

export class PromptStore {
  private readonly cache = new Map<string, Buffer>();

  constructor(private readonly soundsDir: string) {}

  /** Where a prompt's file is. */
  file(language: string, name: string): string {
    return path.join(this.soundsDir, promptPath(language, name as Parameters<typeof promptPath>[1]));
  }

  /** The start-up check: every prompt of the catalogue is a file here (MissingPromptsError otherwise). */
  check(languages: readonly string[] = ['en']): Promise<void> {
    return assertPromptCatalogue(this.soundsDir, (p) => existsSync(path.join(this.soundsDir, p)), languages);
  }

  /** The prompt's samples in the given law. Throws when the file is missing or not 8 kHz mono G.711/PCM. */
  audio(language: string, name: string, codec: Codec): Buffer {
    const key = `${language}/${name}/${codec}`;
    let buf = this.cache.get(key);
    if (buf === undefined) {
      const file = this.file(language, name);
      buf = toG711(parseWav(readFileSync(file)), codec === 'PCMU' ? 'pcmu' : 'pcma');
      this.cache.set(key, buf);
    }
    return buf;
  }

  /** The 20 ms frames of a prompt list. Throws when a prompt cannot be read. */
  frames(language: string, prompts: readonly Prompt[], codec: Codec): Buffer[] {
    return this.cut(language, prompts, codec, (_file, err) => {
      throw err;
    });
  }

  /** The 20 ms frames of the prompts that can be read, and the files of those that cannot (skipped, as FreeSWITCH skips them). */
  playable(language: string, prompts: readonly Prompt[], codec: Codec): { frames: Buffer[]; missing: string[] } {
    const missing: string[] = [];
    const frames = this.cut(language, prompts, codec, (file) => missing.push(file));
    return { frames, missing };
  }

  private cut(language: string, prompts: readonly Prompt[], codec: Codec, unreadable: (file: string, err: unknown) => void): Buffer[] {
    const silenceByte = codec === 'PCMU' ? ULAW_SILENCE : ALAW_SILENCE;
    const out: Buffer[] = [];
    for (const p of prompts) {
      if (typeof p === 'object') {
        const n = Math.ceil(p.silenceMs / 20);
        const silence = Buffer.alloc(FRAME_BYTES, silenceByte);
        for (let i = 0; i < n; i++) out.push(silence);
        continue;
      }
      let audio: Buffer;
      try {
        audio = this.audio(language, p, codec);
      } catch (err) {
        unreadable(this.file(language, p), err);
        continue;
      }
      for (let off = 0; off < audio.length; off += FRAME_BYTES) {
        if (off + FRAME_BYTES <= audio.length) {
          out.push(audio.subarray(off, off + FRAME_BYTES));
        } else {
          const last = Buffer.alloc(FRAME_BYTES, silenceByte);
          audio.copy(last, 0, off);
          out.push(last);
        }
      }
    }
    return out;
  }
}
