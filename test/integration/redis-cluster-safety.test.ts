// Every Redis use that names several keys in one command, MULTI, pipeline or script, on a single
// Redis and on a real Redis Cluster (where keys of different slots in one of those are refused):
// the live-call registry, the voucher and login throttles, customer sessions, the wrong-PIN
// lockout, erasure's scan of
// settled calls, the ledger backlog, the keys written together (gateway health, callback
// counters), and pub/sub reaching a subscriber connected to another node.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { callbackAccountCounterKey, callbackNumberCounterKey } from '../../src/accounts/callbacks.ts';
import { VoucherThrottle } from '../../src/accounts/voucher-throttle.ts';
import { CustomerSessions } from '../../src/api/customer-sessions.ts';
import { publishHangup } from '../../src/calls/live-calls.ts';
import { gatewayHealthKeys } from '../../src/common/gateway-health-state.ts';
import { LedgerBacklog } from '../../src/ledger/ledger-backlog.ts';
import { LiveCallRegistry } from '../../src/sip/call/live-call-registry.ts';
import { PinLockout } from '../../src/sip/ivr/pin-lockout.ts';
import type { CallLegs, LegState } from '../../src/sip/call/leg-state.ts';
import { sipCommandsChannel } from '../../src/sip/sip-commands.ts';
import { cdrFor, fundedAccount } from '../support/fixtures.ts';
import { REDIS_KINDS, setupServices } from '../support/services.ts';
import type { TestServices } from '../support/services.ts';

const leg = (callId: string): LegState => ({
  callId,
  local: '<sip:switch@127.0.0.1>;tag=a',
  remote: '<sip:peer@127.0.0.1>;tag=b',
  cseq: 1,
  remoteTarget: 'sip:peer@127.0.0.1:5070',
  routeSet: [],
  transport: 'udp',
  source: '127.0.0.1:5070',
});
const legs = (id: string): CallLegs => ({ server: '127.0.0.1:5060', caller: leg(`${id}-a`), callee: leg(`${id}-b`) });

let s: TestServices;

