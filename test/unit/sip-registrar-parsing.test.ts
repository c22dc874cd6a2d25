import { describe, expect, it } from 'vitest';
import { addressOf, parseContactHeader, parseNameAddr, parseSipUri, uriUser } from '../../src/sip/sip-address.ts';
import { bindingKey } from '../../src/sip/registrar/register-handler.ts';
import { readRegisterRequest } from '../../src/sip/registrar/register-request.ts';
import type { SipRequest } from '../../src/sip/sip-types.ts';

describe('contact parser', () => {
  it('reads a name-addr with display name, URI parameters and quoted header parameters', () => {
    const r = parseContactHeader(
      '"Alice, \\"A\\"" <sip:alice@192.0.2.10:5062;transport=tcp>;expires=60;q=0.5;+sip.instance="<urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6>"',
    );
    expect(r.ok).toBe(true);
    if (!r.ok || r.value === '*') return;
    const c = r.value[0]!;
    expect(c.displayName).toBe('Alice, "A"');
    expect(c.uri).toBe('sip:alice@192.0.2.10:5062;transport=tcp');
    expect(c.parsedUri).toEqual({ scheme: 'sip', user: 'alice', host: '192.0.2.10', port: 5062 });
    expect(c.params.get('expires')).toBe('60');
    expect(c.params.get('+sip.instance')).toBe('<urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6>');
  });

  it('reads several contacts, bare addr-specs (parameters belong to the header) and *', () => {
    const r = parseContactHeader('sip:a@h1;expires=30, <sips:b@[2001:db8::1]:5061>,sip:c@h3');
    expect(r.ok && r.value !== '*' && r.value.map((c) => [c.uri, c.params.get('expires')])).toEqual([
      ['sip:a@h1', '30'],
      ['sips:b@[2001:db8::1]:5061', undefined],
      ['sip:c@h3', undefined],
    ]);
    expect(parseContactHeader(' * ')).toEqual({ ok: true, value: '*' });
  });

  it.each([
    ['not a SIP URI', '<http://example.com>'],
    ['unclosed bracket', '<sip:a@h'],
    ['unbalanced quote', '"Alice <sip:a@h>'],
    ['* among others', '*, sip:a@h'],
    ['space in URI', '<sip:a b@h>'],
    ['bad parameter', '<sip:a@h>;exp ires=3'],
    ['text after address', '<sip:a@h> junk'],
    ['port out of range', '<sip:a@h:70000>'],
    ['no host', 'sip:'],
    ['empty element', 'sip:a@h,,sip:b@h'],
  ])('refuses %s', (_name, value) => {
    expect(parseContactHeader(value).ok).toBe(false);
  });

  it('parses To values and URIs', () => {
    expect(parseNameAddr('Bob <sip:bob@Example.COM>;tag=1').ok).toBe(true);
    expect(parseSipUri('SIP:bob@Example.COM')).toEqual({ ok: true, value: { scheme: 'sip', user: 'bob', host: 'example.com', port: undefined } });
  });

  it('keys a binding by +sip.instance when present, else by the URI with scheme and host lower-cased', () => {
    const a = parseContactHeader('<SIP:alice@Host.Example:5060;transport=udp>');
    const b = parseContactHeader('<sip:alice@host.example:5060;transport=udp>');
    const i1 = parseContactHeader('<sip:alice@10.0.0.1>;+sip.instance="<urn:uuid:1>"');
    const i2 = parseContactHeader('<sip:alice@10.0.0.2>;+sip.instance="<urn:uuid:1>"');
    const first = (r: typeof a) => (r.ok && r.value !== '*' ? r.value[0]! : undefined)!;
    expect(bindingKey(first(a))).toBe(bindingKey(first(b)));
    expect(bindingKey(first(i1))).toBe(bindingKey(first(i2)));
    expect(bindingKey(first(a))).toBe('u:sip:alice@host.example:5060;transport=udp');
  });
});

