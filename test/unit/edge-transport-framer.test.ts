import { describe, expect, it } from 'vitest';
import { StreamFramer, contentLengthOf, type FramerEvent } from '../../src/edge/transport/stream-framer.ts';

function message(body: string, extra = ''): Buffer {
  const b = Buffer.from(body, 'utf8');
  return Buffer.from(`OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\n${extra}Content-Length: ${b.length}\r\n\r\n${body}`, 'utf8');
}

function messages(events: FramerEvent[]): string[] {
  return events.flatMap((e) => (e.type === 'message' ? [e.data.toString('utf8')] : []));
}

describe('edge transport: TCP stream framing', () => {
  it('frames a message fed one byte at a time', () => {
    const framer = new StreamFramer(65535);
    const m = message('héllo ✓');
    const out: FramerEvent[] = [];
    for (const b of m) out.push(...framer.push(Buffer.from([b])));
    expect(messages(out)).toEqual([m.toString('utf8')]);
    expect(framer.buffered).toBe(0);
  });

  it('frames coalesced messages from one chunk, and a chunk that ends mid-message', () => {
    const framer = new StreamFramer(65535);
    const a = message('first');
    const b = message('second');
    const c = message('third');
    const all = Buffer.concat([a, b, c]);
    const cut = a.length + b.length + 10;
    const first = framer.push(all.subarray(0, cut));
    expect(messages(first)).toEqual([a.toString(), b.toString()]);
    expect(framer.buffered).toBe(10);
    expect(messages(framer.push(all.subarray(cut)))).toEqual([c.toString()]);
  });

  it('takes a missing Content-Length as an empty body (§18.3)', () => {
    const framer = new StreamFramer(65535);
    const m = Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h\r\n\r\n');
    expect(messages(framer.push(Buffer.concat([m, m])))).toEqual([m.toString(), m.toString()]);
  });

  it('reads compact and oddly spaced Content-Length headers', () => {
    const m = Buffer.from('X sip:a SIP/2.0\r\nl:3\r\n\r\nabc');
    expect(contentLengthOf(m, m.indexOf('\r\n\r\n') + 4)).toBe(3);
    const n = Buffer.from('X sip:a SIP/2.0\r\ncontent-LENGTH \t:   12  \r\n\r\n');
    expect(contentLengthOf(n, n.length)).toBe(12);
    const c = Buffer.from('X sip:a SIP/2.0\r\nContent-Type: a\r\nContact: <sip:x>\r\n\r\n');
    expect(contentLengthOf(c, c.length)).toBe(0);
  });

  it('skips CRLFs between messages and answers a double-CRLF keep-alive as a ping (RFC 5626)', () => {
    const framer = new StreamFramer(65535);
    const m = message('x');
    const events = [...framer.push(Buffer.from('\r\n')), ...framer.push(Buffer.from('\r\n')), ...framer.push(Buffer.concat([Buffer.from('\r\n'), m]))];
    expect(events.filter((e) => e.type === 'ping')).toHaveLength(1);
    expect(messages(events)).toEqual([m.toString()]);
  });

  it('fails (close the connection) when the header block exceeds the limit', () => {
    const framer = new StreamFramer(100);
    const events = framer.push(Buffer.alloc(101, 0x41));
    expect(events).toEqual([{ type: 'error', reason: 'too-large' }]);
    expect(framer.push(message('x'))).toEqual([]);
  });

  it('fails when Content-Length announces a message above the limit, before the body arrives', () => {
    const framer = new StreamFramer(200);
    const events = framer.push(Buffer.from('MESSAGE sip:a SIP/2.0\r\nContent-Length: 5000\r\n\r\nab'));
    expect(events).toEqual([{ type: 'error', reason: 'too-large' }]);
  });

  it('fails on an unusable Content-Length', () => {
    for (const bad of ['Content-Length: abc', 'Content-Length: -1', 'Content-Length: 1\r\nContent-Length: 2', 'l: 99999999999']) {
      const framer = new StreamFramer(65535);
      expect(framer.push(Buffer.from(`X sip:a SIP/2.0\r\n${bad}\r\n\r\n`)), bad).toEqual([{ type: 'error', reason: 'bad-content-length' }]);
    }
  });

  it('passes garbage that happens to frame through as a message (the parser rejects it)', () => {
    const framer = new StreamFramer(65535);
    const m = message('ok');
    const out = messages(framer.push(Buffer.concat([Buffer.from('\u0001\u0002garbage\r\n\r\n'), m])));
    expect(out).toEqual(['\u0001\u0002garbage\r\n\r\n', m.toString()]);
  });
});
