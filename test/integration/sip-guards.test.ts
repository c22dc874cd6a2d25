/** Fraud guards against real Redis (fake clock, no sleeps): auth-failure bans, scanner User-Agents, call rate. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDigestAuthenticator } from '../../src/sip/auth/create-digest-authenticator.ts';
import { AuthFailureGuard, refuseBannedSources } from '../../src/sip/guards/auth-failure-guard.ts';
import type { AuthFailureGuardOptions } from '../../src/sip/guards/auth-failure-guard.ts';
import { CallRateGuard } from '../../src/sip/guards/call-rate-guard.ts';
import { ScannerGuard, refuseScanners } from '../../src/sip/guards/scanner-guard.ts';
import { BindingStore } from '../../src/sip/registrar/binding-store.ts';
import { createRegisterHandler } from '../../src/sip/registrar/register-handler.ts';
import type { SipMiddleware, SipRequest, SipSendOptions } from '../../src/sip/sip-types.ts';
import { accountsOf, fundedAccount } from '../support/fixtures.ts';
import { REDIS_KINDS, setupServices } from '../support/services.ts';
import type { TestServices } from '../support/services.ts';

const REALM = 'guards.test';
const clock = { now: Date.UTC(2026, 1, 1) };
const now = () => clock.now;
let s: TestServices;
let seq = 0;

interface Reply {
  status: number | undefined;
  reason?: string | undefined;
  passed: boolean;
  refused?: string;
}

/** Where guards report refusals; a dropped request settles run() through it. */
let onRefused: ((why: string) => void) | undefined;
const refusal = { onRefused: (_req: SipRequest, why: string) => onRefused?.(why) };

/** Runs a middleware chain as drachtio-srf does; resolves with the answer, `passed` when the end was reached, or `status: undefined` when dropped. */
function run(chain: SipMiddleware[], req: SipRequest): Promise<Reply> {
  return new Promise((resolve, reject) => {
    // A refusal that answers calls send() right after onRefused; one that drops never does.
    onRefused = (why) => queueMicrotask(() => resolve({ status: undefined, passed: false, refused: why }));
    const res = {
      send(status: number, reason?: string, _opts?: SipSendOptions) {
        resolve({ status, reason, passed: false });
      },
    };
    const step =
      (i: number) =>
      (err?: unknown): void => {
        if (err) {
          reject(err);
          return;
        }
        const mw = chain[i];
        if (!mw) {
          resolve({ status: undefined, passed: true });
          return;
        }
        mw(req, res, step(i + 1));
      };
    step(0)();
  });
}

function request(o: { source: string; user?: string; userAgent?: string; authorization?: string; cseq?: number }): SipRequest {
  const user = o.user ?? 'someone';
  const h = new Map<string, string>(
    Object.entries({
      to: `<sip:${user}@${REALM}>`,
      from: `<sip:${user}@${REALM}>;tag=1`,
      'call-id': `g-${user}-${o.source}`,
      cseq: `${o.cseq ?? 1} REGISTER`,
      contact: `<sip:${user}@${o.source}:5060>`,
      'user-agent': o.userAgent ?? 'Phone/1',
    }),
  );
  if (o.authorization) h.set('authorization', o.authorization);
  return { method: 'REGISTER', uri: `sip:${REALM}`, source_address: o.source, source_port: 5060, protocol: 'udp', get: (n) => h.get(n.toLowerCase()) };
}

const wrongAuth = (user: string) =>
  `Digest username="${user}", realm="${REALM}", nonce="__NONCE__", uri="sip:${REALM}", response="${'0'.repeat(64)}", algorithm=SHA-256, qop=auth, nc=00000001, cnonce="c"`;

function guard(over: Partial<AuthFailureGuardOptions> = {}): AuthFailureGuard {
  return new AuthFailureGuard(s.redis, {
    namespace: `${s.namespace}:${++seq}`,
    windowMs: 60_000,
    sourceThreshold: 5,
    usernameThreshold: 20,
    banMs: 600_000,
    now,
    ...over,
  });
}

