import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sipHa1 } from '../../src/accounts/secrets.ts';
import type { CredentialStore, SipCredentials } from '../../src/sip/auth/credential-store.ts';
import { CachedCredentialStore } from '../../src/sip/auth/cached-credential-store.ts';
import { algorithmOf, digestResponse, sameDigest } from '../../src/sip/auth/digest-algorithm.ts';
import type { DigestAlgorithm } from '../../src/sip/auth/digest-algorithm.ts';
import { DigestAuthenticator } from '../../src/sip/auth/digest-authenticator.ts';
import { buildChallenges, repeatedHeader } from '../../src/sip/auth/digest-challenge.ts';
import { algorithmsFor, parseUserAgentList } from '../../src/sip/auth/digest-offer.ts';
import { digestUriMatches } from '../../src/sip/auth/digest-uri.ts';
import { parseCredentials } from '../../src/sip/auth/digest-credentials-parser.ts';
import { NonceIssuer } from '../../src/sip/auth/nonce-issuer.ts';
import type { NonceUseTracker } from '../../src/sip/auth/nonce-use-tracker.ts';

const KEY = 'k'.repeat(32);

describe('digest credentials parser', () => {
  it('reads quoted strings with escapes, tokens and case-insensitive names', () => {
    const r = parseCredentials([
      'Digest USERNAME="bo\\"b", Realm="sip.example", nonce="abc", uri="sip:sip.example", response="0a1b", algorithm=SHA-256, qop=auth, nc=00000001, cnonce="x,y"',
    ]);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const c = r.credentials[0]!;
    expect(c.scheme).toBe('digest');
    expect(c.params.get('username')).toBe('bo"b');
    expect(c.params.get('realm')).toBe('sip.example');
    expect(c.params.get('algorithm')).toBe('SHA-256');
    expect(c.params.get('qop')).toBe('auth');
    expect(c.params.get('cnonce')).toBe('x,y');
  });

  it('reads several credentials in one value and across values, scheme case-insensitive', () => {
    const r = parseCredentials(['digest username="a", realm="r1", Basic x=1', 'DIGEST username="b",realm="r2"']);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.credentials.map((c) => [c.scheme, c.params.get('username') ?? c.params.get('x')])).toEqual([
      ['digest', 'a'],
      ['basic', '1'],
      ['digest', 'b'],
    ]);
  });

  it.each([
    ['empty', ''],
    ['no parameters', 'Digest'],
    ['unterminated quote', 'Digest username="abc'],
    ['missing comma', 'Digest a="1" b="2"'],
    ['duplicate parameter', 'Digest a=1, A=2'],
    ['empty value', 'Digest a=, b=1'],
    ['garbage', '=== ,,,'],
    ['too long', `Digest a="${'x'.repeat(9000)}"`],
  ])('refuses %s without throwing', (_name, value) => {
    const r = parseCredentials([value]);
    expect(r.ok).toBe(false);
  });
});

describe('digest computation (RFC 7616 §3.9.1 and RFC 2617 §3.5 vectors)', () => {
  const rfc7616 = {
    username: 'Mufasa',
    realm: 'http-auth@example.org',
    password: 'Circle of Life',
    uri: '/dir/index.html',
    nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
    cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
  };

  it.each([
    ['MD5', '8ca523f5e9506fed4657c9700eebdbec'],
    ['SHA-256', '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1'],
  ] as const)('RFC 7616 %s', (algorithm, expected) => {
    const ha1 = sipHa1(rfc7616.username, rfc7616.realm, rfc7616.password);
    const got = digestResponse({
      algorithm,
      ha1: algorithm === 'MD5' ? ha1.md5 : ha1.sha256,
      method: 'GET',
      uri: rfc7616.uri,
      nonce: rfc7616.nonce,
      qop: { nc: '00000001', cnonce: rfc7616.cnonce },
    });
    expect(got).toBe(expected);
  });

  it('RFC 2617 MD5', () => {
    const ha1 = sipHa1('Mufasa', 'testrealm@host.com', 'Circle Of Life').md5;
    expect(
      digestResponse({
        algorithm: 'MD5',
        ha1,
        method: 'GET',
        uri: '/dir/index.html',
        nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
        qop: { nc: '00000001', cnonce: '0a4f113b' },
      }),
    ).toBe('6629fae49393a05397450978507c4ef1');
  });

  it.each(['MD5', 'SHA-256'] as const)('the same vector as a SIP REGISTER (%s), with and without qop', (algorithm) => {
    const h = (s: string) =>
      createHash(algorithm === 'MD5' ? 'md5' : 'sha256')
        .update(s)
        .digest('hex');
    const ha1 = h(`Mufasa:${rfc7616.realm}:Circle of Life`);
    const ha2 = h('REGISTER:sip:example.org');
    expect(
      digestResponse({ algorithm, ha1, method: 'REGISTER', uri: 'sip:example.org', nonce: rfc7616.nonce, qop: { nc: '00000001', cnonce: rfc7616.cnonce } }),
    ).toBe(h(`${ha1}:${rfc7616.nonce}:00000001:${rfc7616.cnonce}:auth:${ha2}`));
    expect(digestResponse({ algorithm, ha1, method: 'REGISTER', uri: 'sip:example.org', nonce: rfc7616.nonce })).toBe(h(`${ha1}:${rfc7616.nonce}:${ha2}`));
  });

  it('algorithm names are case-insensitive; absent means MD5; session variants are not offered', () => {
    expect(algorithmOf(undefined)).toBe('MD5');
    expect(algorithmOf('sha-256')).toBe('SHA-256');
    expect(algorithmOf('MD5-sess')).toBeUndefined();
  });

  it('compares digests case-insensitively and refuses different lengths', () => {
    expect(sameDigest('abcdef', 'ABCDEF')).toBe(true);
    expect(sameDigest('abcdef', 'abcde')).toBe(false);
  });
});

