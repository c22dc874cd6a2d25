/**
 * Property tests of the SIP parser: it never throws on random or mutated input (100,000 cases
 * in all), and serialise∘parse is a fixed point on valid messages.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canFormResponse, createResponse, parseMessage, serialiseMessage, type ParseResult, type SipMessage } from '../../src/edge/message/index.ts';

const tokenChar = fc.constantFrom(..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`'~".split(''));
const token = fc.string({ unit: tokenChar, minLength: 1, maxLength: 12 });
const alnum = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789'.split('')), minLength: 1, maxLength: 10 });
const textChar = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz ABCXYZ0123456789,;:=<>@/"\\.-_()[]?'.split('')) },
  { weight: 1, arbitrary: fc.constantFrom('é', 'ö', '✓', '日', '本', 'ß', '😀') },
);
/** A header value: no CR/LF, no surrounding whitespace. */
const headerValue = fc
  .string({ unit: textChar, minLength: 1, maxLength: 40 })
  .map((s) => s.trim())
  .filter((s) => s.length > 0);
const host = fc.oneof(
  fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join('.')),
  fc.constantFrom('[::1]', '[2001:db8::5]', 'example.com', 'sip.example.org'),
);
const port = fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined });
const hostPort = fc.tuple(host, port).map(([h, p]) => (p === undefined ? h : `${h}:${p}`));
const sipUri = fc
  .tuple(fc.constantFrom('sip', 'sips'), fc.option(alnum, { nil: undefined }), hostPort, fc.constantFrom('', ';transport=tcp', ';lr', ';user=phone'))
  .map(([scheme, user, hp, params]) => `${scheme}:${user === undefined ? '' : `${user}@`}${hp}${params}`);
const displayName = fc.option(
  fc.oneof(
    alnum,
    headerValue.map((s) => `"${s.replace(/[\\"]/g, '')}"`),
  ),
  { nil: undefined },
);
const nameAddr = fc
  .tuple(displayName, sipUri, fc.option(alnum, { nil: undefined }))
  .map(([d, uri, tag]) => `${d === undefined ? '' : `${d} `}<${uri}>${tag === undefined ? '' : `;tag=${tag}`}`);
const via = fc
  .tuple(fc.constantFrom('UDP', 'TCP', 'TLS'), hostPort, alnum, fc.boolean())
  .map(([t, hp, b, rport]) => `SIP/2.0/${t} ${hp};branch=z9hG4bK${b}${rport ? ';rport' : ''}`);
const method = fc.constantFrom('INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'REGISTER', 'INFO', 'MESSAGE', 'PRACK', 'UPDATE', 'NOTIFY');
const RESERVED = new Set(['via', 'from', 'to', 'call-id', 'cseq', 'content-length', 'max-forwards']);
const extraHeader = fc
  .tuple(token, headerValue)
  .filter(([n]) => n.length > 1 && !RESERVED.has(n.toLowerCase()))
  .map(([n, v]) => `${n}: ${v}`);
const body = fc.oneof(fc.constant(''), fc.string({ unit: textChar, maxLength: 200 }), fc.constant('v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\n'));
const nameStyle = fc.constantFrom('long', 'compact', 'lower');

function name(long: string, compact: string, style: string): string {
  if (style === 'compact') return compact;
  if (style === 'lower') return long.toLowerCase();
  return long;
}

/** A well-formed request or response as bytes. */
const validMessage = fc
  .record({
    isRequest: fc.boolean(),
    method,
    uri: sipUri,
    status: fc.integer({ min: 100, max: 699 }),
    reason: fc.constantFrom('OK', 'Ringing', 'Busy Here', 'Not Found', 'Request Terminated', ''),
    vias: fc.array(via, { minLength: 1, maxLength: 3 }),
    combineVias: fc.boolean(),
    from: nameAddr,
    to: nameAddr,
    callId: fc.tuple(alnum, fc.option(host, { nil: undefined })).map(([a, h]) => (h === undefined ? a : `${a}@${h}`)),
    seq: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    extras: fc.array(extraHeader, { maxLength: 5 }),
    body,
    style: nameStyle,
  })
  .map((m) => {
    const head: string[] = [m.isRequest ? `${m.method} ${m.uri} SIP/2.0` : `SIP/2.0 ${m.status} ${m.reason}`];
    if (m.combineVias) head.push(`${name('Via', 'v', m.style)}: ${m.vias.join(', ')}`);
    else for (const v of m.vias) head.push(`${name('Via', 'v', m.style)}: ${v}`);
    head.push(`${name('From', 'f', m.style)}: ${m.from}`);
    head.push(`${name('To', 't', m.style)}: ${m.to}`);
    head.push(`${name('Call-ID', 'i', m.style)}: ${m.callId}`);
    head.push(`CSeq: ${m.seq} ${m.method}`);
    head.push(...m.extras);
    const bodyBytes = Buffer.from(m.body, 'utf8');
    head.push(`${name('Content-Length', 'l', m.style)}: ${bodyBytes.length}`);
    return Buffer.concat([Buffer.from(head.join('\r\n') + '\r\n\r\n', 'utf8'), bodyBytes]);
  });

type Mutation =
  | { kind: 'flip'; at: number; value: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: number[] }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'duplicate'; at: number; length: number };

