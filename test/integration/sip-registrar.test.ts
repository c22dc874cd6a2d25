/**
 * The REGISTER handler against real Redis and Postgres, driven with request/response objects
 * built to the drachtio-srf interface (src/sip/sip-types.ts). Fake clock, no sleeps.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sipHa1 } from '../../src/accounts/secrets.ts';
import { createDigestAuthenticator } from '../../src/sip/auth/create-digest-authenticator.ts';
import { digestResponse } from '../../src/sip/auth/digest-algorithm.ts';
import { PgCredentialStore } from '../../src/sip/auth/pg-credential-store.ts';
import type { DigestAlgorithm } from '../../src/sip/auth/digest-algorithm.ts';
import { parseCredentials } from '../../src/sip/auth/digest-credentials-parser.ts';
import { BindingStore } from '../../src/sip/registrar/binding-store.ts';
import { createRegisterHandler } from '../../src/sip/registrar/register-handler.ts';
import type { RegisterHandlerOptions } from '../../src/sip/registrar/register-handler.ts';
import type { SipMiddleware, SipRequest, SipSendOptions } from '../../src/sip/sip-types.ts';
import { accountsOf, fundedAccount } from '../support/fixtures.ts';
import { REDIS_KINDS, setupServices } from '../support/services.ts';
import type { TestServices } from '../support/services.ts';

const REALM = 'sip.test';
const PASSWORD = 'correct horse battery';
const clock = { now: Date.UTC(2026, 0, 1) };
const now = () => clock.now;

let s: TestServices;
let store: BindingStore;
let handler: SipMiddleware;
let userSeq = 0;

function makeHandler(over: Partial<RegisterHandlerOptions> = {}): SipMiddleware {
  const authenticator = createDigestAuthenticator({
    redis: s.redis,
    pool: s.pool,
    namespace: s.namespace,
    realm: REALM,
    key: 'registrar-test-key-0123456789abcdef',
    credentialCacheMs: 0,
    sha256UserAgents: ['TestPhone'],
    now,
  });
  return createRegisterHandler({ authenticator, bindings: store, minExpires: 60, maxExpires: 3600, defaultExpires: 1800, maxContacts: 3, now, ...over });
}

interface Reply {
  status: number;
  reason: string | undefined;
  headers: Record<string, string>;
  passed: boolean;
}

function call(h: SipMiddleware, req: SipRequest): Promise<Reply> {
  return new Promise((resolve, reject) => {
    h(
      req,
      {
        send(status: number, reason?: string, opts?: SipSendOptions) {
          resolve({ status, reason, headers: opts?.headers ?? {}, passed: false });
        },
      },
      (err?: unknown) => (err ? reject(err) : resolve({ status: 0, reason: undefined, headers: {}, passed: true })),
    );
  });
}

interface Msg {
  user: string;
  toUser?: string;
  callId?: string;
  cseq: number;
  contact?: string;
  expires?: string;
  authorization?: string;
  source?: string;
  sourcePort?: number;
  userAgent?: string;
}

function registerRequest(m: Msg): SipRequest {
  const headers = new Map<string, string>();
  const set = (k: string, v: string | undefined) => {
    if (v !== undefined) headers.set(k.toLowerCase(), v);
  };
  set('To', `<sip:${m.toUser ?? m.user}@${REALM}>`);
  set('From', `<sip:${m.user}@${REALM}>;tag=f1`);
  set('Call-ID', m.callId ?? `cid-${m.user}`);
  set('CSeq', `${m.cseq} REGISTER`);
  set('Contact', m.contact);
  set('Expires', m.expires);
  set('Authorization', m.authorization);
  set('User-Agent', m.userAgent ?? 'TestPhone/2.1');
  return {
    method: 'REGISTER',
    uri: `sip:${REALM}`,
    source_address: m.source ?? '203.0.113.5',
    source_port: m.sourcePort ?? 40123,
    protocol: 'udp',
    get: (n) => headers.get(n.toLowerCase()),
  };
}

function challengesOf(reply: Reply): string[] {
  const v = reply.headers['WWW-Authenticate'];
  if (!v) throw new Error(`no challenge in ${reply.status}`);
  return v.split('\r\nWWW-Authenticate: ');
}

function authorization(challenges: string[], o: { user: string; password: string; algorithm?: DigestAlgorithm; nc?: number }): string {
  const algorithm = o.algorithm ?? 'SHA-256';
  const parsed = parseCredentials(challenges);
  if (!parsed.ok) throw new Error(parsed.reason);
  const ch = parsed.credentials.find((c) => c.params.get('algorithm') === algorithm)!;
  const nonce = ch.params.get('nonce')!;
  const ha1 = sipHa1(o.user, REALM, o.password);
  const nc = (o.nc ?? 1).toString(16).padStart(8, '0');
  const uri = `sip:${REALM}`;
  const response = digestResponse({
    algorithm,
    ha1: algorithm === 'MD5' ? ha1.md5 : ha1.sha256,
    method: 'REGISTER',
    uri,
    nonce,
    qop: { nc, cnonce: 'abcdef01' },
  });
  return `Digest username="${o.user}", realm="${REALM}", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=${algorithm}, qop=auth, nc=${nc}, cnonce="abcdef01"`;
}

/** A REGISTER as a device sends it: unauthenticated, then again with credentials answering the challenge. */
async function register(m: Omit<Msg, 'authorization'> & { password?: string; algorithm?: DigestAlgorithm }, h = handler): Promise<Reply> {
  const first = await call(h, registerRequest(m));
  if (first.status !== 401) return first;
  const auth = authorization(challengesOf(first), { user: m.user, password: m.password ?? PASSWORD, ...(m.algorithm ? { algorithm: m.algorithm } : {}) });
  return call(h, registerRequest({ ...m, cseq: m.cseq + 1, authorization: auth }));
}