describe.each(REDIS_KINDS)('on %s Redis', (redis) => {
  beforeAll(async () => {
    s = await setupServices('sipguards', { redis });
  });
  afterAll(async () => {
    await s.teardown();
  });

  describe('auth-failure guard', () => {
    it('bans a source after the threshold of failures in a window, until the cool-down ends', async () => {
      const g = guard();
      clock.now = Date.UTC(2026, 1, 1, 10, 0, 0);
      for (let i = 1; i <= 4; i++) expect(await g.recordFailure('192.0.2.1', `u${i}`)).toMatchObject({ sourceFailures: i, banned: false });
      expect(await g.check('192.0.2.1')).toEqual({ kind: 'allowed' });
      expect((await g.recordFailure('192.0.2.1', 'u5')).banned).toBe(true);
      const until = clock.now + 600_000;
      expect(await g.check('192.0.2.1')).toEqual({ kind: 'banned', scope: 'source', until });
      expect(await g.check('192.0.2.2')).toEqual({ kind: 'allowed' });
      clock.now = until - 1;
      expect((await g.check('192.0.2.1')).kind).toBe('banned');
      clock.now = until;
      expect(await g.check('192.0.2.1')).toEqual({ kind: 'allowed' });
    });

    it('counts over a sliding window: failures a whole window apart do not add up', async () => {
      const g = guard();
      clock.now = Date.UTC(2026, 1, 1, 11, 0, 0);
      for (let i = 0; i < 4; i++) await g.recordFailure('192.0.2.3', 'x');
      clock.now += 60_000;
      for (let i = 0; i < 4; i++) expect((await g.recordFailure('192.0.2.3', 'x')).banned).toBe(false);
      expect((await g.check('192.0.2.3')).kind).toBe('allowed');
    });

    it('failures on both sides of a minute boundary add up (fixed windows let 2 × (threshold − 1) guesses through)', async () => {
      const g = guard();
      clock.now = Date.UTC(2026, 1, 1, 11, 59, 59, 900);
      for (let i = 0; i < 2; i++) expect((await g.recordFailure('192.0.2.4', 'x')).banned).toBe(false);
      clock.now = Date.UTC(2026, 1, 1, 12, 0, 0, 100);
      for (let i = 0; i < 2; i++) expect((await g.recordFailure('192.0.2.4', 'x')).banned).toBe(false);
      expect(await g.recordFailure('192.0.2.4', 'x')).toMatchObject({ sourceFailures: 5, banned: true });
      expect((await g.check('192.0.2.4')).kind).toBe('banned');
    });

    it('locks a username attacked from many addresses, and bans the address that tripped it', async () => {
      const g = guard({ usernameThreshold: 3 });
      clock.now = Date.UTC(2026, 1, 1, 12, 0, 0);
      await g.recordFailure('198.51.100.1', 'victim');
      await g.recordFailure('198.51.100.2', 'victim');
      expect((await g.recordFailure('198.51.100.3', 'victim')).banned).toBe(true);
      expect(await g.check('198.51.100.9', 'victim')).toMatchObject({ kind: 'banned', scope: 'username' });
      expect(await g.check('198.51.100.3')).toMatchObject({ kind: 'banned', scope: 'source' });
      expect(await g.check('198.51.100.9', 'someone-else')).toEqual({ kind: 'allowed' });
    });

    it('never counts or bans exempt sources', async () => {
      const g = guard({ sourceThreshold: 1, exemptSources: ['10.9.9.9'] });
      expect((await g.recordFailure('10.9.9.9', 'x')).banned).toBe(false);
      expect(await g.check('10.9.9.9')).toEqual({ kind: 'allowed' });
    });

    it('brute force through the REGISTER chain: 403s, then the source is refused (403 or silence) while others still get challenged', async () => {
      clock.now = Date.UTC(2026, 1, 1, 13, 0, 0);
      const a = await fundedAccount(s, 0);
      await accountsOf(s).setSipPassword(a.id, 'target', REALM, 'a very good password');
      const failures = guard({ sourceThreshold: 3 });
      const authenticator = createDigestAuthenticator({
        redis: s.redis,
        pool: s.pool,
        namespace: s.namespace,
        realm: REALM,
        key: 'guards-test-key-0123456789abcdefgh',
        now,
      });
      const register = createRegisterHandler({ authenticator, bindings: new BindingStore(s.redis, { namespace: s.namespace, now }), failures, now });
      const chain = [refuseScanners(new ScannerGuard(), refusal), refuseBannedSources(failures, { ...refusal, action: 'reject' }), register];
      const silent = [refuseBannedSources(failures, { ...refusal, action: 'drop' }), register];
      const attacker = '203.0.113.66';

      for (let i = 0; i < 3; i++) {
        const challenge = await run(chain, request({ source: attacker, user: 'target' }));
        expect(challenge.status).toBe(401);
        const nonce = authenticator.challenge().challenges[0]!.match(/nonce="([^"]+)"/)![1]!;
        const guess = await run(
          chain,
          request({ source: attacker, user: 'target', cseq: 2 + i, authorization: wrongAuth('target').replace('__NONCE__', nonce) }),
        );
        expect(guess).toMatchObject({ status: 403, reason: 'Forbidden' });
      }
      expect(await run(chain, request({ source: attacker, user: 'target' }))).toMatchObject({ status: 403 });
      expect(await run(silent, request({ source: attacker, user: 'target' }))).toMatchObject({
        status: undefined,
        passed: false,
        refused: expect.stringMatching(/^source banned until/),
      });
      expect((await run(chain, request({ source: '203.0.113.67', user: 'target' }))).status).toBe(401);
      clock.now += 600_000;
      expect((await run(chain, request({ source: attacker, user: 'target' }))).status).toBe(401);
    });
  });

  describe('scanner guard', () => {
    it.each(['friendly-scanner', 'sipvicious 0.3.4', 'SIPCLI/v1.8', 'VaxSIPUserAgent/3.1', 'Friendly-Scanner'])('refuses %s', async (ua) => {
      expect(new ScannerGuard().check(ua).kind).toBe('scanner');
      expect(await run([refuseScanners(new ScannerGuard(), { ...refusal, action: 'reject' })], request({ source: '192.0.2.50', userAgent: ua }))).toMatchObject(
        {
          status: 403,
        },
      );
      expect(await run([refuseScanners(new ScannerGuard(), refusal)], request({ source: '192.0.2.50', userAgent: ua }))).toMatchObject({
        status: undefined,
        passed: false,
        refused: expect.stringMatching(/^scanner user agent/),
      });
    });

    it('lets ordinary devices through, and takes a configured list', async () => {
      expect(
        await run([refuseScanners(new ScannerGuard(), refusal)], request({ source: '192.0.2.51', userAgent: 'Grandstream HT801 1.0.53.2' })),
      ).toMatchObject({
        passed: true,
      });
      const custom = new ScannerGuard(['evilbot']);
      expect(custom.check('EvilBot/2').kind).toBe('scanner');
      expect(custom.check('friendly-scanner').kind).toBe('allowed');
      expect(custom.check(undefined).kind).toBe('allowed');
    });
  });

  describe('call-rate guard', () => {
    it('allows up to the limit per second per account, then limits until the next window', async () => {
      const g = new CallRateGuard(s.redis, { namespace: `${s.namespace}:cps`, limit: 3, now });
      clock.now = Date.UTC(2026, 1, 1, 14, 0, 0) + 250;
      for (let i = 1; i <= 3; i++) expect(await g.check(42)).toEqual({ kind: 'allowed', count: i });
      expect(await g.check(42)).toEqual({ kind: 'limited', count: 4, retryAfterMs: 750 });
      expect((await g.check(43)).kind).toBe('allowed');
      clock.now += 750;
      expect(await g.check(42)).toEqual({ kind: 'allowed', count: 1 });
    });

    it('holds under concurrent checks: exactly the limit is allowed', async () => {
      const g = new CallRateGuard(s.redis, { namespace: `${s.namespace}:cps2`, limit: 10, now });
      clock.now = Date.UTC(2026, 1, 1, 15, 0, 0);
      const results = await Promise.all(Array.from({ length: 50 }, () => g.check(7)));
      expect(results.filter((r) => r.kind === 'allowed')).toHaveLength(10);
    });
  });
});
