import { describe, expect, it } from 'vitest';
import type { SipRequest } from '../../src/edge/message/index.ts';
import {
  createAckForNon2xx,
  createCancel,
  createResponse,
  generateBranch,
  generateCallId,
  generateTag,
  randomToken,
  parseCSeq,
  parseMessage,
  parseNameAddr,
  parseUri,
  parseVia,
  serialiseMessage,
  splitHeaderValues,
  SipResponse,
  canFormResponse,
  reasonPhrase,
  type SipMessage,
} from '../../src/edge/message/index.ts';

const CRLF = '\r\n';

function lines(...parts: string[]): string {
  return parts.join(CRLF);
}

const INVITE = lines(
  'INVITE sip:1234@127.0.0.1:5180 SIP/2.0',
  'Via: SIP/2.0/UDP 127.0.0.1:5173;branch=z9hG4bKretrans1',
  'From: <sip:peer@127.0.0.1:5173>;tag=peertag1',
  'To: <sip:1234@127.0.0.1:5180>',
  'Call-ID: retrans-1',
  'CSeq: 1 INVITE',
  'Contact: <sip:peer@127.0.0.1:5173>',
  'Max-Forwards: 70',
  'Content-Type: application/sdp',
  'Content-Length:   5',
  '',
  'v=0',
  '',
);

function parseOk(text: string | Buffer): SipMessage {
  const r = parseMessage(text);
  if (!r.ok) throw new Error(`parse failed: ${r.error.code} ${r.error.message}`);
  return r.message;
}

function parseRequest(text: string | Buffer): SipRequest {
  const m = parseOk(text);
  if (m.kind !== 'request') throw new Error('not a request');
  return m;
}