async function newUser(): Promise<{ user: string; accountId: number }> {
  const a = await fundedAccount(s, 0);
  const user = `dev${++userSeq}_${s.id.slice(-6)}`;
  await accountsOf(s).setSipPassword(a.id, user, REALM, PASSWORD);
  return { user, accountId: a.id };
}

const aor = (user: string) => `${user}@${REALM}`;

describe.each(REDIS_KINDS)('on %s Redis', (redis) => {
  beforeAll(async () => {
    s = await setupServices('sipregistrar', { redis });
    store = new BindingStore(s.redis, { namespace: s.namespace, now });
    handler = makeHandler();
  });
  afterAll(async () => {
    await s.teardown();
  });

  describe('REGISTER with digest authentication', () => {
    it('a client not known to answer SHA-256 is challenged with MD5 alone, and registers with it', async () => {
      const { user } = await newUser();
      const first = await call(
        handler,
        registerRequest({ user, cseq: 1, contact: '<sip:a@192.168.1.20:5060>', expires: '600', userAgent: 'Linphone/5.2.0 (belle-sip/5.2.0)' }),
      );
      expect(first.status).toBe(401);
      const ch = challengesOf(first);
      expect(ch).toEqual([expect.stringMatching(/algorithm=MD5, qop="auth"$/)]);
      const ok = await register({
        user,
        cseq: 10,
        contact: '<sip:a@192.168.1.20:5060>',
        expires: '600',
        algorithm: 'MD5',
        userAgent: 'Linphone/5.2.0 (belle-sip/5.2.0)',
      });
      expect(ok.status).toBe(200);
    });

    it('a client listed as answering SHA-256 is challenged with SHA-256 then MD5, and registers with the right password (both algorithms)', async () => {
      const { user, accountId } = await newUser();
      const first = await call(handler, registerRequest({ user, cseq: 1, contact: '<sip:a@192.168.1.20:5060>', expires: '600' }));
      expect(first.status).toBe(401);
      const ch = challengesOf(first);
      expect(ch).toHaveLength(2);
      expect(ch[0]).toMatch(/algorithm=SHA-256, qop="auth"$/);
      expect(ch[1]).toMatch(/algorithm=MD5, qop="auth"$/);

      const ok = await register({ user, cseq: 10, contact: '<sip:a@192.168.1.20:5060>', expires: '600' });
      expect(ok).toMatchObject({ status: 200, reason: 'OK', headers: { Contact: '<sip:a@192.168.1.20:5060>;expires=600' } });
      const md5 = await register({ user, cseq: 20, contact: '<sip:a@192.168.1.20:5060>', expires: '600', algorithm: 'MD5' });
      expect(md5.status).toBe(200);

      const [b] = await store.bindingsOf(aor(user));
      expect(b).toMatchObject({
        aor: aor(user),
        uri: 'sip:a@192.168.1.20:5060',
        accountId,
        callId: `cid-${user}`,
        cseq: 21,
        source: { address: '203.0.113.5', port: 40123, transport: 'udp' },
        userAgent: 'TestPhone/2.1',
        registeredAt: clock.now,
        expiresAt: clock.now + 600_000,
      });
    });

    it('answers a wrong password and an unknown user identically, and stores nothing', async () => {
      const { user } = await newUser();
      const wrong = await register({ user, cseq: 1, contact: '<sip:a@10.0.0.1>', password: 'not the password' });
      const unknown = await register({ user: 'nobody_here', cseq: 1, contact: '<sip:a@10.0.0.1>' });
      expect(wrong).toEqual({ status: 403, reason: 'Forbidden', headers: {}, passed: false });
      expect(unknown).toEqual(wrong);
      expect(await store.bindingsOf(aor(user))).toEqual([]);
    });

    it('an expired nonce with the right password gets 401 stale=true; the fresh nonce then works', async () => {
      const { user } = await newUser();
      const first = await call(handler, registerRequest({ user, cseq: 1, contact: '<sip:a@10.0.0.2>' }));
      clock.now += 301_000;
      const late = await call(
        handler,
        registerRequest({ user, cseq: 2, contact: '<sip:a@10.0.0.2>', authorization: authorization(challengesOf(first), { user, password: PASSWORD }) }),
      );
      expect(late.status).toBe(401);
      expect(challengesOf(late).every((c) => c.endsWith('stale=true'))).toBe(true);
      const retry = await call(
        handler,
        registerRequest({ user, cseq: 3, contact: '<sip:a@10.0.0.2>', authorization: authorization(challengesOf(late), { user, password: PASSWORD }) }),
      );
      expect(retry.status).toBe(200);
    });

    it('a replayed request (same nonce and nonce-count) is refused and changes nothing; a higher count is accepted', async () => {
      const { user } = await newUser();
      const first = await call(handler, registerRequest({ user, cseq: 1, contact: '<sip:a@10.0.0.3>', expires: '600' }));
      const ch = challengesOf(first);
      const req = registerRequest({
        user,
        cseq: 2,
        contact: '<sip:a@10.0.0.3>',
        expires: '600',
        authorization: authorization(ch, { user, password: PASSWORD }),
      });
      expect((await call(handler, req)).status).toBe(200);
      const before = await store.bindingsOf(aor(user));
      clock.now += 1000;
      const replay = await call(
        handler,
        registerRequest({ user, cseq: 3, contact: '<sip:a@10.0.0.3>', expires: '0', authorization: authorization(ch, { user, password: PASSWORD }) }),
      );
      expect(replay.status).toBe(401);
      expect(await store.bindingsOf(aor(user))).toEqual(before);
      const next = await call(
        handler,
        registerRequest({ user, cseq: 4, contact: '<sip:a@10.0.0.3>', expires: '600', authorization: authorization(ch, { user, password: PASSWORD, nc: 2 }) }),
      );
      expect(next.status).toBe(200);
    });

    it("refuses to register another user's AOR with valid credentials", async () => {
      const { user } = await newUser();
      const other = await newUser();
      expect(await register({ user, toUser: other.user, cseq: 1, contact: '<sip:a@10.0.0.4>' })).toMatchObject({ status: 403 });
      expect(await store.bindingsOf(aor(other.user))).toEqual([]);
    });
  });

  describe('REGISTER: SHA-256 learned per device, and the per-device setting', () => {
    const LINPHONE = 'Linphone/5.2.0 (belle-sip/5.2.0)';
    const contact = '<sip:a@192.168.1.20:5060>';
    const algorithmsOffered = async (user: string, userAgent: string, source?: string) =>
      challengesOf(await call(handler, registerRequest({ user, cseq: 1, contact, expires: '600', userAgent, ...(source ? { source } : {}) }))).map(
        (c) => /algorithm=([A-Z0-9-]+)/.exec(c)![1],
      );

    // learned per device means per username and the address it answered from: a prober elsewhere who
    // names a username in its From cannot tell from the challenge that the username exists
    it("what a device taught is not shown to anyone at another address: the challenge there is the User-Agent's", async () => {
      const { user } = await newUser();
      expect((await register({ user, cseq: 10, contact, expires: '600', userAgent: 'TestPhone/2.1' })).status).toBe(200);
      expect(await algorithmsOffered(user, LINPHONE)).toEqual(['SHA-256', 'MD5']);
      expect(await algorithmsOffered(user, LINPHONE, '198.51.100.9')).toEqual(['MD5']);
      expect(await algorithmsOffered('nobody-here', LINPHONE, '198.51.100.9')).toEqual(['MD5']);
    });

    it('a device that answered SHA-256 is offered SHA-256 first later whatever its User-Agent; answering MD5 again takes it back to MD5 alone', async () => {
      const { user } = await newUser();
      const other = await newUser();
      expect(await algorithmsOffered(user, LINPHONE)).toEqual(['MD5']);
      // offered SHA-256 for its listed User-Agent, it answers it
      expect((await register({ user, cseq: 10, contact, expires: '600', userAgent: 'TestPhone/2.1' })).status).toBe(200);
      expect(await algorithmsOffered(user, LINPHONE)).toEqual(['SHA-256', 'MD5']);
      // learned per username: another device with that User-Agent is not affected
      expect(await algorithmsOffered(other.user, LINPHONE)).toEqual(['MD5']);
      // it answers MD5 although SHA-256 came first: no longer known to answer SHA-256
      expect((await register({ user, cseq: 20, contact, expires: '600', algorithm: 'MD5', userAgent: LINPHONE })).status).toBe(200);
      expect(await algorithmsOffered(user, LINPHONE)).toEqual(['MD5']);
    });

    it('a wrong SHA-256 answer teaches nothing', async () => {
      const { user } = await newUser();
      const r = await register({ user, cseq: 10, contact, expires: '600', password: 'not the password at all', userAgent: 'TestPhone/2.1' });
      expect(r.status).toBe(403);
      expect(await algorithmsOffered(user, LINPHONE)).toEqual(['MD5']);
    });

    it("the device's own setting wins over the User-Agent and what was learned; 'auto' goes back to them", async () => {
      const { user, accountId } = await newUser();
      await accountsOf(s).setSipDigestAlgorithms(accountId, user, 'MD5');
      expect(await algorithmsOffered(user, 'TestPhone/2.1')).toEqual(['MD5']);
      await accountsOf(s).setSipDigestAlgorithms(accountId, user, 'SHA-256,MD5');
      expect(await algorithmsOffered(user, LINPHONE)).toEqual(['SHA-256', 'MD5']);
      expect((await register({ user, cseq: 10, contact, expires: '600', userAgent: LINPHONE })).status).toBe(200);
      await accountsOf(s).setSipDigestAlgorithms(accountId, user, 'auto');
      // it answered SHA-256 under the setting: learned
      expect(await algorithmsOffered(user, LINPHONE)).toEqual(['SHA-256', 'MD5']);
      expect(await accountsOf(s).listSipCredentials(accountId)).toMatchObject([{ username: user, digestAlgorithms: 'auto' }]);
      await expect(accountsOf(s).setSipDigestAlgorithms(accountId, 'nobody-here', 'MD5')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    });

    it('an unknown username is challenged by its User-Agent alone', async () => {
      expect(await algorithmsOffered('nobody-here', LINPHONE)).toEqual(['MD5']);
      expect(await algorithmsOffered('nobody-here', 'TestPhone/2.1')).toEqual(['SHA-256', 'MD5']);
    });
  });

  describe('REGISTER: expiry and bindings', () => {
    it('a too-brief expiry gets 423 with Min-Expires and stores nothing', async () => {
      const { user } = await newUser();
      expect(await register({ user, cseq: 1, contact: '<sip:a@10.0.1.1>', expires: '30' })).toMatchObject({
        status: 423,
        reason: 'Interval Too Brief',
        headers: { 'Min-Expires': '60' },
      });
      expect(await register({ user, cseq: 5, contact: '<sip:a@10.0.1.1>;expires=59', expires: '600' })).toMatchObject({ status: 423 });
      expect(await store.bindingsOf(aor(user))).toEqual([]);
    });

    it('clamps a long expiry to max-expires; the contact parameter wins over the Expires header; the default applies otherwise', async () => {
      const { user } = await newUser();
      const r = await register({ user, cseq: 1, contact: '<sip:a@10.0.1.2>;expires=100000, <sip:b@10.0.1.2>;expires=120, <sip:c@10.0.1.2>' });
      expect(r.status).toBe(200);
      expect(r.headers.Contact!.split(', ').sort()).toEqual(['<sip:a@10.0.1.2>;expires=3600', '<sip:b@10.0.1.2>;expires=120', '<sip:c@10.0.1.2>;expires=1800']);
    });

    it('lists all bindings with their remaining expiry, and expired ones are never returned', async () => {
      const { user } = await newUser();
      await register({ user, cseq: 1, contact: '<sip:a@10.0.1.3>', expires: '120' });
      clock.now += 30_000;
      const r = await register({ user, cseq: 3, contact: '<sip:b@10.0.1.3>', expires: '600' });
      expect(r.headers.Contact).toBe('<sip:a@10.0.1.3>;expires=90, <sip:b@10.0.1.3>;expires=600');
      clock.now += 90_000;
      expect((await store.bindingsOf(aor(user))).map((b) => b.uri)).toEqual(['sip:b@10.0.1.3']);
      const query = await register({ user, cseq: 5 });
      expect(query).toMatchObject({ status: 200, headers: { Contact: '<sip:b@10.0.1.3>;expires=510' } });
    });

    it('expires=0 on one contact removes only that binding (unregister)', async () => {
      const { user } = await newUser();
      await register({ user, cseq: 1, contact: '<sip:a@10.0.1.4>, <sip:b@10.0.1.4>', expires: '600' });
      const r = await register({ user, cseq: 3, contact: '<sip:a@10.0.1.4>;expires=0' });
      expect(r).toMatchObject({ status: 200, headers: { Contact: '<sip:b@10.0.1.4>;expires=600' } });
      const last = await register({ user, cseq: 5, contact: '<sip:b@10.0.1.4>', expires: '0' });
      expect(last).toMatchObject({ status: 200, headers: {} });
      expect(await store.bindingsOf(aor(user))).toEqual([]);
    });

    it('Contact: * with Expires: 0 removes every binding; without Expires: 0 it is a 400', async () => {
      const { user } = await newUser();
      await register({ user, cseq: 1, contact: '<sip:a@10.0.1.5>, <sip:b@10.0.1.5>', expires: '600' });
      expect(await register({ user, cseq: 3, contact: '*', expires: '600' })).toMatchObject({ status: 400, reason: 'Contact * Requires Expires 0' });
      expect(await register({ user, cseq: 5, contact: '*', expires: '0', callId: 'other-call' })).toMatchObject({ status: 200, headers: {} });
      expect(await store.bindingsOf(aor(user))).toEqual([]);
    });

    it('several contacts up to the limit; a new one beyond it replaces the least recently refreshed', async () => {
      const { user } = await newUser();
      await register({ user, cseq: 1, contact: '<sip:a@10.0.1.6>', expires: '600', callId: 'c-a' });
      clock.now += 1000;
      await register({ user, cseq: 1, contact: '<sip:b@10.0.1.6>', expires: '600', callId: 'c-b' });
      clock.now += 1000;
      await register({ user, cseq: 1, contact: '<sip:c@10.0.1.6>', expires: '600', callId: 'c-c' });
      clock.now += 1000;
      await register({ user, cseq: 3, contact: '<sip:a@10.0.1.6>', expires: '600', callId: 'c-a' });
      clock.now += 1000;
      const r = await register({ user, cseq: 1, contact: '<sip:d@10.0.1.6>', expires: '600', callId: 'c-d' });
      expect(r.status).toBe(200);
      expect((await store.bindingsOf(aor(user))).map((b) => b.uri).sort()).toEqual(['sip:a@10.0.1.6', 'sip:c@10.0.1.6', 'sip:d@10.0.1.6']);
      expect(await register({ user, cseq: 9, contact: '<sip:e@h>, <sip:f@h>, <sip:g@h>, <sip:h@h>' })).toMatchObject({
        status: 403,
        reason: 'Too Many Contacts',
      });
    });

    it('with whenFull=reject a binding beyond the limit gets 403 and changes nothing', async () => {
      const strict = makeHandler({ maxContacts: 1, whenFull: 'reject' });
      const { user } = await newUser();
      expect((await register({ user, cseq: 1, contact: '<sip:a@10.0.1.7>', expires: '600', callId: 'x1' }, strict)).status).toBe(200);
      expect(await register({ user, cseq: 1, contact: '<sip:b@10.0.1.7>', expires: '600', callId: 'x2' }, strict)).toMatchObject({
        status: 403,
        reason: 'Too Many Contacts',
      });
      expect((await store.bindingsOf(aor(user))).map((b) => b.uri)).toEqual(['sip:a@10.0.1.7']);
    });

    it('the same Call-ID with a CSeq not higher than stored is refused (RFC 3261 §10.3 step 7); another Call-ID updates', async () => {
      const { user } = await newUser();
      await register({ user, cseq: 10, contact: '<sip:a@10.0.1.8>', expires: '600' });
      const stale = await register({ user, cseq: 9, contact: '<sip:a@10.0.1.8>', expires: '0' });
      expect(stale).toMatchObject({ status: 500, reason: 'Out Of Order Request' });
      expect(await store.bindingsOf(aor(user))).toHaveLength(1);
      expect((await register({ user, cseq: 1, contact: '<sip:a@10.0.1.8>', expires: '0', callId: 'new-call' })).status).toBe(200);
      expect(await store.bindingsOf(aor(user))).toEqual([]);
    });

    it('a device re-registering from a new NAT address with the same +sip.instance replaces its binding and records the new source', async () => {
      const { user } = await newUser();
      const inst = ';+sip.instance="<urn:uuid:00000000-0000-1000-8000-000000000001>"';
      await register({ user, cseq: 1, contact: `<sip:a@192.168.0.10:5060>${inst}`, expires: '600', source: '198.51.100.1', sourcePort: 1111 });
      const r = await register({
        user,
        cseq: 1,
        contact: `<sip:a@192.168.0.10:5060>${inst}`,
        expires: '600',
        source: '198.51.100.2',
        sourcePort: 2222,
        callId: 'after-reboot',
      });
      expect(r.headers.Contact).toBe(`<sip:a@192.168.0.10:5060>${inst};expires=600`);
      const bs = await store.bindingsOf(aor(user));
      expect(bs.map((b) => b.source)).toEqual([{ address: '198.51.100.2', port: 2222, transport: 'udp' }]);
    });
  });

  describe('REGISTER: bad requests', () => {
    it.each([
      ['a bad Contact', { contact: '<sip:a@10.0.2.1' }, 'Malformed Contact Header'],
      ['a non-SIP Contact', { contact: '<http://x>' }, 'Malformed Contact Header'],
      ['a bad Expires', { expires: 'soon', contact: '<sip:a@h>' }, 'Malformed Expires Header'],
    ])('%s gets 400 with a reason, before any challenge', async (_name, over, reason) => {
      const { user } = await newUser();
      expect(await call(handler, registerRequest({ user, cseq: 1, ...over }))).toMatchObject({ status: 400, reason });
    });

    it('a malformed Authorization header gets 400', async () => {
      const { user } = await newUser();
      expect(await call(handler, registerRequest({ user, cseq: 1, contact: '<sip:a@h>', authorization: 'Digest username="x' }))).toMatchObject({
        status: 400,
        reason: 'Malformed Authorization Header',
      });
    });

    it('passes requests other than REGISTER to the next middleware', async () => {
      const req = { ...registerRequest({ user: 'x', cseq: 1 }), method: 'OPTIONS' };
      expect((await call(handler, req)).passed).toBe(true);
    });
  });

  describe('Postgres credential store', () => {
    it('finds the HA1 digests written by setSipPassword, and nothing for unknown users, other realms or closed accounts', async () => {
      const { user, accountId } = await newUser();
      const pgStore = new PgCredentialStore(s.pool);
      const ha1 = sipHa1(user, REALM, PASSWORD);
      expect(await pgStore.findCredentials(user, REALM)).toEqual({ accountId, ha1Md5: ha1.md5, ha1Sha256: ha1.sha256 });
      expect(await pgStore.findCredentials('nobody_here', REALM)).toBeUndefined();
      expect(await pgStore.findCredentials(user, 'other.realm')).toBeUndefined();
      await s.pool.query("update accounts set status = 'closed' where id = $1", [accountId]);
      expect(await pgStore.findCredentials(user, REALM)).toBeUndefined();
    });
  });
});
