/**
 * A seeded SIP message mutator for the fuzz suite (test/e2e/sip-fuzz.test.ts): valid requests and
 * responses of every method the switch sees, then one to four mutations each, chosen by a PRNG so
 * that a seed reproduces a run exactly. Mutations are those parsers get wrong: bytes flipped,
 * inserted or cut; lines duplicated, dropped or swapped; header names compacted or broken; values
 * replaced with hostile ones (huge numbers, unterminated quotes, NULs, invalid UTF-8, very long
 * tokens); Content-Length lies; folding; bare CR or LF line ends; headers repeated hundreds of
 * times; two messages spliced into one.
 */

/** mulberry32: small, fast, and the same sequence for the same seed on every platform. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
}

/** Where the messages claim to come from and go to. */
export interface FuzzContext {
  /** `ip:port` of the sending socket (Via sent-by, Contact). */
  local: string;
  /** `ip:port` of the edge. */
  edge: string;
  /** A SIP user that exists (so some mutations reach the digest code with a real name). */
  user: string;
  realm: string;
}

const SDP =
  'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0 8 101\r\n' +
  'a=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\n';

const NUMBERS = ['00441632960001', '+441632960001', '0044909876543', '441632000100', '+4409098765432', 'anonymous', '*99#', ''];

function request(rng: Rng, c: FuzzContext, method: string): string {
  const id = rng.int(1e9).toString(36);
  const number = rng.pick(NUMBERS);
  const uri = method === 'REGISTER' ? `sip:${c.edge}` : `sip:${number}@${c.edge}`;
  const body =
    method === 'INVITE' || (method === 'UPDATE' && rng.chance(0.5))
      ? SDP
      : method === 'INFO'
        ? 'Signal=5\r\nDuration=160\r\n'
        : method === 'MESSAGE'
          ? 'hello'
          : '';
  const lines = [
    `${method} ${uri} SIP/2.0`,
    `Via: SIP/2.0/UDP ${c.local};rport;branch=z9hG4bK${id}`,
    'Max-Forwards: 70',
    `From: "Fuzz" <sip:${rng.chance(0.5) ? c.user : number}@${c.realm}>;tag=${id}f`,
    `To: <sip:${method === 'REGISTER' ? c.user : number}@${c.realm}>${rng.chance(0.2) ? `;tag=${id}t` : ''}`,
    `Call-ID: ${id}@fuzz`,
    `CSeq: ${1 + rng.int(5)} ${method}`,
    `Contact: <sip:${c.user}@${c.local}>${method === 'REGISTER' ? ';expires=60' : ''}`,
    'User-Agent: fuzz-device',
  ];
  if (rng.chance(0.3)) lines.push(`P-Asserted-Identity: <sip:${rng.pick(NUMBERS)}@carrier>`);
  if (rng.chance(0.2)) lines.push('Privacy: id');
  if (rng.chance(0.3)) {
    lines.push(
      `${method === 'REGISTER' ? 'Authorization' : 'Proxy-Authorization'}: Digest username="${c.user}", realm="${c.realm}", ` +
        `nonce="${id}${'0'.repeat(rng.int(40))}", uri="${uri}", response="${'a'.repeat(32)}", algorithm=MD5, qop=auth, nc=00000001, cnonce="${id}"`,
    );
  }
  if (method === 'REGISTER' && rng.chance(0.3)) lines.push('Expires: 0');
  if (method === 'SUBSCRIBE' || method === 'NOTIFY') lines.push('Event: presence');
  if (method === 'REFER') lines.push(`Refer-To: <sip:${number}@${c.realm}>`);
  if (method === 'PRACK') lines.push('RAck: 1 1 INVITE');
  if (body !== '') lines.push(`Content-Type: ${method === 'INFO' ? 'application/dtmf-relay' : method === 'MESSAGE' ? 'text/plain' : 'application/sdp'}`);
  lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

function response(rng: Rng, c: FuzzContext): string {
  const id = rng.int(1e9).toString(36);
  const status = rng.pick(['100 Trying', '180 Ringing', '183 Session Progress', '200 OK', '401 Unauthorized', '486 Busy Here', '503 Service Unavailable']);
  const method = rng.pick(['INVITE', 'BYE', 'OPTIONS', 'REGISTER', 'CANCEL']);
  const body = status.startsWith('200') && method === 'INVITE' ? SDP : '';
  return (
    [
      `SIP/2.0 ${status}`,
      `Via: SIP/2.0/UDP ${c.edge};branch=z9hG4bK${id};rport=5060`,
      `From: <sip:${c.user}@${c.realm}>;tag=${id}f`,
      `To: <sip:x@${c.realm}>;tag=${id}t`,
      `Call-ID: ${id}@fuzz`,
      `CSeq: 1 ${method}`,
      `Contact: <sip:x@${c.local}>`,
      ...(body ? ['Content-Type: application/sdp'] : []),
      `Content-Length: ${Buffer.byteLength(body)}`,
    ].join('\r\n') + `\r\n\r\n${body}`
  );
}

const METHODS = [
  'INVITE',
  'INVITE',
  'INVITE',
  'REGISTER',
  'REGISTER',
  'OPTIONS',
  'BYE',
  'CANCEL',
  'ACK',
  'INFO',
  'PRACK',
  'UPDATE',
  'SUBSCRIBE',
  'NOTIFY',
  'MESSAGE',
  'REFER',
  'PUBLISH',
];

/** A well-formed message (request or, one time in ten, a stray response). */
export function seedMessage(rng: Rng, c: FuzzContext): string {
  return rng.chance(0.1) ? response(rng, c) : request(rng, c, rng.pick(METHODS));
}

const HOSTILE_VALUES = [
  '',
  ' ',
  '-1',
  '0',
  '00000000000000000000001',
  '4294967296',
  '18446744073709551616',
  '99999999999999999999999999',
  '1.5',
  'NaN',
  '"unterminated',
  '<sip:@>',
  '<>',
  '<<<<>>>>',
  ';;;;',
  ',,,,',
  '\\',
  '%',
  '%00',
  '%zz',
  '\0',
  '\0\0\0',
  'sip:',
  'sip:@',
  `sip:${'a'.repeat(300)}@x`,
  `<sip:x@[::1>`,
  'SIP/2.0/UDP',
  'SIP/2.0/UDP :0',
  'SIP/2.0/UDP [::1]:99999;branch=',
  'Digest',
  'Digest username=',
  'Digest ,,,,',
  `Digest realm="${'r'.repeat(2000)}"`,
  'Basic YWxhZGRpbjpvcGVuc2VzYW1l',
  '\u{1D11E}\u{1D11E}',
  'é',
  '\u202e',
  '\ud800',
  'a\tb',
  'x'.repeat(4000),
  '1 INVITE',
  '4294967296 INVITE',
  '-5 BYE',
  '1 FOO',
];

const INVALID_UTF8 = [Buffer.from([0xc3]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xff, 0xfe]), Buffer.from([0xf8, 0x88, 0x80, 0x80, 0x80])];