describe('challenges', () => {
  it('offer MD5 alone by default: a client that meets an algorithm it lacks may give up on the whole 401', () => {
    expect(buildChallenges({ realm: 'sip.example', nonce: 'N', stale: false })).toEqual(['Digest realm="sip.example", nonce="N", algorithm=MD5, qop="auth"']);
  });

  it('offer SHA-256 first, then MD5, with qop="auth" and stale only when asked', () => {
    const c = buildChallenges({ realm: 'sip.example', nonce: 'N', stale: false, algorithms: ['SHA-256', 'MD5'] });
    expect(c).toEqual([
      'Digest realm="sip.example", nonce="N", algorithm=SHA-256, qop="auth"',
      'Digest realm="sip.example", nonce="N", algorithm=MD5, qop="auth"',
    ]);
    expect(buildChallenges({ realm: 'r', nonce: 'N', stale: true, algorithms: ['SHA-256', 'MD5'] })[0]).toMatch(/, stale=true$/);
    expect(repeatedHeader('WWW-Authenticate', c)).toBe(`${c[0]}\r\nWWW-Authenticate: ${c[1]}`);
  });
});

describe('nonces', () => {
  it('validate when fresh, expire after their lifetime, and are bound to key and realm', () => {
    let now = 1_000_000;
    const issuer = new NonceIssuer({ key: KEY, lifetimeMs: 300_000, now: () => now });
    const n = issuer.issue('r');
    expect(issuer.check('r', n)).toEqual({ kind: 'valid', issuedAt: 1_000_000, remainingMs: 300_000 });
    now += 299_999;
    expect(issuer.check('r', n).kind).toBe('valid');
    now += 1;
    expect(issuer.check('r', n).kind).toBe('expired');
    expect(issuer.check('other', n).kind).toBe('invalid');
    expect(new NonceIssuer({ key: 'x'.repeat(32), lifetimeMs: 300_000, now: () => now }).check('r', n).kind).toBe('invalid');
  });

  it('refuses tampered, truncated and foreign nonces', () => {
    const issuer = new NonceIssuer({ key: KEY, lifetimeMs: 300_000, now: () => 5_000_000 });
    const n = issuer.issue('r');
    const flipped = (n[0] === 'A' ? 'B' : 'A') + n.slice(1);
    for (const bad of [flipped, n.slice(0, -2), '', 'not/base64', 'x'.repeat(100)]) expect(issuer.check('r', bad).kind).toBe('invalid');
  });
});

class MemoryNonceUses implements NonceUseTracker {
  readonly last = new Map<string, number>();
  async accept(nonce: string, nc: number): Promise<boolean> {
    const l = this.last.get(nonce);
    if (l !== undefined && l >= nc) return false;
    this.last.set(nonce, nc);
    return true;
  }
}

class MemoryCredentials implements CredentialStore {
  lookups = 0;
  constructor(private readonly users: Map<string, SipCredentials>) {}
  async findCredentials(username: string): Promise<SipCredentials | undefined> {
    this.lookups++;
    return this.users.get(username);
  }
}

