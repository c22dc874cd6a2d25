/**
 * Splits a TCP byte stream into SIP messages (RFC 3261 §18.3: on stream transports the
 * message length comes from Content-Length; a missing Content-Length means an empty body).
 *
 * Bytes accumulate in one growable buffer; the scan for the blank line resumes where it
 * stopped, so a message fed one byte at a time costs linear time. CRLFs between messages are
 * skipped; a double CRLF there is an RFC 5626 §3.5.1 keep-alive ping.
 */

/** What push() found, in stream order. */
export type FramerEvent =
  | { readonly type: 'message'; readonly data: Buffer }
  | { readonly type: 'ping' }
  /** Unrecoverable: the stream cannot be framed any more; close the connection. */
  | { readonly type: 'error'; readonly reason: 'too-large' | 'bad-content-length' };

const CR = 0x0d;
const LF = 0x0a;

export class StreamFramer {
  private data: Buffer;
  private length = 0;
  /** Where the search for the end of the header block resumes. */
  private scanFrom = 0;
  /** Once the header block is found: the total size of the current message. */
  private frameSize = -1;
  private failed = false;
  private readonly maxMessageSize: number;

  constructor(maxMessageSize: number) {
    this.maxMessageSize = maxMessageSize;
    this.data = Buffer.allocUnsafe(Math.min(4096, maxMessageSize + 4));
  }

  /** Bytes buffered and not yet framed (a non-zero value at close means a truncated message). */
  get buffered(): number {
    return this.length;
  }

  /** Feed bytes; returns the messages (and pings, or a final error) completed by them. */
  push(chunk: Buffer): FramerEvent[] {
    const events: FramerEvent[] = [];
    if (this.failed) return events;
    this.append(chunk);
    for (;;) {
      if (this.frameSize < 0) {
        this.skipLeadingLineBreaks(events);
        if (this.length === 0) break;
        const headerEnd = this.findHeaderEnd();
        if (headerEnd < 0) {
          if (this.length > this.maxMessageSize) return this.fail(events, 'too-large');
          break;
        }
        const contentLength = contentLengthOf(this.data, headerEnd);
        if (contentLength === undefined) return this.fail(events, 'bad-content-length');
        this.frameSize = headerEnd + contentLength;
        if (this.frameSize > this.maxMessageSize) return this.fail(events, 'too-large');
      }
      if (this.length < this.frameSize) break;
      const message = Buffer.allocUnsafe(this.frameSize);
      this.data.copy(message, 0, 0, this.frameSize);
      this.consume(this.frameSize);
      this.frameSize = -1;
      events.push({ type: 'message', data: message });
    }
    return events;
  }

  private fail(events: FramerEvent[], reason: 'too-large' | 'bad-content-length'): FramerEvent[] {
    this.failed = true;
    this.length = 0;
    this.data = Buffer.alloc(0);
    events.push({ type: 'error', reason });
    return events;
  }

  private append(chunk: Buffer): void {
    const needed = this.length + chunk.length;
    if (needed > this.data.length) {
      let size = Math.max(this.data.length * 2, 256);
      while (size < needed) size *= 2;
      const grown = Buffer.allocUnsafe(size);
      this.data.copy(grown, 0, 0, this.length);
      this.data = grown;
    }
    chunk.copy(this.data, this.length);
    this.length = needed;
  }

  private consume(n: number): void {
    this.data.copyWithin(0, n, this.length);
    this.length -= n;
    this.scanFrom = 0;
  }

  /** Drop CR/LF before a message; each CRLFCRLF (or LF LF) among them is a keep-alive ping. */
  private skipLeadingLineBreaks(events: FramerEvent[]): void {
    let i = 0;
    let lfs = 0;
    let afterPing = 0;
    while (i < this.length) {
      const c = this.data[i];
      if (c === LF) {
        lfs++;
        if (lfs === 2) {
          events.push({ type: 'ping' });
          lfs = 0;
          afterPing = i + 1;
        }
      } else if (c !== CR) {
        break;
      }
      i++;
    }
    // Only line breaks so far: keep those after the last ping, which may be half of the next one.
    const drop = i === this.length ? afterPing : i;
    if (drop > 0) this.consume(drop);
  }

  /** Offset just past the blank line, or -1; resumes the scan where the last call stopped. */
  private findHeaderEnd(): number {
    const data = this.data;
    const end = this.length;
    let i = Math.max(0, this.scanFrom);
    for (; i < end; i++) {
      if (data[i] !== LF) continue;
      if (i + 1 >= end) break;
      const n1 = data[i + 1];
      if (n1 === LF) return i + 2;
      if (n1 === CR) {
        if (i + 2 >= end) break;
        if (data[i + 2] === LF) return i + 3;
      }
    }
    this.scanFrom = Math.max(0, i - 1);
    return -1;
  }
}

/**
 * Content-Length from the header block `data[0, end)`: 0 when absent, undefined when malformed
 * or stated twice with different values. Matches `Content-Length` and compact `l`, any case.
 */
export function contentLengthOf(data: Buffer, end: number): number | undefined {
  let value: number | undefined;
  let lineStart = 0;
  while (lineStart < end) {
    let lineEnd = data.indexOf(LF, lineStart);
    if (lineEnd < 0 || lineEnd > end) lineEnd = end;
    const n = headerValueIfContentLength(data, lineStart, lineEnd);
    if (n !== undefined) {
      if (n < 0 || (value !== undefined && value !== n)) return undefined;
      value = n;
    }
    lineStart = lineEnd + 1;
  }
  return value ?? 0;
}

const NAME = 'content-length';

/** The number on a Content-Length line, -1 if malformed, undefined if not that header. */
function headerValueIfContentLength(data: Buffer, start: number, end: number): number | undefined {
  let i = start;
  const first = data[i];
  if (first === undefined) return undefined;
  const lower = first | 0x20;
  if (lower !== 0x6c && lower !== 0x63) return undefined;
  if (lower === 0x63) {
    if (end - start < NAME.length) return undefined;
    for (let k = 0; k < NAME.length; k++) {
      if (((data[start + k] as number) | 0x20) !== NAME.charCodeAt(k) && NAME.charCodeAt(k) !== 0x2d) return undefined;
      if (NAME.charCodeAt(k) === 0x2d && data[start + k] !== 0x2d) return undefined;
    }
    i = start + NAME.length;
  } else {
    i = start + 1;
  }
  while (i < end && (data[i] === 0x20 || data[i] === 0x09)) i++;
  if (data[i] !== 0x3a) return undefined;
  i++;
  while (i < end && (data[i] === 0x20 || data[i] === 0x09)) i++;
  let n = 0;
  let digits = 0;
  while (i < end) {
    const c = data[i] as number;
    if (c < 0x30 || c > 0x39) break;
    n = n * 10 + (c - 0x30);
    digits++;
    i++;
    if (digits > 9) return -1;
  }
  while (i < end && (data[i] === 0x20 || data[i] === 0x09 || data[i] === CR)) i++;
  return digits === 0 || i !== end ? -1 : n;
}
