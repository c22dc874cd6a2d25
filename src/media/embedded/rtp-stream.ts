/**
 * One RTP stream we send: our SSRC, sequence numbers and timestamps, whatever the audio's source
 * (prompt frames paced by the clock, or packets relayed from the other leg). Switching source
 * sets the marker bit and re-bases the timestamp so it keeps following wall-clock time
 * (RFC 3550 §5.1: the timestamp reflects the sampling instant; the marker starts a talkspurt).
 */
import { randomInt } from 'node:crypto';
import type { RtpHeader } from './rtp-packet.ts';

const SAMPLES_PER_MS = 8;
const FRAME_SAMPLES = 160;

export class RtpStream {
  readonly ssrc = randomInt(1, 0xffffffff);
  private sequence = randomInt(0, 0x10000);
  private lastTs = randomInt(0, 0x7fffffff);
  private lastAt: number | undefined;
  private source: string | undefined;
  private offset = 0;
  sent = 0;

  /** Header for a frame of our own (a prompt), sent at clock time `now` (ms). */
  paced(payloadType: number, now: number): RtpHeader {
    let marker = false;
    let ts: number;
    if (this.source !== 'paced') {
      marker = true;
      this.source = 'paced';
      ts = this.advance(now);
    } else {
      ts = (this.lastTs + FRAME_SAMPLES) >>> 0;
    }
    return this.header(payloadType, ts, marker, now);
  }

  /** Header for a packet relayed from another stream (its SSRC and timestamp), at `now`. */
  relayed(payloadType: number, srcSsrc: number, srcTs: number, srcMarker: boolean, now: number): RtpHeader {
    let marker = srcMarker;
    const key = `relay:${srcSsrc}`;
    if (this.source !== key) {
      marker = true;
      this.source = key;
      this.offset = (this.advance(now) - srcTs) >>> 0;
    }
    return this.header(payloadType, (srcTs + this.offset) >>> 0, marker, now);
  }

  /** The timestamp wall-clock time has reached since the last packet (at least one frame on). */
  private advance(now: number): number {
    if (this.lastAt === undefined) return this.lastTs;
    const elapsed = Math.max(FRAME_SAMPLES, Math.round(((now - this.lastAt) * SAMPLES_PER_MS) / FRAME_SAMPLES) * FRAME_SAMPLES);
    return (this.lastTs + elapsed) >>> 0;
  }

  private header(payloadType: number, timestamp: number, marker: boolean, now: number): RtpHeader {
    this.sequence = (this.sequence + 1) & 0xffff;
    this.lastTs = timestamp;
    this.lastAt = now;
    this.sent++;
    return { marker, payloadType, sequence: this.sequence, timestamp, ssrc: this.ssrc };
  }
}
