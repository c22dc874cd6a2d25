/**
 * An authenticated INVITE's nonce count and its account's call-rate count go to Redis as one
 * script call (one round trip, keys in one Redis Cluster slot: the account's hash tag), and the
 * rate step then asks Redis nothing; replays and limits behave as before.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authenticateInvite } from '../../src/sip/auth/authenticate-invite.ts';
import { createDigestAuthenticator } from '../../src/sip/auth/create-digest-authenticator.ts';
import { digestResponse } from '../../src/sip/auth/digest-algorithm.ts';
import type { DigestAuthenticator } from '../../src/sip/auth/digest-authenticator.ts';
import { CallRateGuard } from '../../src/sip/guards/call-rate-guard.ts';
import { rateCalls } from '../../src/sip/invite/rate-calls.ts';
import type { SipRequest, SipResponse } from '../../src/sip/sip-types.ts';
import { sipHa1 } from '../../src/accounts/secrets.ts';
import { accountsOf, fundedAccount } from '../support/fixtures.ts';
import { fakeInvite, fakeResponse, runStep, silentLog } from '../support/invite-fakes.ts';
import { setupServices, TEST_REDIS_URL } from '../support/services.ts';
import type { TestServices } from '../support/services.ts';

const REALM = 'admission.test';
const PASSWORD = 'a very good password';
const clock = { now: Date.UTC(2026, 1, 1, 12, 0, 0, 100) };
const now = () => clock.now;
let s: TestServices;
let redis: Redis;
const sent: string[] = [];
let auth: DigestAuthenticator;
let rate: CallRateGuard;
let accountId: number;

beforeAll(async () => {
  s = await setupServices('sipadmit');
  redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 2 });
  await redis.ping();
  const send = redis.sendCommand.bind(redis);
  redis.sendCommand = ((cmd: { name: string }, ...rest: unknown[]) => {
    sent.push(cmd.name);
    return (send as (...a: unknown[]) => unknown)(cmd, ...rest);
  }) as typeof redis.sendCommand;
  auth = createDigestAuthenticator({ redis, pool: s.pool, namespace: s.namespace, realm: REALM, key: 'admission-test-key-0123456789abcdef', now });
  rate = new CallRateGuard(redis, { namespace: s.namespace, limit: 2, now });
  accountId = (await fundedAccount(s, 1_000_000)).id;
  await accountsOf(s).setSipPassword(accountId, 'caller', REALM, PASSWORD);
});
afterAll(async () => {
  redis.disconnect();
  await s.teardown();
});

const URI = `sip:441632960001@${REALM}`;
function invite(nonce: string, nc: number): SipRequest {
  const ncHex = nc.toString(16).padStart(8, '0');
  const response = digestResponse({
    algorithm: 'MD5',
    ha1: sipHa1('caller', REALM, PASSWORD).md5,
    method: 'INVITE',
    uri: URI,
    nonce,
    qop: { nc: ncHex, cnonce: 'c0ffee' },
  });
  const h = new Map([
    [
      'proxy-authorization',
      `Digest username="caller", realm="${REALM}", nonce="${nonce}", uri="${URI}", response="${response}", algorithm=MD5, qop=auth, nc=${ncHex}, cnonce="c0ffee"`,
    ],
  ]);
  return { method: 'INVITE', uri: URI, source_address: '192.0.2.20', source_port: 5060, protocol: 'udp', get: (n) => h.get(n.toLowerCase()) };
}
const answers: number[] = [];
const res = { send: (status: number) => void answers.push(status) } as unknown as SipResponse;

describe('INVITE admission in one round trip', () => {
  it('counts the nonce and the call rate in one script call; the rate step then sends nothing to Redis', async () => {
    const nonce = auth.challenge().challenges[0]!.match(/nonce="([^"]+)"/)![1]!;
    // first use: the credentials are read from Postgres and cached (as in a running app)
    expect(await authenticateInvite(invite(nonce, 1), res, auth, undefined, rate)).toMatchObject({ accountId, callRate: { kind: 'allowed', count: 1 } });
    sent.length = 0;
    const identity = await authenticateInvite(invite(nonce, 2), res, auth, undefined, rate);
    expect(identity).toEqual({ accountId, username: 'caller', callRate: { kind: 'allowed', count: 2 } });
    expect(sent).toEqual(['evalsha']);
    let checks = 0;
    const ports = { record: () => undefined, check: () => (checks++, rate.check(accountId)) };
    const r = await runStep(rateCalls(ports, silentLog), fakeInvite(), fakeResponse(), { kind: 'device', identity: identity! });
    expect([r.outcome, checks, sent.length]).toEqual(['next', 0, 1]);
    // over the limit (2 a second): the same script's count says so, and the step refuses with 480
    const third = await authenticateInvite(invite(nonce, 3), res, auth, undefined, rate);
    expect(third?.callRate).toEqual({ kind: 'limited', count: 3, retryAfterMs: 900 });
    const refused = fakeResponse();
    expect((await runStep(rateCalls(ports, silentLog), fakeInvite(), refused, { kind: 'device', identity: third! })).outcome).toBe('answered');
    expect(refused.sent[0]).toMatchObject({ status: 480 });
    expect(checks).toBe(0);
  });

  it('a replayed nonce count is challenged (stale) and counts no call', async () => {
    clock.now += 1000; // a new rate window
    const nonce = auth.challenge().challenges[0]!.match(/nonce="([^"]+)"/)![1]!;
    expect((await authenticateInvite(invite(nonce, 5), res, auth, undefined, rate))?.callRate).toEqual({ kind: 'allowed', count: 1 });
    answers.length = 0;
    expect(await authenticateInvite(invite(nonce, 5), res, auth, undefined, rate)).toBeUndefined();
    expect(answers).toEqual([407]);
    expect((await authenticateInvite(invite(nonce, 6), res, auth, undefined, rate))?.callRate).toEqual({ kind: 'allowed', count: 2 });
  });

  it("the nonce count and the call-rate counter carry the same hash tag, the account's (one cluster slot)", async () => {
    const keys = await s.redis.keys(`${s.namespace}:sip:*`);
    const tags = new Set(keys.map((k) => /\{([^}]*)\}/.exec(k)?.[1]));
    expect(keys.some((k) => k.includes(':sip:nonce:')) && keys.some((k) => k.includes(':sip:cps:'))).toBe(true);
    expect([...tags]).toEqual([`acct:${accountId}`]);
  });
});