describe('edge message: start line and basic headers', () => {
  it('parses a request line, headers in order and a byte body', () => {
    const req = parseRequest(INVITE);
    expect(req.method).toBe('INVITE');
    expect(req.uri).toBe('sip:1234@127.0.0.1:5180');
    expect(req.headers.map((h) => h.key)).toEqual(['via', 'from', 'to', 'call-id', 'cseq', 'contact', 'max-forwards', 'content-type', 'content-length']);
    expect(req.callId).toBe('retrans-1');
    expect(req.cseq).toEqual({ seq: 1, method: 'INVITE' });
    expect(req.fromTag).toBe('peertag1');
    expect(req.toTag).toBeUndefined();
    expect(req.maxForwards).toBe(70);
    expect(req.bodyText).toBe('v=0\r\n');
  });

  it('parses a status line with a multi-word reason', () => {
    const res = parseOk(
      lines(
        'SIP/2.0 481 Call/Transaction Does Not Exist',
        'Via: SIP/2.0/UDP h;branch=z9hG4bK1',
        'From: <sip:a@b>;tag=1',
        'To: <sip:c@d>;tag=2',
        'Call-ID: x',
        'CSeq: 1 BYE',
        '',
        '',
      ),
    );
    expect(res.kind).toBe('response');
    if (res.kind !== 'response') return;
    expect(res.status).toBe(481);
    expect(res.reason).toBe('Call/Transaction Does Not Exist');
  });

  it('ignores CRLFs before the start line and accepts bare LF line ends', () => {
    const req = parseRequest('\r\n\r\n' + INVITE.replaceAll('\r\n', '\n').replace('Content-Length:   5', 'Content-Length: 4'));
    expect(req.bodyText).toBe('v=0\n');
    expect(req.method).toBe('INVITE');
    expect(req.callId).toBe('retrans-1');
  });

  it('expands every compact header name', () => {
    const req = parseRequest(
      lines(
        'MESSAGE sip:bob@example.com SIP/2.0',
        'v: SIP/2.0/UDP h:5060;branch=z9hG4bKa',
        'f: <sip:a@b>;tag=1',
        't: <sip:bob@example.com>',
        'i: cid',
        'CSeq: 1 MESSAGE',
        'm: <sip:a@h>',
        'c: text/plain',
        'k: 100rel',
        's: hello',
        'e: gzip',
        'o: presence',
        'u: talk',
        'r: <sip:x@y>',
        'b: <sip:z@y>',
        'l: 2',
        '',
        'hi',
      ),
    );
    for (const [name, value] of [
      ['Via', 'SIP/2.0/UDP h:5060;branch=z9hG4bKa'],
      ['From', '<sip:a@b>;tag=1'],
      ['To', '<sip:bob@example.com>'],
      ['Call-ID', 'cid'],
      ['Contact', '<sip:a@h>'],
      ['Content-Type', 'text/plain'],
      ['Supported', '100rel'],
      ['Subject', 'hello'],
      ['Content-Encoding', 'gzip'],
      ['Event', 'presence'],
      ['Allow-Events', 'talk'],
      ['Refer-To', '<sip:x@y>'],
      ['Referred-By', '<sip:z@y>'],
      ['Content-Length', '2'],
    ] as const) {
      expect(req.get(name), name).toBe(value);
    }
    expect(req.bodyText).toBe('hi');
  });

  it('matches header names case-insensitively', () => {
    const req = parseRequest(INVITE.replace('Call-ID', 'cAlL-iD').replace('CSeq', 'cseq'));
    expect(req.get('CALL-ID')).toBe('retrans-1');
    expect(req.get('i')).toBe('retrans-1');
    expect(req.cseq?.seq).toBe(1);
  });

  it('unfolds folded header lines', () => {
    const req = parseRequest(
      lines(
        'OPTIONS sip:a@b SIP/2.0',
        'Via: SIP/2.0/UDP h;branch=z9hG4bKf',
        "Subject: I know you're there,",
        '   pick up the phone',
        '\tand talk to me!',
        'From: <sip:a@b>;tag=1',
        'To: <sip:a@b>',
        'Call-ID: f',
        'CSeq: 8 OPTIONS',
        '',
        '',
      ),
    );
    expect(req.get('subject')).toBe("I know you're there, pick up the phone and talk to me!");
  });

  it('keeps repeated headers in order and splits list values, not inside quotes or <>', () => {
    const req = parseRequest(
      lines(
        'INVITE sip:a@b SIP/2.0',
        'Via: SIP/2.0/UDP p1:5060;branch=z9hG4bK1, SIP/2.0/TCP [2001:db8::1]:5070;branch=z9hG4bK2',
        'Via: SIP/2.0/UDP p3;branch=z9hG4bK3;received=192.0.2.1;rport=5999',
        'Route: <sip:r1;lr>,<sip:r2,x;lr>',
        'Contact: "Doe, John" <sip:j@h>;q=0.5, <sip:k@h>',
        'WWW-Authenticate: Digest realm="a,b", nonce="n"',
        'From: <sip:a@b>;tag=1',
        'To: <sip:a@b>',
        'Call-ID: l',
        'CSeq: 1 INVITE',
        '',
        '',
      ),
    );
    expect(req.vias.map((v) => v.branch)).toEqual(['z9hG4bK1', 'z9hG4bK2', 'z9hG4bK3']);
    expect(req.vias[1]?.host).toBe('[2001:db8::1]');
    expect(req.vias[1]?.transport).toBe('TCP');
    expect(req.getAll('route')).toEqual(['<sip:r1;lr>', '<sip:r2,x;lr>']);
    expect(req.getAll('contact')).toEqual(['"Doe, John" <sip:j@h>;q=0.5', '<sip:k@h>']);
    expect(req.getAll('www-authenticate')).toEqual(['Digest realm="a,b", nonce="n"']);
    expect(req.count('via')).toBe(2);
  });

  it('splitHeaderValues keeps escaped quotes inside quoted strings', () => {
    expect(splitHeaderValues('"a \\" , b" <sip:x>, <sip:y>')).toEqual(['"a \\" , b" <sip:x>', '<sip:y>']);
  });
});