function request(headers: Record<string, string | undefined>, method = 'REGISTER'): SipRequest {
  const h = new Map(
    Object.entries(headers)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k.toLowerCase(), v!]),
  );
  return { method, uri: 'sip:sip.example', source_address: '198.51.100.7', source_port: 5060, protocol: 'udp', get: (n) => h.get(n.toLowerCase()) };
}

const GOOD = {
  To: '<sip:alice@sip.example>',
  From: '<sip:alice@sip.example>;tag=1',
  'Call-ID': 'abc@host',
  CSeq: '1 REGISTER',
  Contact: '<sip:alice@192.0.2.1:5060>',
  Expires: '600',
  'User-Agent': 'Phone/1.0',
};

describe('REGISTER request reading', () => {
  it('reads a well-formed REGISTER', () => {
    const r = readRegisterRequest(request(GOOD));
    expect(r.ok && { ...r.value, contacts: r.value.contacts === '*' ? '*' : r.value.contacts.length }).toEqual({
      toUser: 'alice',
      callId: 'abc@host',
      cseq: 1,
      expires: 600,
      contacts: 1,
      userAgent: 'Phone/1.0',
    });
  });

  it('a REGISTER without Contact is a query', () => {
    const r = readRegisterRequest(request({ ...GOOD, Contact: undefined }));
    expect(r.ok && r.value.contacts).toEqual([]);
  });

  it.each([
    ['To', { To: undefined }, 'Missing To Header'],
    ['To garbage', { To: 'garbage' }, 'Malformed To Header'],
    ['To without user', { To: '<sip:sip.example>' }, 'To URI Has No User'],
    ['From', { From: undefined }, 'Missing From Header'],
    ['Call-ID', { 'Call-ID': undefined }, 'Missing Call-ID Header'],
    ['Call-ID with spaces', { 'Call-ID': 'a b' }, 'Malformed Call-ID Header'],
    ['CSeq', { CSeq: undefined }, 'Missing CSeq Header'],
    ['CSeq not a number', { CSeq: 'x REGISTER' }, 'Malformed CSeq Header'],
    ['CSeq too big', { CSeq: '2147483648 REGISTER' }, 'Malformed CSeq Header'],
    ['CSeq method', { CSeq: '1 INVITE' }, 'CSeq Method Does Not Match'],
    ['Expires', { Expires: '-1' }, 'Malformed Expires Header'],
    ['Contact', { Contact: '<mailto:a@b>' }, 'Malformed Contact Header'],
    ['contact expires', { Contact: '<sip:a@b>;expires=soon' }, 'Malformed Contact Expires'],
    ['Contact * without Expires 0', { Contact: '*' }, 'Contact * Requires Expires 0'],
  ])('refuses a missing or bad %s', (_name, over, reason) => {
    expect(readRegisterRequest(request({ ...GOOD, ...over }))).toEqual({ ok: false, reason });
  });
});

describe('the user of an address (From, To, P-Asserted-Identity) and of a Request-URI', () => {
  it.each([
    ['"Alice" <sip:+441632960999@carrier.test>;tag=a1', '+441632960999'],
    ['"sip:evil@x.test" <sip:+441632960999@carrier.test>;tag=a1', '+441632960999'],
    ['Alice <sips:alice@switch.test;transport=tls>', 'alice'],
    ['<tel:+441632960999;phone-context=x>;tag=1', '+441632960999'],
    ['sip:%2B441632960999@carrier.test;tag=1', '+441632960999'],
    ['sip:alice:secret@switch.test', 'alice'],
    ['<sip:switch.test>;tag=1', undefined],
    ['"unterminated <sip:a@b>', undefined],
  ])('%s → %s', (value, user) => {
    expect(addressOf(value)?.user).toBe(user);
  });
  it.each([
    ['sip:+441632960999@switch.test;user=phone', '+441632960999'],
    ['tel:00441632960999', '00441632960999'],
    ['sip:switch.test', undefined],
    ['sip:%E0%A4%A@switch.test', undefined],
    ['http://x', undefined],
  ])('Request-URI %s → %s', (uri, user) => {
    expect(uriUser(uri)).toBe(user);
  });
});
