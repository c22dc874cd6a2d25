import { describe, expect, it } from 'vitest';
import { FrameDecoder, encodeFrame } from '../../src/edge/wire/frame-decoder.ts';
import { parseAppCommand } from '../../src/edge/wire/app-command.ts';

describe('edge wire: frame decoder (§1.2)', () => {
  it('decodes a frame split one byte at a time', () => {
    const d = new FrameDecoder(65536);
    const bytes = Buffer.from(encodeFrame('raw-F-2|ping'));
    const out: string[] = [];
    for (const b of bytes) {
      const r = d.push(Buffer.from([b]));
      expect(r.kind).toBe('frames');
      out.push(...r.payloads);
    }
    expect(out).toEqual(['raw-F-2|ping']);
  });

  it('decodes coalesced frames in one chunk', () => {
    const d = new FrameDecoder(65536);
    const r = d.push(Buffer.from(encodeFrame('a|ping') + encodeFrame('b|route|info') + '12#par'));
    expect(r.payloads).toEqual(['a|ping', 'b|route|info']);
    expect(d.push(Buffer.from('tial-frame')).payloads).toEqual(['partial-fram']);
  });

  it('counts UTF-8 bytes and survives a multi-byte character cut between chunks', () => {
    const payload = 'x|sip||\r\nMESSAGE sip:a@b SIP/2.0\r\n\r\nhéllo wörld ✓';
    const bytes = Buffer.from(encodeFrame(payload));
    expect(encodeFrame(payload).startsWith(`${Buffer.byteLength(payload)}#`)).toBe(true);
    const cut = bytes.indexOf(Buffer.from('✓')) + 1;
    const d = new FrameDecoder(65536);
    expect(d.push(bytes.subarray(0, cut)).payloads).toEqual([]);
    expect(d.push(bytes.subarray(cut)).payloads).toEqual([payload]);
  });

  it('rejects a non-digit length (E.3 abc#hello), an empty or zero length, and an over-size frame', () => {
    expect(new FrameDecoder(100).push(Buffer.from('abc#hello')).kind).toBe('error');
    expect(new FrameDecoder(100).push(Buffer.from('#hello')).kind).toBe('error');
    expect(new FrameDecoder(100).push(Buffer.from('0#')).kind).toBe('error');
    expect(new FrameDecoder(100).push(Buffer.from('101#')).kind).toBe('error');
    expect(new FrameDecoder(100).push(Buffer.from('123456')).kind).toBe('error');
  });
});

describe('edge wire: app command parser (§1.3)', () => {
  it('parses authenticate with and without tags', () => {
    expect(parseAppCommand('m|authenticate|cymru|')).toEqual({ type: 'authenticate', msgId: 'm', secret: 'cymru', tags: [] });
    expect(parseAppCommand('m|authenticate|cymru|tag1,tag2')).toMatchObject({ tags: ['tag1', 'tag2'] });
  });
  it('parses sip commands with the optional routeUri and the body after the first CRLF', () => {
    expect(parseAppCommand('m|sip|||sip:127.0.0.1:5177\r\nOPTIONS sip:b SIP/2.0\r\n\r\n')).toEqual({
      type: 'sip',
      msgId: 'm',
      txnId: '',
      dialogId: '',
      routeUri: 'sip:127.0.0.1:5177',
      message: 'OPTIONS sip:b SIP/2.0\r\n\r\n',
    });
  });
  it('rejects one-token payloads and unknown types', () => {
    expect(parseAppCommand('raw-B-4')).toMatchObject({ type: 'invalid', reason: 'Invalid message format' });
    expect(parseAppCommand('x|no-such-type|x')).toMatchObject({ type: 'invalid', reason: 'Unknown message type' });
  });
  it('lower-cases route verbs', () => {
    expect(parseAppCommand('m|route|INVITE')).toMatchObject({ verb: 'invite' });
  });
});