describe('edge message: grammar of individual headers', () => {
  it('parses name-addr with quoted display names and header params', () => {
    const na = parseNameAddr('"Alice \\"A\\" Smith" <sip:alice@atlanta.com;transport=tcp>;tag=1928301774;x');
    expect(na?.displayName).toBe('Alice \\"A\\" Smith');
    expect(na?.uri).toBe('sip:alice@atlanta.com;transport=tcp');
    expect(na?.bracketed).toBe(true);
    expect(na?.params.get('tag')).toBe('1928301774');
    expect(na?.params.get('x')).toBeNull();
  });

  it('parses unquoted display names and addr-spec whose params are header params (§20.10)', () => {
    expect(parseNameAddr('Bob <sip:bob@b.com>')?.displayName).toBe('Bob');
    const spec = parseNameAddr('sip:bob@b.com;tag=9');
    expect(spec?.uri).toBe('sip:bob@b.com');
    expect(spec?.bracketed).toBe(false);
    expect(spec?.params.get('tag')).toBe('9');
  });

  it('rejects malformed name-addr', () => {
    for (const bad of ['', '<sip:a@b', '"unterminated <sip:a@b>', 'no-scheme', '<>', '<sip:a@b>;=x', 'a <b <sip:x@y>']) {
      expect(parseNameAddr(bad), bad).toBeUndefined();
    }
  });

  it('parses SIP URIs with user, password, IPv6 host, port, params and headers', () => {
    const u = parseUri('sips:alice:secret@[2001:db8::10]:5061;transport=tcp;lr?subject=project%20x&priority=urgent');
    expect(u).toMatchObject({ scheme: 'sips', user: 'alice', password: 'secret', host: '[2001:db8::10]', port: 5061 });
    expect(u?.params.get('transport')).toBe('tcp');
    expect(u?.params.get('lr')).toBeNull();
    expect(u?.headers.get('subject')).toBe('project%20x');
    expect(parseUri('sip:127.0.0.1')).toMatchObject({ host: '127.0.0.1', user: undefined, port: undefined });
    expect(parseUri('SIP:+1-212-555-1212;npdi@gw.example.com;user=phone')?.user).toBe('+1-212-555-1212;npdi');
  });

  it('parses tel URIs', () => {
    const t = parseUri('tel:+1-201-555-0123;phone-context=example.com');
    expect(t).toMatchObject({ scheme: 'tel', user: '+1-201-555-0123', host: '' });
    expect(t?.params.get('phone-context')).toBe('example.com');
  });

  it('rejects malformed URIs and other schemes', () => {
    for (const bad of ['http://x', 'sip:', 'sip:a@', 'sip:host:99999', 'sip:[::1', 'sip:a b', 'tel:', 'sip:host:', 'sip:h;=1']) {
      expect(parseUri(bad), bad).toBeUndefined();
    }
  });

  it('parses Via with branch, received and rport (RFC 3581)', () => {
    const v = parseVia('SIP / 2.0 / udp 10.0.0.1:5060 ;branch=z9hG4bK776;received=192.0.2.4;rport=6000');
    expect(v).toMatchObject({
      protocolName: 'SIP/2.0',
      transport: 'UDP',
      host: '10.0.0.1',
      port: 5060,
      branch: 'z9hG4bK776',
      received: '192.0.2.4',
      rport: 6000,
    });
    expect(parseVia('SIP/2.0/TCP h;rport;branch=z9hG4bKx')?.rport).toBeNull();
    expect(parseVia('SIP/2.0/UDP h;branch=z9hG4bKx')?.rport).toBeUndefined();
    expect(parseVia('SIP/2.0/UDP [::1]:5080;branch=z9hG4bKy')).toMatchObject({ host: '[::1]', port: 5080 });
    for (const bad of ['SIP/2.0 h', 'SIP/2.0/UDP', 'SIP/2.0/UDP h;rport=x', 'SIP/2.0/UDP h:70000']) expect(parseVia(bad), bad).toBeUndefined();
  });

  it('parses CSeq and rejects bad ones', () => {
    expect(parseCSeq('  4711   INVITE ')).toEqual({ seq: 4711, method: 'INVITE' });
    for (const bad of ['INVITE', '1', '-1 INVITE', '2147483648 INVITE', '1 IN VITE', '1INVITE']) expect(parseCSeq(bad), bad).toBeUndefined();
  });
});