const COMPACT: Record<string, string> = {
  via: 'v',
  from: 'f',
  to: 't',
  'call-id': 'i',
  'content-length': 'l',
  'content-type': 'c',
  contact: 'm',
  supported: 'k',
  subject: 's',
};

function splitLines(msg: string): { head: string[]; body: string } {
  const end = msg.indexOf('\r\n\r\n');
  if (end < 0) return { head: msg.split('\r\n'), body: '' };
  return { head: msg.slice(0, end).split('\r\n'), body: msg.slice(end + 4) };
}

function join(head: string[], body: string): string {
  return `${head.join('\r\n')}\r\n\r\n${body}`;
}

type Mutation = (rng: Rng, msg: Buffer, c: FuzzContext) => Buffer;

const textual =
  (f: (rng: Rng, head: string[], body: string, c: FuzzContext) => string): Mutation =>
  (rng, msg, c) => {
    const { head, body } = splitLines(msg.toString('latin1'));
    return Buffer.from(f(rng, head, body, c), 'latin1');
  };

const MUTATIONS: readonly Mutation[] = [
  // bit flips
  (rng, msg) => {
    const out = Buffer.from(msg);
    for (let i = 1 + rng.int(8); i > 0 && out.length > 0; i--) {
      const k = rng.int(out.length);
      out[k] = (out[k] ?? 0) ^ (1 << rng.int(8));
    }
    return out;
  },
  // interesting bytes inserted
  (rng, msg) => {
    const at = rng.int(msg.length + 1);
    const bytes = rng.chance(0.3)
      ? rng.pick(INVALID_UTF8)
      : Buffer.from(rng.pick(['\0', '\r', '\n', '\r\n', ':', ';', '<', '>', '"', '\\', '%', ',', ' ', '\t', '\r\n\r\n', '\r\n ']), 'latin1');
    return Buffer.concat([msg.subarray(0, at), bytes, msg.subarray(at)]);
  },
  // a range cut out
  (rng, msg) => {
    const at = rng.int(msg.length);
    const len = 1 + rng.int(Math.min(64, msg.length - at));
    return Buffer.concat([msg.subarray(0, at), msg.subarray(at + len)]);
  },
  // truncated
  (rng, msg) => msg.subarray(0, rng.int(msg.length)),
  // a header line duplicated, dropped, or two swapped
  textual((rng, head, body) => {
    if (head.length < 3) return join(head, body);
    const i = 1 + rng.int(head.length - 1);
    const j = 1 + rng.int(head.length - 1);
    const op = rng.int(3);
    if (op === 0) head.splice(i, 0, head[i]!);
    else if (op === 1) head.splice(i, 1);
    else [head[i], head[j]] = [head[j]!, head[i]!];
    return join(head, body);
  }),
  // a header value replaced by a hostile one
  textual((rng, head, body) => {
    if (head.length < 2) return join(head, body);
    const i = 1 + rng.int(head.length - 1);
    const colon = head[i]!.indexOf(':');
    const name = colon > 0 ? head[i]!.slice(0, colon) : head[i]!;
    head[i] = `${name}: ${rng.pick(HOSTILE_VALUES)}`;
    return join(head, body);
  }),
  // a header name compacted, recased, spaced before the colon, or its colon removed
  textual((rng, head, body) => {
    if (head.length < 2) return join(head, body);
    const i = 1 + rng.int(head.length - 1);
    const line = head[i]!;
    const colon = line.indexOf(':');
    if (colon < 0) return join(head, body);
    const name = line.slice(0, colon);
    const value = line.slice(colon + 1);
    const op = rng.int(4);
    if (op === 0) head[i] = `${COMPACT[name.toLowerCase()] ?? name}:${value}`;
    else if (op === 1) head[i] = `${name.toUpperCase()}:${value}`;
    else if (op === 2) head[i] = `${name} \t :${value}`;
    else head[i] = `${name}${value}`;
    return join(head, body);
  }),
  // the start line broken
  textual((rng, head, body) => {
    const parts = head[0]!.split(' ');
    const k = rng.int(parts.length);
    parts[k] = rng.pick(['', 'SIP/3.0', 'sip/2.0', 'SIP/2.0x', 'invite', 'X'.repeat(200), 'sip:', 'tel:+', '<sip:a@b>', '999', '1', 'OK', 'sip:%41@[::1]:0']);
    head[0] = rng.chance(0.2) ? parts.join('  ') : parts.join(' ');
    return join(head, body);
  }),
  // Content-Length lies
  textual((rng, head, body) => {
    const i = head.findIndex((l) => /^(content-length|l)\s*:/i.test(l));
    const len = Buffer.byteLength(body, 'latin1');
    const value = rng.pick([0, len + 1, Math.max(0, len - 1), len * 2, 65536, 1 << 30, -1]);
    if (i >= 0) head[i] = `Content-Length: ${value}`;
    else head.push(`Content-Length: ${value}`);
    return join(head, body);
  }),
  // a header folded over lines (RFC 3261 §7.3.1)
  textual((rng, head, body) => {
    const i = 1 + rng.int(Math.max(1, head.length - 1));
    const line = head[i];
    if (line === undefined) return join(head, body);
    const at = Math.min(line.length, line.indexOf(':') + 1 + rng.int(Math.max(1, line.length)));
    head[i] = `${line.slice(0, at)}\r\n${rng.pick([' ', '\t', '   '])}${line.slice(at)}`;
    return join(head, body);
  }),
  // bare LF or CR line ends
  (rng, msg) =>
    Buffer.from(
      msg.toString('latin1').replace(/\r\n/g, () => (rng.chance(0.5) ? rng.pick(['\n', '\r']) : '\r\n')),
      'latin1',
    ),
  // a header repeated many times (Via loops, Record-Route sets, Contact lists)
  textual((rng, head, body) => {
    const i = 1 + rng.int(Math.max(1, head.length - 1));
    const line = head[i];
    if (line === undefined) return join(head, body);
    const copies = Array.from({ length: 10 + rng.int(300) }, () => line);
    head.splice(i, 0, ...copies);
    return join(head, body);
  }),
  // a huge header
  textual((rng, head, body) => {
    head.splice(
      1 + rng.int(Math.max(1, head.length - 1)),
      0,
      `${rng.pick(['Subject', 'X-Pad', 'Via', 'Route', 'Contact', 'Authorization'])}: ${'z'.repeat(1000 + rng.int(40_000))}`,
    );
    return join(head, body);
  }),
  // two messages in one datagram
  (rng, msg, c) => Buffer.concat([msg, Buffer.from(seedMessage(rng, c), 'latin1')]),
  // the body replaced with garbage
  textual((rng, head, body) =>
    join(
      head,
      rng.chance(0.5)
        ? body.replace(/\r\n/g, '\n').slice(0, rng.int(body.length + 1))
        : 'm=audio -1 RTP/AVP 999999\r\nc=IN IP4 300.300.300.300\r\n'.repeat(1 + rng.int(50)),
    ),
  ),
];

/** One seed message with one to four mutations; a few per cent pass unmutated (valid traffic mixed in). */
export function fuzzMessage(rng: Rng, c: FuzzContext): Buffer {
  let msg: Buffer = Buffer.from(seedMessage(rng, c), 'latin1');
  if (rng.chance(0.03)) return msg;
  for (let n = 1 + rng.int(4); n > 0; n--) msg = rng.pick(MUTATIONS)(rng, msg, c);
  return msg.length > 60_000 ? Buffer.from(msg.subarray(0, 60_000)) : msg;
}