function client(
  challengeValues: string[],
  o: { username: string; password: string; realm: string; algorithm: DigestAlgorithm; nc?: number; qop?: boolean; uri?: string },
): string {
  const parsed = parseCredentials(challengeValues);
  if (!parsed.ok) throw new Error(parsed.reason);
  const ch = parsed.credentials.find((c) => c.params.get('algorithm') === o.algorithm)!;
  const nonce = ch.params.get('nonce')!;
  const ha1 = sipHa1(o.username, o.realm, o.password);
  const uri = o.uri ?? `sip:${o.realm}`;
  const nc = (o.nc ?? 1).toString(16).padStart(8, '0');
  const qop = o.qop === false ? undefined : { nc, cnonce: 'c0ffee' };
  const response = digestResponse({
    algorithm: o.algorithm,
    ha1: o.algorithm === 'MD5' ? ha1.md5 : ha1.sha256,
    method: 'REGISTER',
    uri,
    nonce,
    ...(qop ? { qop } : {}),
  });
  return (
    `Digest username="${o.username}", realm="${o.realm}", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=${o.algorithm}` +
    (qop ? `, qop=auth, nc=${nc}, cnonce="c0ffee"` : '')
  );
}

describe('algorithms offered per client', () => {
  const offer = { algorithms: ['MD5'] as const, sha256UserAgents: ['Zoiper', 'acme phone/2'] };
  it.each([
    ['a client not listed', 'Linphone/5.2.0 (belle-sip/5.2.0)', ['MD5']],
    ['no User-Agent', undefined, ['MD5']],
    ['a listed client (substring, any case)', 'Acme Phone/2.4.1', ['SHA-256', 'MD5']],
    ['another listed client', 'Z 5.6.2 Zoiper rv2.10', ['SHA-256', 'MD5']],
  ])('%s: %j', (_name, userAgent, algorithms) => {
    expect(algorithmsFor(offer, userAgent)).toEqual(algorithms);
  });
  it('SHA-256 already offered to all stays as configured', () => {
    expect(algorithmsFor({ algorithms: ['MD5', 'SHA-256'], sha256UserAgents: ['Zoiper'] }, 'Zoiper')).toEqual(['MD5', 'SHA-256']);
  });
  it('parses the setting: comma-separated, blanks dropped', () => {
    expect(parseUserAgentList(' Zoiper, ,Acme Phone/2 ')).toEqual(['Zoiper', 'Acme Phone/2']);
    expect(parseUserAgentList('')).toEqual([]);
  });
});

