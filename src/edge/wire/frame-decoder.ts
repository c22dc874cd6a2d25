/**
 * Splits the byte stream of an admin connection into frames.
 *
 * Spec §1.2: `<N>#<payload>` where N is the decimal count of UTF-8 **bytes** in the payload;
 * frames may be split across or coalesced into TCP segments arbitrarily, so we buffer bytes
 * (never characters: a multi-byte UTF-8 sequence can be cut by a segment boundary).
 * A non-digit before `#`, an empty length, a zero length or an over-long length is a protocol
 * error: the reference drops the connection (E.3 `abc#hello`), and so does the caller on `error`.
 */
export type DecodeResult =
  { readonly kind: 'frames'; readonly payloads: readonly string[] } | { readonly kind: 'error'; readonly reason: string; readonly payloads: readonly string[] };

const HASH = 0x23;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private failed = false;

  /** @param maxFrameBytes largest payload accepted (the spec asks for at least 64 KB). */
  constructor(private readonly maxFrameBytes: number) {}

  /** Feeds bytes; returns every complete payload, in order, or an error after which the decoder is dead. */
  push(chunk: Buffer): DecodeResult {
    if (this.failed) return { kind: 'error', reason: 'decoder already failed', payloads: [] };
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    const payloads: string[] = [];
    let buf = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks, this.buffered);
    let pos = 0;
    const maxDigits = String(this.maxFrameBytes).length;
    for (;;) {
      // read the length prefix
      let i = pos;
      let length = 0;
      while (i < buf.length) {
        const c = buf[i] as number;
        if (c === HASH) break;
        if (c < DIGIT_0 || c > DIGIT_9) return this.fail(`non-digit in frame length`, payloads);
        length = length * 10 + (c - DIGIT_0);
        if (i - pos + 1 > maxDigits) return this.fail('frame length prefix too long', payloads);
        i++;
      }
      if (i >= buf.length) break; // no '#' yet
      if (i === pos) return this.fail('empty frame length', payloads);
      if (length <= 0) return this.fail('zero frame length', payloads);
      if (length > this.maxFrameBytes) return this.fail(`frame of ${length} bytes exceeds ${this.maxFrameBytes}`, payloads);
      const start = i + 1;
      if (buf.length - start < length) break; // payload incomplete
      payloads.push(buf.toString('utf8', start, start + length));
      pos = start + length;
    }
    if (pos >= buf.length) {
      this.chunks = [];
      this.buffered = 0;
    } else if (pos > 0) {
      buf = buf.subarray(pos);
      this.chunks = [buf];
      this.buffered = buf.length;
    } else if (this.chunks.length > 1) {
      this.chunks = [buf];
    }
    return { kind: 'frames', payloads };
  }

  private fail(reason: string, payloads: string[]): DecodeResult {
    this.failed = true;
    this.chunks = [];
    this.buffered = 0;
    return { kind: 'error', reason, payloads };
  }
}

/** Spec §1.2: the length prefix counts UTF-8 bytes, as srf's `Buffer.byteLength` does. */
export function encodeFrame(payload: string): string {
  return `${Buffer.byteLength(payload, 'utf8')}#${payload}`;
}