describe.each(REDIS_KINDS)('on %s Redis', (redis) => {
  beforeAll(async () => {
    s = await setupServices('clustersafety', { redis });
  });
  afterAll(async () => {
    await s.teardown();
  });

  it('live-call registry: record, read, keep alive, find stale, claim, remove and forget', async () => {
    const reg = new LiveCallRegistry(s.redis, { namespace: s.namespace, maxCallSeconds: 3600 });
    const members = Array.from({ length: 12 }, (_, i) => LiveCallRegistry.member(100 + i, `call-${i}`));
    for (let i = 0; i < members.length; i++) await reg.record(100 + i, `call-${i}`, 'app-1', legs(`c${i}`), 1000, 5000);
    expect(await reg.get(members[0]!)).toMatchObject({ accountId: 100, callId: 'call-0', owner: 'app-1', answeredAt: 1000, lastKeepAlive: 5000 });
    await reg.keepAlive(members.slice(0, 6), 9000);
    expect((await reg.staleSince(6000)).sort()).toEqual(members.slice(6).sort());
    expect(await reg.claim(members[6]!, 'reaper-1', 60_000)).toBe(true);
    expect(await reg.claim(members[6]!, 'reaper-2', 60_000)).toBe(false);
    await reg.forget(members[6]!);
    await reg.remove(107, 'call-7');
    expect(await reg.get(members[6]!)).toBeUndefined();
    expect(await reg.get(members[7]!)).toBeUndefined();
    expect(await reg.staleSince(6000)).toHaveLength(4);
  });

  it('voucher throttle: both counters count, a success gives the attempt back', async () => {
    const t = new VoucherThrottle(s.redis, { namespace: s.namespace, maxPerAccount: 2, maxPerSource: 10, windowSeconds: 60 });
    expect(await t.attempt(1, '192.0.2.1')).toBe(true);
    expect(await t.attempt(1, '192.0.2.2')).toBe(true);
    expect(await t.attempt(1, '192.0.2.3')).toBe(false);
    await t.succeeded(1, '192.0.2.3');
    expect(await t.attempt(1, '192.0.2.3')).toBe(false); // 3 counted, one given back: at the limit
  });

  it('customer sessions: create, end all but one, login throttle and its give-back', async () => {
    const cs = new CustomerSessions(s.redis, { namespace: s.namespace, ttlSeconds: 600, maxFailures: 2, maxFailuresPerSource: 10, windowSeconds: 60 });
    const tokens = await Promise.all(Array.from({ length: 5 }, () => cs.create({ accountId: 7, customerId: 70 })));
    for (const t of tokens) expect(await cs.get(t.token)).toMatchObject({ accountId: 7, customerId: 70 });
    await cs.endAll(7, tokens[0]!.token);
    expect(await cs.get(tokens[0]!.token)).toBeDefined();
    for (const t of tokens.slice(1)) expect(await cs.get(t.token)).toBeUndefined();
    expect(await cs.loginAttempt('Alice', '192.0.2.9')).toBe(true);
    expect(await cs.loginAttempt('alice', '192.0.2.9')).toBe(true);
    expect(await cs.loginAttempt('alice', '192.0.2.9')).toBe(false);
    await cs.loginSucceeded('alice', '192.0.2.9');
    expect(await cs.loginAttempt('alice', '192.0.2.9')).toBe(true);
  });

  it("erasure drops an account's settled calls found on every node, and keeps the open ones", async () => {
    const a = await fundedAccount(s, 10_000_000);
    for (let i = 0; i < 20; i++) {
      await s.store.reserve(a.id, `done-${i}`, 1, 10_000, Date.now() + 60_000);
      await s.store.settle(a.id, cdrFor(`done-${i}`, a.id, 1_000));
    }
    await s.store.reserve(a.id, 'still-open', 1, 10_000, Date.now() + 60_000);
    expect(await s.store.forgetCalls(a.id)).toBe(20);
    expect(await s.store.listOpenCalls(a.id)).toMatchObject([{ callId: 'still-open' }]);
  });

  it('wrong-PIN lockout: failures per caller ID and per account, each subject locked at its threshold', async () => {
    const lockout = new PinLockout(s.redis, { namespace: s.namespace, threshold: 3, anonymousThreshold: 5, windowMs: 60_000, lockMs: 60_000 });
    const subjects = [{ cli: '+447700900123' }, { accountId: 77 }];
    expect(await lockout.fail(subjects)).toBe(false);
    expect(await lockout.fail(subjects)).toBe(false);
    await lockout.succeeded({ cli: '+447700900123' }); // the caller ID's count starts again, the account's does not
    expect(await lockout.fail(subjects)).toBe(true);
    expect(await lockout.isLocked({ accountId: 77 })).toBe(true);
    expect(await lockout.isLocked({ cli: '+447700900123' })).toBe(false);
  });

  it('the ledger backlog counts the events of every shard stream', async () => {
    const backlog = new LedgerBacklog(s.redis, s.store.keys);
    const before = (await backlog.figures()).pendingEvents;
    for (let i = 0; i < 8; i++) await fundedAccount(s, 1_000 + i); // accounts in every shard, one top-up each
    expect((await backlog.figures()).pendingEvents).toBeGreaterThanOrEqual(before + 8);
    expect(await backlog.deadLetters()).toBe(0);
  });

  it('keys written together share a hash tag (one cluster slot): gateway health, callback counters', async () => {
    const slot = async (k: string) => Number(await (s.cluster ? s.redis.cluster('KEYSLOT', k) : Promise.resolve(0)));
    const g = gatewayHealthKeys(s.namespace);
    expect(await slot(g.history)).toBe(await slot(g.state));
    expect(await slot(callbackNumberCounterKey(s.namespace, 'ab'.repeat(16)))).toBe(await slot(callbackAccountCounterKey(s.namespace, 42)));
  });

  it('a hang-up published on one connection reaches a subscriber on another (pub/sub across the nodes)', async () => {
    const sub = s.newRedis();
    const got: string[] = [];
    sub.on('message', (_channel: string, m: string) => got.push(m));
    await sub.subscribe(sipCommandsChannel(s.namespace));
    for (let i = 0; i < 3; i++) await publishHangup(s.redis, s.namespace, { callId: `hang-${i}`, accountId: i }, 'test');
    await vi.waitFor(() => expect(got).toHaveLength(3), { timeout: 5000, interval: 50 });
    expect(got.map((m) => (JSON.parse(m) as { callId: string }).callId)).toEqual(['hang-0', 'hang-1', 'hang-2']);
  });
});