describe('digest authenticator (fake clock, in-memory stores)', () => {
  const realm = 'sip.example';
  const ha1 = sipHa1('alice', realm, 'correct horse');
  function setup() {
    const clock = { now: 10_000_000 };
    const credentials = new MemoryCredentials(new Map([['alice', { accountId: 7, ha1Md5: ha1.md5, ha1Sha256: ha1.sha256 }]]));
    const uses = new MemoryNonceUses();
    const auth = new DigestAuthenticator({
      realm,
      credentials,
      nonceUses: uses,
      dummyKey: KEY,
      nonces: new NonceIssuer({ key: KEY, lifetimeMs: 300_000, now: () => clock.now }),
      algorithms: ['SHA-256', 'MD5'],
    });
    return { clock, auth, uses, credentials };
  }
  const req = (authorization: string) => ({ method: 'REGISTER', authorization: [authorization] });

  it('challenges a request without credentials', async () => {
    const { auth } = setup();
    const r = await auth.authenticate({ method: 'REGISTER', authorization: [] });
    expect(r).toMatchObject({ kind: 'challenge', stale: false });
  });

  it('challenges with MD5 alone, and with SHA-256 first only a User-Agent listed as answering it', async () => {
    const auth = new DigestAuthenticator({
      realm,
      credentials: new MemoryCredentials(new Map()),
      nonceUses: new MemoryNonceUses(),
      dummyKey: KEY,
      nonces: new NonceIssuer({ key: KEY, lifetimeMs: 300_000, now: () => 1 }),
      algorithms: ['MD5'],
      sha256UserAgents: ['Zoiper'],
    });
    const algs = async (userAgent: string | undefined) => {
      const r = await auth.authenticate({ method: 'REGISTER', authorization: [], ...(userAgent === undefined ? {} : { userAgent }) });
      return r.kind === 'challenge' ? r.challenges.map((c) => /algorithm=([A-Z0-9-]+)/.exec(c)![1]) : r.kind;
    };
    expect(await algs(undefined)).toEqual(['MD5']);
    expect(await algs('Linphone/5.2.0')).toEqual(['MD5']);
    expect(await algs('Z 5.6.2 v2.10.20.2 Zoiper')).toEqual(['SHA-256', 'MD5']);
  });

  it.each(['SHA-256', 'MD5'] as const)('accepts the right password with %s', async (algorithm) => {
    const { auth } = setup();
    const ch = auth.challenge().challenges;
    const r = await auth.authenticate(req(client(ch, { username: 'alice', password: 'correct horse', realm, algorithm })));
    expect(r).toEqual({ kind: 'authenticated', accountId: 7, username: 'alice', algorithm });
  });

  it('answers a wrong password and an unknown user alike, with the same digest work', async () => {
    const { auth, credentials } = setup();
    const ch = auth.challenge().challenges;
    const wrong = await auth.authenticate(req(client(ch, { username: 'alice', password: 'wrong', realm, algorithm: 'SHA-256' })));
    const unknown = await auth.authenticate(req(client(ch, { username: 'mallory', password: 'x', realm, algorithm: 'SHA-256' })));
    expect(wrong).toEqual({ kind: 'forbidden', username: 'alice' });
    expect(unknown).toEqual({ kind: 'forbidden', username: 'mallory' });
    expect(credentials.lookups).toBe(2);
  });

  it('an expired nonce with the right password gets a stale challenge; with a wrong one, forbidden', async () => {
    const { auth, clock } = setup();
    const ch = auth.challenge().challenges;
    clock.now += 300_001;
    expect(await auth.authenticate(req(client(ch, { username: 'alice', password: 'correct horse', realm, algorithm: 'MD5' })))).toMatchObject({
      kind: 'challenge',
      stale: true,
    });
    expect(await auth.authenticate(req(client(ch, { username: 'alice', password: 'nope', realm, algorithm: 'MD5' })))).toMatchObject({ kind: 'forbidden' });
  });

  it('refuses a replayed nonce count and accepts a higher one', async () => {
    const { auth } = setup();
    const ch = auth.challenge().challenges;
    const first = client(ch, { username: 'alice', password: 'correct horse', realm, algorithm: 'SHA-256', nc: 1 });
    expect((await auth.authenticate(req(first))).kind).toBe('authenticated');
    expect(await auth.authenticate(req(first))).toMatchObject({ kind: 'challenge', stale: true });
    expect((await auth.authenticate(req(client(ch, { username: 'alice', password: 'correct horse', realm, algorithm: 'SHA-256', nc: 3 })))).kind).toBe(
      'authenticated',
    );
    expect((await auth.authenticate(req(client(ch, { username: 'alice', password: 'correct horse', realm, algorithm: 'SHA-256', nc: 2 })))).kind).toBe(
      'challenge',
    );
  });

  it('without qop a nonce is single-use', async () => {
    const { auth } = setup();
    const ch = auth.challenge().challenges;
    const h = client(ch, { username: 'alice', password: 'correct horse', realm, algorithm: 'MD5', qop: false });
    expect((await auth.authenticate(req(h))).kind).toBe('authenticated');
    expect((await auth.authenticate(req(h))).kind).toBe('challenge');
  });

  it('challenges credentials for another realm, a nonce it did not issue, or an algorithm it does not offer', async () => {
    const { auth } = setup();
    const ch = auth.challenge().challenges;
    const good = client(ch, { username: 'alice', password: 'correct horse', realm, algorithm: 'MD5' });
    expect((await auth.authenticate(req(good.replace(`realm="${realm}"`, 'realm="elsewhere"')))).kind).toBe('challenge');
    expect((await auth.authenticate(req(good.replace(/nonce="[^"]+"/, 'nonce="AAAA"')))).kind).toBe('challenge');
    expect((await auth.authenticate(req(good.replace('algorithm=MD5', 'algorithm=SHA-512-256')))).kind).toBe('challenge');
  });

  it('prefers the SHA-256 credential when a client sends both', async () => {
    const { auth } = setup();
    const ch = auth.challenge().challenges;
    const md5 = client(ch, { username: 'alice', password: 'correct horse', realm, algorithm: 'MD5' });
    const sha = client(ch, { username: 'alice', password: 'correct horse', realm, algorithm: 'SHA-256', nc: 2 });
    expect(await auth.authenticate({ method: 'REGISTER', authorization: [`${md5}, ${sha}`] })).toMatchObject({ kind: 'authenticated', algorithm: 'SHA-256' });
  });

  it('with the Request-URI given, a digest for another URI is malformed (400) and costs no nonce count; for its own URI it is accepted', async () => {
    const { auth } = setup();
    const ch = auth.challenge().challenges;
    const forCheap = client(ch, { username: 'alice', password: 'correct horse', realm, algorithm: 'MD5', uri: 'sip:0033123456789@sip.example' });
    expect(await auth.authenticate({ method: 'REGISTER', authorization: [forCheap], requestUri: 'sip:00449098765432@sip.example' })).toEqual({
      kind: 'malformed',
      reason: 'uri does not match the Request-URI',
    });
    expect((await auth.authenticate({ method: 'REGISTER', authorization: [forCheap], requestUri: 'sip:0033123456789@SIP.example:5060;user=phone' })).kind).toBe(
      'malformed',
    );
    expect(await auth.authenticate({ method: 'REGISTER', authorization: [forCheap], requestUri: 'sip:0033123456789@SIP.example:5060' })).toMatchObject({
      kind: 'authenticated',
    });
  });

  it.each([
    ['no response', 'Digest username="alice", realm="sip.example", nonce="n", uri="sip:x"'],
    ['qop without nc', 'Digest username="alice", realm="sip.example", nonce="n", uri="sip:x", response="00", qop=auth, cnonce="c"'],
    ['nc of zero', 'Digest username="alice", realm="sip.example", nonce="n", uri="sip:x", response="00", qop=auth, nc=00000000, cnonce="c"'],
    ['response not hex', 'Digest username="alice", realm="sip.example", nonce="n", uri="sip:x", response="zz"'],
    ['unparseable', 'Digest username="alice'],
  ])('reports malformed credentials (%s)', async (_name, value) => {
    const { auth } = setup();
    expect((await auth.authenticate(req(value))).kind).toBe('malformed');
  });
});

describe('digest uri against the Request-URI (RFC 2617 §3.2.2.5, RFC 3261 §19.1.4)', () => {
  it.each([
    ['sip:+441632960001@sip.example', 'sip:+441632960001@sip.example', true],
    ['sip:%2B441632960001@SIP.EXAMPLE', 'sip:+441632960001@sip.example', true],
    ['sip:441632960001@sip.example:5060', 'sip:441632960001@sip.example', true],
    ['sip:441632960001@sip.example;foo=bar', 'sip:441632960001@sip.example', true],
    ['sip:441632960001@sip.example;user=phone', 'sip:441632960001@sip.example;user=phone', true],
    ['sip:441632960001@sip.example', 'sip:449098765432@sip.example', false],
    ['sip:sip.example', 'sip:441632960001@sip.example', false],
    ['sip:441632960001@sip.example:5070', 'sip:441632960001@sip.example', false],
    ['sips:441632960001@sip.example', 'sip:441632960001@sip.example', false],
    ['sip:441632960001@sip.example;user=phone', 'sip:441632960001@sip.example', false],
    ['sip:441632960001@other.example', 'sip:441632960001@sip.example', false],
    ['garbage', 'sip:441632960001@sip.example', false],
  ])('%s names %s: %s', (digestUri, requestUri, same) => {
    expect(digestUriMatches(digestUri, requestUri)).toBe(same);
  });
});

describe('cached credential store', () => {
  it('serves found and not-found answers from cache until they expire, sharing concurrent lookups', async () => {
    let now = 0;
    const inner = new MemoryCredentials(new Map([['bob', { accountId: 1, ha1Md5: 'a', ha1Sha256: 'b' }]]));
    const cache = new CachedCredentialStore(inner, { ttlMs: 1000, maxEntries: 2, now: () => now });
    await Promise.all([cache.findCredentials('bob', 'r'), cache.findCredentials('bob', 'r')]);
    expect(await cache.findCredentials('nobody', 'r')).toBeUndefined();
    await cache.findCredentials('nobody', 'r');
    expect(inner.lookups).toBe(2);
    now = 1000;
    expect(await cache.findCredentials('bob', 'r')).toMatchObject({ accountId: 1 });
    expect(inner.lookups).toBe(3);
    cache.forget('bob', 'r');
    await cache.findCredentials('bob', 'r');
    expect(inner.lookups).toBe(4);
  });
});