describe('edge message: bodies, UTF-8 and Content-Length', () => {
  it('counts Content-Length in bytes for a multi-byte UTF-8 body', () => {
    const body = 'héllo wörld ✓';
    const req = parseRequest(INVITE.replace('Content-Length:   5', `Content-Length: ${Buffer.byteLength(body)}`).replace(/v=0\r\n$/, body));
    expect(req.body.length).toBe(17);
    expect(req.bodyText).toBe(body);
  });

  it('keeps UTF-8 in header values', () => {
    const req = parseRequest(INVITE.replace('From: <sip:peer', 'From: "Jürgen ✓" <sip:peer'));
    expect(req.from?.displayName).toBe('Jürgen ✓');
  });

  it('discards bytes beyond Content-Length (§18.3) and takes the rest when it is absent', () => {
    const req = parseRequest(INVITE + 'EXTRA');
    expect(req.bodyText).toBe('v=0\r\n');
    const noLength = parseRequest(INVITE.replace('Content-Length:   5\r\n', '') + 'x');
    expect(noLength.bodyText).toBe('v=0\r\nx');
  });

  it('reports a body shorter than Content-Length', () => {
    const r = parseMessage(INVITE.replace('Content-Length:   5', 'Content-Length: 400'));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe('TRUNCATED_BODY');
  });

  it('serialises with a correct byte Content-Length and keeps unchanged lines as received', () => {
    const req = parseRequest(INVITE);
    const text = serialiseMessage(req).toString('utf8');
    expect(text).toContain('Content-Length:   5\r\n');
    req.setBody('héllo');
    const again = serialiseMessage(req).toString('utf8');
    expect(again).toContain('Content-Length: 6\r\n\r\nhéllo');
    const built = new SipResponse(200, 'OK');
    expect(serialiseMessage(built).toString()).toBe('SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n');
  });

  it('lenient mode takes the whole rest as body and does not require headers', () => {
    const r = parseMessage('MESSAGE sip:bob@127.0.0.1:5178 SIP/2.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 13\r\n\r\nhéllo wörld ✓', {
      lenient: true,
    });
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.message.bodyText).toBe('héllo wörld ✓');
      expect(serialiseMessage(r.message).toString()).toContain('Content-Length: 17\r\n');
    }
  });
});

