/**
 * WAV (RIFF) reading for prompt files: walks the chunks (fmt, fact, LIST, data in any order,
 * odd sizes padded), accepts G.711 mu-law (format 7), A-law (6) and 16-bit linear PCM (1,
 * or WAVE_FORMAT_EXTENSIBLE carrying one of those), mono, 8 kHz.
 */
import { ALAW_TO_ULAW, ULAW_TO_ALAW, encodeAlaw, encodeUlaw, mapBytes } from './g711.ts';

export type WavEncoding = 'pcmu' | 'pcma' | 'pcm16';

export interface WavAudio {
  encoding: WavEncoding;
  sampleRate: number;
  channels: number;
  /** The samples as stored (one byte per G.711 sample, two little-endian bytes per PCM sample). */
  data: Buffer;
}

export class WavFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WavFormatError';
  }
}

const FORMAT_PCM = 1;
const FORMAT_ALAW = 6;
const FORMAT_ULAW = 7;
const FORMAT_EXTENSIBLE = 0xfffe;

export function parseWav(buf: Buffer): WavAudio {
  if (buf.length < 12 || buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') {
    throw new WavFormatError('not a RIFF/WAVE file');
  }
  let fmt: { format: number; channels: number; sampleRate: number; bits: number } | undefined;
  let data: Buffer | undefined;
  let off = 12;
  while (off + 8 <= buf.length) {
    const id = buf.toString('ascii', off, off + 4);
    const size = buf.readUInt32LE(off + 4);
    const body = off + 8;
    const end = Math.min(body + size, buf.length);
    if (id === 'fmt ') {
      if (size < 16) throw new WavFormatError('fmt chunk too short');
      let format = buf.readUInt16LE(body);
      if (format === FORMAT_EXTENSIBLE) {
        if (size < 40) throw new WavFormatError('extensible fmt chunk too short');
        format = buf.readUInt16LE(body + 24); // first two bytes of the sub-format GUID
      }
      fmt = { format, channels: buf.readUInt16LE(body + 2), sampleRate: buf.readUInt32LE(body + 4), bits: buf.readUInt16LE(body + 14) };
    } else if (id === 'data') {
      data = buf.subarray(body, end);
    }
    off = body + size + (size & 1);
  }
  if (fmt === undefined) throw new WavFormatError('no fmt chunk');
  if (data === undefined) throw new WavFormatError('no data chunk');
  let encoding: WavEncoding;
  if (fmt.format === FORMAT_ULAW && fmt.bits === 8) encoding = 'pcmu';
  else if (fmt.format === FORMAT_ALAW && fmt.bits === 8) encoding = 'pcma';
  else if (fmt.format === FORMAT_PCM && fmt.bits === 16) encoding = 'pcm16';
  else throw new WavFormatError(`unsupported WAV format ${fmt.format} with ${fmt.bits} bits`);
  if (encoding === 'pcm16' && data.length % 2 !== 0) data = data.subarray(0, data.length - 1);
  return { encoding, sampleRate: fmt.sampleRate, channels: fmt.channels, data };
}

/** The audio as G.711 bytes in the given law; refuses anything but 8 kHz mono. */
export function toG711(audio: WavAudio, law: 'pcmu' | 'pcma'): Buffer {
  if (audio.sampleRate !== 8000 || audio.channels !== 1) {
    throw new WavFormatError(`prompts must be 8 kHz mono, got ${audio.sampleRate} Hz × ${audio.channels}`);
  }
  if (audio.encoding === law) return audio.data;
  if (audio.encoding === 'pcmu') return mapBytes(audio.data, ULAW_TO_ALAW);
  if (audio.encoding === 'pcma') return mapBytes(audio.data, ALAW_TO_ULAW);
  const n = audio.data.length / 2;
  const out = Buffer.allocUnsafe(n);
  const enc = law === 'pcmu' ? encodeUlaw : encodeAlaw;
  for (let i = 0; i < n; i++) out[i] = enc(audio.data.readInt16LE(i * 2));
  return out;
}

/** A minimal WAV file (for tests and tools). */
export function buildWav(encoding: WavEncoding, samples: Buffer, sampleRate = 8000): Buffer {
  const format = encoding === 'pcmu' ? FORMAT_ULAW : encoding === 'pcma' ? FORMAT_ALAW : FORMAT_PCM;
  const bits = encoding === 'pcm16' ? 16 : 8;
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + samples.length + (samples.length & 1), 4);
  header.write('WAVE', 8, 'ascii');
  header.write('fmt ', 12, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(format, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE((sampleRate * bits) / 8, 28);
  header.writeUInt16LE(bits / 8, 32);
  header.writeUInt16LE(bits, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(samples.length, 40);
  return Buffer.concat([header, samples, Buffer.alloc(samples.length & 1)]);
}

/** The 44-byte header of a WAV file holding `dataBytes` of interleaved samples (recordings: 16-bit PCM, two channels). */
export function wavHeader(encoding: WavEncoding, channels: number, dataBytes: number, sampleRate = 8000): Buffer {
  const format = encoding === 'pcmu' ? FORMAT_ULAW : encoding === 'pcma' ? FORMAT_ALAW : FORMAT_PCM;
  const bits = encoding === 'pcm16' ? 16 : 8;
  const blockAlign = (channels * bits) / 8;
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + dataBytes, 4);
  header.write('WAVE', 8, 'ascii');
  header.write('fmt ', 12, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(format, 20);
  header.writeUInt16LE(channels, 22);
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * blockAlign, 28);
  header.writeUInt16LE(blockAlign, 32);
  header.writeUInt16LE(bits, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(dataBytes, 40);
  return header;
}
