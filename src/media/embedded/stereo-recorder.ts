/**
 * The embedded endpoint's call recorder: both directions of a bridged call into one 8 kHz stereo
 * WAV (16-bit PCM: left what the caller sent, right what the other party sent). Each direction's
 * samples wait in a short queue; every tick of the pacing clock (20 ms) takes 160 samples from
 * each, silence where a side sent nothing, so the two channels stay aligned on the clock whatever
 * the packet sizes and arrival jitter. A queue that grows beyond 200 ms (a sender faster than the
 * clock) drops its oldest samples.
 */
import type { RecordingFacts, RecordingFile } from '../media-port.ts';
import { ALAW_TO_LINEAR, ULAW_TO_LINEAR } from './g711.ts';
import type { Codec } from './sdp.ts';
import { wavHeader } from './wav.ts';

const SAMPLES_PER_TICK = 160;
const MAX_QUEUED = 1600;

class SampleQueue {
  private chunks: Int16Array[] = [];
  private offset = 0;
  private queued = 0;

  push(payload: Uint8Array, codec: Codec): void {
    const table = codec === 'PCMA' ? ALAW_TO_LINEAR : ULAW_TO_LINEAR;
    const s = new Int16Array(payload.length);
    for (let i = 0; i < payload.length; i++) s[i] = table[payload[i]!]!;
    this.chunks.push(s);
    this.queued += s.length;
    while (this.queued > MAX_QUEUED) this.drop(this.queued - MAX_QUEUED);
  }

  /** Writes up to `n` samples into every second slot of `out` from `channel`; silence for what is missing. */
  take(out: Int16Array, channel: 0 | 1, n: number): void {
    let i = 0;
    while (i < n && this.chunks.length > 0) {
      const c = this.chunks[0]!;
      const k = Math.min(n - i, c.length - this.offset);
      for (let j = 0; j < k; j++) out[(i + j) * 2 + channel] = c[this.offset + j]!;
      i += k;
      this.offset += k;
      this.queued -= k;
      if (this.offset >= c.length) {
        this.chunks.shift();
        this.offset = 0;
      }
    }
  }

  private drop(n: number): void {
    const c = this.chunks[0]!;
    const k = Math.min(n, c.length - this.offset);
    this.offset += k;
    this.queued -= k;
    if (this.offset >= c.length) {
      this.chunks.shift();
      this.offset = 0;
    }
  }
}

export class StereoRecorder {
  private readonly left = new SampleQueue();
  private readonly right = new SampleQueue();
  private ticks = 0;
  private stopping: Promise<RecordingFacts> | undefined;

  constructor(
    readonly key: string,
    private readonly file: RecordingFile,
  ) {}

  get stopped(): boolean {
    return this.stopping !== undefined;
  }

  fromCaller(payload: Uint8Array, codec: Codec): void {
    if (this.stopping === undefined) this.left.push(payload, codec);
  }

  fromOther(payload: Uint8Array, codec: Codec): void {
    if (this.stopping === undefined) this.right.push(payload, codec);
  }

  /** One 20 ms stereo frame. */
  tick(): void {
    if (this.stopping !== undefined) return;
    const frame = new Int16Array(SAMPLES_PER_TICK * 2);
    this.left.take(frame, 0, SAMPLES_PER_TICK);
    this.right.take(frame, 1, SAMPLES_PER_TICK);
    this.file.append(Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength));
    this.ticks++;
  }

  stop(): Promise<RecordingFacts> {
    this.stopping ??= (async () => {
      const dataBytes = this.ticks * SAMPLES_PER_TICK * 2 * 2;
      const r = await this.file.finish(wavHeader('pcm16', 2, dataBytes));
      return { key: this.key, bytes: r.bytes, sha256: r.sha256, durationMs: (this.ticks * SAMPLES_PER_TICK) / 8 };
    })();
    return this.stopping;
  }
}