describe('edge message: malformed input gives a typed error with a partial', () => {
  const cases: Array<[string, string, string]> = [
    ['missing Call-ID', INVITE.replace('Call-ID: retrans-1\r\n', ''), 'MISSING_HEADER'],
    ['missing Via', INVITE.replace(/Via: [^\r]*\r\n/, ''), 'MISSING_HEADER'],
    ['bad CSeq', INVITE.replace('CSeq: 1 INVITE', 'CSeq: one INVITE'), 'BAD_CSEQ'],
    ['CSeq method mismatch', INVITE.replace('CSeq: 1 INVITE', 'CSeq: 1 BYE'), 'CSEQ_METHOD_MISMATCH'],
    ['CSeq INVITE on a BYE', INVITE.replace('INVITE sip:', 'BYE sip:'), 'CSEQ_METHOD_MISMATCH'],
    ['CSeq ACK on an INVITE', INVITE.replace('CSeq: 1 INVITE', 'CSeq: 1 ACK'), 'CSEQ_METHOD_MISMATCH'],
    ['duplicate From', INVITE.replace('To:', 'From: <sip:x@y>;tag=2\r\nTo:'), 'DUPLICATE_HEADER'],
    ['bad From', INVITE.replace('From: <sip:peer@127.0.0.1:5173>', 'From: <sip:peer@127'), 'BAD_FROM'],
    ['bad Content-Length', INVITE.replace('Content-Length:   5', 'Content-Length: four'), 'BAD_CONTENT_LENGTH'],
    ['bad header line', INVITE.replace('Max-Forwards: 70', 'Max Forwards 70'), 'BAD_HEADER'],
    ['bad Max-Forwards', INVITE.replace('Max-Forwards: 70', 'Max-Forwards: lots'), 'BAD_MAX_FORWARDS'],
    ['unterminated header block', INVITE.slice(0, INVITE.indexOf('\r\n\r\n')), 'INCOMPLETE_HEADERS'],
    ['bad Request-URI', INVITE.replace('sip:1234@127.0.0.1:5180 SIP', 'nonsense SIP'), 'BAD_REQUEST_URI'],
  ];
  for (const [name, text, code] of cases) {
    it(`${name} → ${code}`, () => {
      const r = parseMessage(text);
      expect(r.ok).toBe(false);
      if (r.ok) return;
      expect(r.error.code).toBe(code);
      expect(r.error.status).toBe(400);
      expect(r.error.partial?.kind).toBe('request');
    });
  }

  it("an ACK with `CSeq: <n> INVITE` is accepted, as the reference's stack does", () => {
    const r = parseMessage(INVITE.replace('INVITE sip:', 'ACK sip:'));
    expect(r.ok).toBe(true);
    if (!r.ok || r.message.kind !== 'request') throw new Error('expected a request');
    expect((r.message as SipRequest).method).toBe('ACK');
    expect(r.message.cseq).toEqual({ seq: 1, method: 'INVITE' });
  });

  it('a partial with Via, From, To, Call-ID and CSeq can form a 400', () => {
    const r = parseMessage(INVITE.replace('Max-Forwards: 70', 'Max-Forwards: lots'));
    if (r.ok || r.error.partial?.kind !== 'request') throw new Error('expected a partial request');
    expect(canFormResponse(r.error.partial)).toBe(true);
    const res = createResponse(r.error.partial, 400, { reason: r.error.message });
    expect(serialiseMessage(res).toString()).toMatch(/^SIP\/2\.0 400 Malformed Max-Forwards header\r\nVia: /);
    const r2 = parseMessage(INVITE.replace('Call-ID: retrans-1\r\n', ''));
    if (r2.ok || r2.error.partial?.kind !== 'request') throw new Error('expected a partial request');
    expect(canFormResponse(r2.error.partial)).toBe(false);
  });

  it('a request without To gets a 400 naming the problem, its To made from the Request-URI', () => {
    const r = parseMessage(INVITE.replace(/\r\nTo: [^\r]*/, ''));
    if (r.ok || r.error.partial?.kind !== 'request') throw new Error('expected a partial request');
    expect(canFormResponse(r.error.partial)).toBe(true);
    const text = serialiseMessage(createResponse(r.error.partial, 400, { reason: r.error.message })).toString();
    expect(text).toMatch(/^SIP\/2\.0 400 Missing To header\r\n/);
    expect(text).toContain(`\r\nTo: <${r.error.partial.uri}>\r\n`);
  });

  it('garbage and bad start lines give no partial', () => {
    for (const bad of [
      '',
      '\r\n\r\n',
      'hello',
      'INVITE\r\n\r\n',
      'SIP/2.0 2000 OK\r\n\r\n',
      '\u0000\u0001\u0002 x y\r\n\r\n',
      'INVITE sip:a\tb@host SIP/2.0\r\n\r\n',
      'INVITE sip:a@12\r7.0.0.1 SIP/2.0\r\n\r\n',
      'INVITE sip:a\u007f@host SIP/2.0\r\n\r\n',
    ]) {
      const r = parseMessage(bad);
      expect(r.ok, JSON.stringify(bad)).toBe(false);
      if (!r.ok) expect(r.error.partial).toBeUndefined();
    }
  });

  it('the version is read case-insensitively and written upper-case (RFC 3261 §7.1), for requests and responses', () => {
    const req = parseMessage(INVITE.replace('SIP/2.0\r\n', 'sip/2.0\r\n'));
    expect(req.ok && req.message.toString().split('\r\n')[0]).toMatch(/ SIP\/2\.0$/);
    const res = parseMessage(
      'sIp/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n',
    );
    expect(res.ok && res.message.toString().split('\r\n')[0]).toBe('SIP/2.0 200 OK');
  });

  it('an unsupported SIP version is a 505', () => {
    const r = parseMessage(INVITE.replace('SIP/2.0\r\n', 'SIP/3.0\r\n'));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe('UNSUPPORTED_VERSION');
      expect(r.error.status).toBe(505);
      const partial = r.error.partial;
      expect(partial?.kind === 'request' && canFormResponse(partial)).toBe(true);
    }
  });
});