const interesting = fc.constantFrom(0x0d, 0x0a, 0x20, 0x09, 0x3a, 0x3b, 0x2c, 0x22, 0x3c, 0x3e, 0x40, 0x5b, 0x5d, 0x00, 0xff, 0xc3);
const byte = fc.oneof(fc.integer({ min: 0, max: 255 }), interesting);
/** Mutations drawn as plain integer tuples (much cheaper to generate than records). */
const mutation: fc.Arbitrary<Mutation> = fc.tuple(fc.nat(4), fc.nat(), byte, fc.integer({ min: 1, max: 40 })).map(([kind, at, value, length]): Mutation => {
  switch (kind) {
    case 0:
      return { kind: 'flip', at, value };
    case 1:
      return { kind: 'truncate', at };
    case 2:
      return { kind: 'insert', at, bytes: Array.from({ length: 1 + (length % 8) }, (_, i) => (value + i * 37) & 0xff) };
    case 3:
      return { kind: 'delete', at, length: 1 + (length % 20) };
    default:
      return { kind: 'duplicate', at, length };
  }
});

function mutate(input: Buffer, mutations: Mutation[]): Buffer {
  let b = input;
  for (const m of mutations) {
    const at = b.length === 0 ? 0 : m.at % (b.length + 1);
    switch (m.kind) {
      case 'flip':
        if (at < b.length) {
          b = Buffer.from(b);
          b[at] = m.value;
        }
        break;
      case 'truncate':
        b = b.subarray(0, at);
        break;
      case 'insert':
        b = Buffer.concat([b.subarray(0, at), Buffer.from(m.bytes), b.subarray(at)]);
        break;
      case 'delete':
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + m.length)]);
        break;
      case 'duplicate':
        b = Buffer.concat([b.subarray(0, at + m.length), b.subarray(at, at + m.length), b.subarray(at + m.length)]);
        break;
    }
  }
  return b;
}

/** Use every accessor the layers above use; none may throw. */
function exercise(message: SipMessage): void {
  void message.vias;
  void message.topVia;
  void message.from;
  void message.to;
  void message.fromTag;
  void message.toTag;
  void message.cseq;
  void message.callId;
  void message.maxForwards;
  for (const h of message.headers) message.getAll(h.name);
  if (message.kind === 'request') {
    void message.parsedUri;
    if (canFormResponse(message)) serialiseMessage(createResponse(message, 400, { toTag: 'x' }));
  }
  serialiseMessage(message);
  void message.toString();
}

function parseAndExercise(data: Buffer): ParseResult {
  const result = parseMessage(data);
  if (result.ok) exercise(result.message);
  else if (result.error.partial !== undefined) exercise(result.error.partial);
  return result;
}

describe('edge message: parser properties', () => {
  it('never throws on 30,000 random byte strings', () => {
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      fc
        .array(fc.oneof(byte, fc.constantFrom(...Buffer.from('SIP/2.0 INVITE sip: Via: From: To: Call-ID: CSeq: ;tag= ;branch=z9hG4bK <> "\r\n'))), {
          maxLength: 300,
        })
        .map((a) => Uint8Array.from(a)),
    );
    fc.assert(
      fc.property(bytes, (b) => {
        parseAndExercise(Buffer.from(b));
      }),
      { numRuns: 30_000 },
    );
  });

  it('never throws on 70,000 mutated valid messages', () => {
    // Generating a structured message costs far more than parsing it: draw from a fixed pool.
    const pool = fc.sample(validMessage, { numRuns: 400, seed: 20261126 });
    fc.assert(
      fc.property(fc.nat(pool.length - 1), fc.array(mutation, { minLength: 1, maxLength: 4 }), (index, mutations) => {
        parseAndExercise(mutate(pool[index] as Buffer, mutations));
      }),
      { numRuns: 70_000 },
    );
  });

  it('parses every generated valid message and serialise∘parse is a fixed point', () => {
    fc.assert(
      fc.property(validMessage, (valid) => {
        const first = parseMessage(valid);
        if (!first.ok) throw new Error(`valid message rejected: ${first.error.code} ${first.error.message}\n${valid.toString()}`);
        const once = serialiseMessage(first.message);
        expect(once.equals(valid)).toBe(true);
        const second = parseMessage(once);
        if (!second.ok) throw new Error(`re-parse failed: ${second.error.message}`);
        expect(serialiseMessage(second.message).equals(once)).toBe(true);
        expect(second.message.headers.map((h) => [h.key, h.value])).toEqual(first.message.headers.map((h) => [h.key, h.value]));
        expect(second.message.vias).toEqual(first.message.vias);
        expect(second.message.cseq).toEqual(first.message.cseq);
      }),
      { numRuns: 3_000 },
    );
  });

  it('a changed header re-serialises to a message that parses to the same values', () => {
    fc.assert(
      fc.property(validMessage, headerValue, (valid, value) => {
        const first = parseMessage(valid);
        if (!first.ok) throw new Error('valid message rejected');
        first.message.set('X-Test', value);
        first.message.setBody('héllo');
        const out = serialiseMessage(first.message);
        const again = parseMessage(out);
        if (!again.ok) throw new Error(`re-parse failed: ${again.error.message}`);
        expect(again.message.get('x-test')).toBe(value);
        expect(again.message.bodyText).toBe('héllo');
        expect(serialiseMessage(again.message).equals(out)).toBe(true);
      }),
      { numRuns: 2_000 },
    );
  });
});