describe('edge message: builders and identifiers', () => {
  it('createResponse copies Via, From, To, Call-ID and CSeq and adds a To-tag above 100', () => {
    const req = parseRequest(
      lines(
        'INVITE sip:a@b SIP/2.0',
        'Via: SIP/2.0/UDP p1;branch=z9hG4bK1;rport=5060, SIP/2.0/UDP p2;branch=z9hG4bK2',
        'Via: SIP/2.0/UDP p3;branch=z9hG4bK3',
        'Record-Route: <sip:rr;lr>',
        'From: <sip:a@b>;tag=1',
        'To: <sip:a@b>',
        'Call-ID: c',
        'CSeq: 5 INVITE',
        'Timestamp: 54',
        '',
        '',
      ),
    );
    const ringing = createResponse(req, 180, { toTag: 'abc', copyRecordRoute: true });
    expect(ringing.headers.map((h) => `${h.name}: ${h.value}`)).toEqual([
      'Via: SIP/2.0/UDP p1;branch=z9hG4bK1;rport=5060, SIP/2.0/UDP p2;branch=z9hG4bK2',
      'Via: SIP/2.0/UDP p3;branch=z9hG4bK3',
      'From: <sip:a@b>;tag=1',
      'To: <sip:a@b>;tag=abc',
      'Call-ID: c',
      'CSeq: 5 INVITE',
      'Record-Route: <sip:rr;lr>',
    ]);
    expect(ringing.reason).toBe('Ringing');
    const trying = createResponse(req, 100, { toTag: 'abc' });
    expect(trying.get('to')).toBe('<sip:a@b>');
    expect(trying.get('timestamp')).toBe('54');
    const tagged = parseRequest(
      lines('BYE sip:a@b SIP/2.0', 'Via: SIP/2.0/UDP p;branch=z9hG4bK9', 'From: <sip:a@b>;tag=1', 'To: <sip:a@b>;tag=old', 'Call-ID: c', 'CSeq: 6 BYE', '', ''),
    );
    expect(createResponse(tagged, 200, { toTag: 'new' }).toTag).toBe('old');
  });

  it('createCancel and createAckForNon2xx follow §9.1 and §17.1.1.3', () => {
    const invite = parseRequest(
      lines(
        'INVITE sip:bob@b SIP/2.0',
        'Via: SIP/2.0/UDP me:5060;rport;branch=z9hG4bKabc',
        'Route: <sip:proxy;lr>',
        'From: <sip:a@b>;tag=1',
        'To: <sip:bob@b>',
        'Call-ID: c',
        'CSeq: 7 INVITE',
        'Contact: <sip:me>',
        '',
        '',
      ),
    );
    const cancel = createCancel(invite);
    expect(cancel.method).toBe('CANCEL');
    expect(cancel.uri).toBe('sip:bob@b');
    expect(cancel.topVia?.branch).toBe('z9hG4bKabc');
    expect(cancel.cseq).toEqual({ seq: 7, method: 'CANCEL' });
    expect(cancel.get('route')).toBe('<sip:proxy;lr>');
    expect(cancel.has('contact')).toBe(false);
    const response = new SipResponse(486, 'Busy Here', [{ name: 'To', key: 'to', value: '<sip:bob@b>;tag=xyz' }]);
    const ack = createAckForNon2xx(invite, response);
    expect(ack.method).toBe('ACK');
    expect(ack.toTag).toBe('xyz');
    expect(ack.topVia?.branch).toBe('z9hG4bKabc');
    expect(ack.cseq).toEqual({ seq: 7, method: 'ACK' });
    expect(parseMessage(serialiseMessage(ack)).ok).toBe(true);
  });

  it('generates tags, branches and Call-IDs in the expected shapes', () => {
    const tags = new Set(Array.from({ length: 1000 }, () => generateTag()));
    expect(tags.size).toBe(1000);
    for (const t of tags) expect(t).toMatch(/^[A-Za-z0-9]{13}$/);
    expect(generateBranch()).toMatch(/^z9hG4bK[A-Za-z0-9]{13}$/);
    expect(generateCallId()).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('random tokens stay well-formed across many refills of the random pool (rejected bytes included)', () => {
    const bad: string[] = [];
    for (let i = 0; i < 200_000; i++) {
      const t = randomToken(13);
      if (!/^[A-Za-z0-9]{13}$/.test(t)) bad.push(t);
    }
    expect(bad).toEqual([]);
  });

  it('header mutation keeps typed accessors in step', () => {
    const req = parseRequest(INVITE);
    expect(req.toTag).toBeUndefined();
    req.set('To', '<sip:1234@127.0.0.1:5180>;tag=zz');
    expect(req.toTag).toBe('zz');
    req.prepend('Via', 'SIP/2.0/TCP top;branch=z9hG4bKtop');
    expect(req.topVia?.branch).toBe('z9hG4bKtop');
    expect(req.remove('via')).toBe(2);
    expect(req.vias).toEqual([]);
    req.append('v', 'SIP/2.0/UDP x;branch=z9hG4bKx');
    expect(req.headers.at(-1)?.name).toBe('Via');
    expect(reasonPhrase(487)).toBe('Request Terminated');
    expect(reasonPhrase(499)).toBe('Client Error');
  });
});
