/**
 * Abuse scenarios against the account API, each written as an attacker would try it
 * (docs/security.md maps each to its threat): the PIN and caller-ID oracles, the login-throttle
 * race with real parallel HTTP requests, and free credit through auto top-up.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csrfFor } from '../../src/api/web/web-security.ts';
import { body, expectProblem, harness } from './api-harness.ts';
import type { Harness } from './api-harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await harness('apiabuse', { autoTopUp: { maxAmount: 50_000_000, maxThreshold: 20_000_000, maxPerDay: 100_000_000 } });
});
afterAll(async () => {
  await h?.close();
});

const PASSWORD = 'correct horse battery';
async function session(opts: { credit?: number } = {}) {
  const c = await h.customerWithAccount(opts);
  const r = await h.app.inject({ method: 'POST', url: '/v1/self/login', payload: { username: c.account.username, password: PASSWORD } });
  expect(r.statusCode).toBe(200);
  return { ...c, token: body(r).token as string };
}
/** What a response tells its reader: status, content type and body with per-request fields blanked. */
function shape(r: { statusCode: number; headers: Record<string, unknown>; body: string }): string {
  return JSON.stringify({
    s: r.statusCode,
    t: r.headers['content-type'],
    b: r.body.replace(/"(id|requestedAt|pin)":("[^"]*"|[0-9]+)/g, '"$1":_').replace(/\+[0-9]+/g, '+N'),
  });
}

describe('PIN oracle', () => {
  it('a customer cannot learn whether a PIN belongs to another account: no route lets a customer choose a PIN', async () => {
    const victim = await h.customerWithAccount();
    const victimPin = await h.accounts.issuePin(victim.account.id);
    const me = await session();
    const taken = await h.call('PUT', '/v1/self/pin', { key: me.token, body: { password: PASSWORD, newPin: victimPin } });
    const free = await h.call('PUT', '/v1/self/pin', { key: me.token, body: { password: PASSWORD, newPin: '928374651029' } });
    expect(taken.statusCode).not.toBe(409);
    expect(shape(taken)).toBe(shape(free));
    expect(await h.accounts.findAccountByPin(victimPin)).toBe(victim.account.id);
    // the PIN a customer gets is assigned by the system, long and shown once
    const r = await h.call('PUT', '/v1/self/pin', { key: me.token, body: { password: PASSWORD } });
    expect(r.statusCode).toBe(200);
    const pin = body(r).pin as string;
    expect(pin).toMatch(/^[1-9][0-9]{11}$/);
    expect(await h.accounts.findAccountByPin(pin)).toBe(me.account.id);
  });

  it("another account's PIN given as my current PIN is refused exactly as a PIN nobody has", async () => {
    const victim = await h.customerWithAccount();
    const victimPin = await h.accounts.issuePin(victim.account.id);
    const me = await session();
    await h.accounts.issuePin(me.account.id);
    const theirs = await h.call('PUT', '/v1/self/pin', { key: me.token, body: { currentPin: victimPin } });
    const nobodys = await h.call('PUT', '/v1/self/pin', { key: me.token, body: { currentPin: '928374651029' } });
    expectProblem(expect, theirs, 403, 'WRONG_CREDENTIAL');
    expect(shape(theirs)).toBe(shape(nobodys));
    expect(await h.accounts.findAccountByPin(victimPin)).toBe(victim.account.id);
  });
});

describe('caller-ID oracle', () => {
  it("asking for another account's caller ID answers exactly as for a free number, and does not authorise it", async () => {
    const victim = await h.customerWithAccount();
    await h.accounts.addCli(victim.account.id, '+447700955501', true);
    const me = await session();
    const taken = await h.call('POST', '/v1/self/clis', { key: me.token, body: { cli: '+447700955501' } });
    const free = await h.call('POST', '/v1/self/clis', { key: me.token, body: { cli: '+447700955502' } });
    expect(taken.statusCode).toBe(202);
    expect(shape(taken)).toBe(shape(free));
    expect(await h.accounts.findAccountByCli('+447700955501')).toBe(victim.account.id);
    expect(await h.accounts.findAccountByCli('+447700955502')).toBeUndefined();
    // an operator approving the claim on a number held elsewhere is told; the customer never is
    const pending = body(await h.call('GET', '/v1/self/clis', { key: me.token })).pending as { id: number; cli: string }[];
    const claim = pending.find((p) => p.cli === '+447700955501')!;
    expectProblem(expect, await h.call('POST', `/v1/cli-requests/${claim.id}/approve`), 409, 'CLI_TAKEN');
    expect(await h.accounts.findAccountByCli('+447700955501')).toBe(victim.account.id);
  });

  it('a caller ID registered at the IVR waits for confirmation in self-care, and a PIN change revokes it', async () => {
    const me = await session();
    await h.ctx.cliRequests.request(me.account.id, '+447700955511', 'ivr');
    expect(await h.accounts.findAccountByCli('+447700955511')).toBeUndefined(); // pending: not PIN-less yet
    const listed = body(await h.call('GET', '/v1/self/clis', { key: me.token }));
    expect(listed.pending).toEqual([expect.objectContaining({ cli: '+447700955511', origin: 'ivr' })]);
    const ok = await h.call('POST', '/v1/self/clis/%2B447700955511/confirm', { key: me.token });
    expect(body(ok)).toMatchObject({ cli: '+447700955511', status: 'authorised' });
    expect(await h.accounts.findAccountByCli('+447700955511')).toBe(me.account.id);
    await h.accounts.addCli(me.account.id, '+447700955512', true); // an operator-approved one stays
    expect((await h.call('PUT', '/v1/self/pin', { key: me.token, body: { password: PASSWORD } })).statusCode).toBe(200);
    expect(await h.accounts.findAccountByCli('+447700955511')).toBeUndefined();
    expect(await h.accounts.findAccountByCli('+447700955512')).toBe(me.account.id);
  });

  it('an operator marking an account compromised revokes its PIN, IVR-registered caller IDs and sessions', async () => {
    const me = await session();
    const pin = await h.accounts.issuePin(me.account.id);
    await h.ctx.cliRequests.request(me.account.id, '+447700955521', 'ivr');
    expect((await h.call('POST', '/v1/self/clis/%2B447700955521/confirm', { key: me.token })).statusCode).toBe(200);
    const r = await h.call('POST', `/v1/accounts/${me.account.id}/compromised`);
    expect(r.statusCode).toBe(200);
    expect(body(r)).toEqual({ accountId: me.account.id, pinRevoked: true, callerIdsRevoked: 1 });
    expect(await h.accounts.findAccountByPin(pin)).toBeUndefined();
    expect(await h.accounts.findAccountByCli('+447700955521')).toBeUndefined();
    expect((await h.call('GET', '/v1/self', { key: me.token })).statusCode).toBe(401);
  });
});

describe('auto top-up: no free credit', () => {
  it("amounts and thresholds above the operator's limits are refused and change nothing", async () => {
    const me = await session();
    for (const b of [
      { threshold: 1e15, amount: 10_000_000 },
      { threshold: 10_000_000, amount: 1e15 },
      { threshold: 20_000_001, amount: 10_000_000 },
      { threshold: 10_000_000, amount: 50_000_001 },
    ]) {
      expectProblem(
        expect,
        await h.call('PUT', '/v1/self/auto-topup', { key: me.token, body: { enabled: true, paymentToken: 'tok_test_ok', ...b } }),
        400,
        'AUTO_TOPUP_LIMIT',
      );
    }
    expect(body(await h.call('GET', '/v1/self/auto-topup', { key: me.token }))).toMatchObject({ enabled: false, hasPaymentToken: false });
  });

  it('charges stop at the daily limit however fast credit is spent; each attempt is recorded once', async () => {
    const me = await session();
    expect(
      (
        await h.call('PUT', '/v1/self/auto-topup', {
          key: me.token,
          body: { enabled: true, threshold: 20_000_000, amount: 40_000_000, paymentToken: 'tok_test_ok' },
        })
      ).statusCode,
    ).toBe(200);
    for (let i = 0; i < 5; i++) {
      await Promise.all([h.ctx.autoTopUp.runOne(me.account.id), h.ctx.autoTopUp.runOne(me.account.id)]);
      const live = await h.s.store.get(me.account.id);
      if (live!.available > 0) expect((await h.s.store.adjust(me.account.id, `spend-${me.account.id}-${i}`, -live!.available, 'spent')).ok).toBe(true);
    }
    const { rows } = await h.s.pool.query<{ amount: string; result: string }>(
      'select amount, result from auto_topup_charges where account_id = $1 order by id',
      [me.account.id],
    );
    expect(rows.map((r) => [Number(r.amount), r.result])).toEqual([
      [40_000_000, 'charged'],
      [40_000_000, 'charged'],
    ]); // 100 a day: a third would pass it
    expect([...h.payments.charges.keys()].filter((k) => k.startsWith(`auto-${me.account.id}-`))).toHaveLength(2);
    expect((await h.s.store.get(me.account.id))!.available).toBe(0);
    expect(body(await h.call('GET', '/v1/self/auto-topup', { key: me.token }))).toMatchObject({ enabled: true, lastResult: 'daily limit reached' });
  });

  it('a declined charge disables auto top-up and the customer sees why', async () => {
    const me = await session();
    expect(
      (
        await h.call('PUT', '/v1/self/auto-topup', {
          key: me.token,
          body: { enabled: true, threshold: 5_000_000, amount: 10_000_000, paymentToken: 'tok_test_decline' },
        })
      ).statusCode,
    ).toBe(200);
    expect(await h.ctx.autoTopUp.runOne(me.account.id)).toBe('failed');
    expect(await h.ctx.autoTopUp.runOne(me.account.id)).toBe('skipped');
    const seen = body(await h.call('GET', '/v1/self/auto-topup', { key: me.token }));
    expect(seen).toMatchObject({ enabled: false, lastResult: 'failed: declined' });
    expect(seen.recentCharges).toEqual([{ at: expect.any(String), amount: 10_000_000, result: 'declined' }]);
    // the customer is told on the home page, not only on the top-up page; operators see it counted
    const home = await h.app.inject({ method: 'GET', url: '/my', headers: { cookie: `ss_sess=${me.token}` } });
    expect(home.statusCode).toBe(200);
    expect(home.body).toMatch(/<[^>]+role="alert"[^>]*>[^]*Automatic top-up was turned off[^]*declined/);
    expect(home.body).toContain('href="/my/top-ups"');
    const metrics = await h.call('GET', '/metrics', { key: null });
    expect(metrics.body).toMatch(/^softswitch_auto_topup_charges_total\{result="declined"\} 1$/m);
  });

  it('the home page says nothing of auto top-up while it works', async () => {
    const me = await session();
    const home = await h.app.inject({ method: 'GET', url: '/my', headers: { cookie: `ss_sess=${me.token}` } });
    expect(home.statusCode).toBe(200);
    expect(home.body).not.toContain('Automatic top-up was turned off');
  });
});

describe('device (SIP) passwords', () => {
  const ha1 = async (username: string) =>
    (await h.s.pool.query<{ ha1: string }>('select ha1_sha256 as ha1 from sip_credentials where username = $1', [username])).rows[0]?.ha1;

  it('trivial and common SIP passwords are refused: a device password is guessed over SIP from any number of addresses', async () => {
    const c = await h.customerWithAccount();
    for (const password of ['aaaaaaaaaa', 'password123', '1234567890', 'qwertyuiop'])
      expectProblem(
        expect,
        await h.call('PUT', `/v1/accounts/${c.account.id}/sip-credentials/weak${c.account.id}`, { body: { password } }),
        400,
        'WEAK_PASSWORD',
      );
    expect(await h.accounts.listSipCredentials(c.account.id)).toEqual([]);
  });

  it('a session alone cannot set a SIP password: the account password is asked for and counted like a login', async () => {
    const me = await session();
    const user = `sip${me.account.id}`;
    await h.accounts.setSipPassword(me.account.id, user, 'test.local', 'device password 1');
    const before = await ha1(user);
    // the self-care page: a new SIP password without the account password changes nothing
    const page = await h.app.inject({
      method: 'POST',
      url: '/my/devices/password',
      headers: { cookie: `ss_sess=${me.token}`, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ _csrf: csrfFor(me.token), username: user, password: 'a new device password' }).toString(),
    });
    expect(page.statusCode).toBeLessThan(500);
    expect(await ha1(user)).toBe(before);
    const url = `/v1/self/sip-credentials/${user}`;
    expectProblem(expect, await h.call('PUT', url, { key: me.token, body: { password: 'a new device password' } }), 400, 'VALIDATION_FAILED');
    expectProblem(
      expect,
      await h.call('PUT', url, { key: me.token, body: { currentPassword: 'wrong password', password: 'a new device password' } }),
      403,
      'WRONG_CREDENTIAL',
    );
    expectProblem(expect, await h.call('PUT', url, { key: me.token, body: { currentPassword: PASSWORD, password: 'aaaaaaaaaa' } }), 400, 'WEAK_PASSWORD');
    expect(await ha1(user)).toBe(before);
    // another account's SIP username is answered as one that does not exist
    const other = await h.customerWithAccount();
    await h.accounts.setSipPassword(other.account.id, `sip${other.account.id}`, 'test.local', 'device password 2');
    const theirs = await h.call('PUT', `/v1/self/sip-credentials/sip${other.account.id}`, {
      key: me.token,
      body: { currentPassword: PASSWORD, password: 'a new device password' },
    });
    const nobodys = await h.call('PUT', '/v1/self/sip-credentials/nobody-here', {
      key: me.token,
      body: { currentPassword: PASSWORD, password: 'a new device password' },
    });
    expectProblem(expect, theirs, 404, 'NOT_FOUND');
    const blank = (r: typeof theirs) => shape(r).replace(/\\"instance\\":\\"[^\\]*\\"/, 'instance'); // the request's own URL
    expect(blank(theirs)).toBe(blank(nobodys));
    const ok = await h.call('PUT', url, { key: me.token, body: { currentPassword: PASSWORD, password: 'a new device password' } });
    expect(ok.statusCode).toBe(200);
    expect(await ha1(user)).not.toBe(before);
    // the same on the page, with the account password
    const again = await h.app.inject({
      method: 'POST',
      url: '/my/devices/password',
      headers: { cookie: `ss_sess=${me.token}`, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ _csrf: csrfFor(me.token), username: user, currentPassword: PASSWORD, password: 'another device password' }).toString(),
    });
    expect(again.statusCode).toBe(303);
    expect(again.headers.location).toContain('/my/devices');
  });
});

describe("a device's digest challenge (digest_algorithms)", () => {
  it('operators and the customer set it per SIP username; values outside the list, and usernames of other accounts, change nothing', async () => {
    const me = await session();
    const user = `dig${me.account.id}`;
    await h.accounts.setSipPassword(me.account.id, user, 'test.local', 'device password 1');
    const setting = async () => (await h.accounts.listSipCredentials(me.account.id)).find((c) => c.username === user)?.digestAlgorithms;
    expect(await setting()).toBe('auto');
    const op = await h.call('PUT', `/v1/accounts/${me.account.id}/sip-credentials/${user}/digest-algorithms`, { body: { digestAlgorithms: 'MD5' } });
    expect(op.statusCode).toBe(200);
    expect(await setting()).toBe('MD5');
    const mine = await h.call('PUT', `/v1/self/sip-credentials/${user}/digest-algorithms`, { key: me.token, body: { digestAlgorithms: 'SHA-256,MD5' } });
    expect(mine.statusCode).toBe(200);
    expect(await setting()).toBe('SHA-256,MD5');
    expectProblem(
      expect,
      await h.call('PUT', `/v1/self/sip-credentials/${user}/digest-algorithms`, { key: me.token, body: { digestAlgorithms: 'SHA-512' } }),
      400,
      'VALIDATION_FAILED',
    );
    const other = await h.customerWithAccount();
    await h.accounts.setSipPassword(other.account.id, `dig${other.account.id}`, 'test.local', 'device password 2');
    expectProblem(
      expect,
      await h.call('PUT', `/v1/self/sip-credentials/dig${other.account.id}/digest-algorithms`, { key: me.token, body: { digestAlgorithms: 'MD5' } }),
      404,
      'NOT_FOUND',
    );
    expect((await h.accounts.listSipCredentials(other.account.id))[0]?.digestAlgorithms).toBe('auto');
    expect(await setting()).toBe('SHA-256,MD5');
  });
});

describe('login oracle', () => {
  it('an unknown username, a wrong password, a closed account and one without a password answer alike: status, headers, body and time', async () => {
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const kinds = {
      wrongPassword: async () => (await h.customerWithAccount()).account.username!,
      unknown: async () => `nobody_${Math.random().toString(36).slice(2, 10)}`,
      closed: async () => {
        const c = await h.customerWithAccount();
        await h.accounts.setStatus(c.account.id, 'closed');
        return c.account.username!;
      },
      noPassword: async () => {
        const customerId = await h.accounts.createCustomer({ name: 'No password' });
        const username = `nopw_${Math.random().toString(36).slice(2, 10)}`;
        await h.accounts.createAccount({ customerId, currency: 'GBP', username });
        return username;
      },
    };
    const times: Record<string, number[]> = {};
    const shapes = new Set<string>();
    let source = 0;
    for (let round = 0; round < 7; round++) {
      for (const [kind, make] of Object.entries(kinds)) {
        const username = await make();
        const t0 = process.hrtime.bigint();
        const r = await h.app.inject({
          method: 'POST',
          url: '/v1/self/login',
          remoteAddress: `10.12.0.${++source}`, // one attempt per address: the throttle is not what is measured
          payload: { username, password: 'not the password' },
        });
        (times[kind] ??= []).push(Number(process.hrtime.bigint() - t0) / 1e6);
        const headers = Object.fromEntries(Object.entries(r.headers).filter(([k]) => !['date', 'x-request-id'].includes(k)));
        shapes.add(JSON.stringify({ s: r.statusCode, headers, b: r.body }));
      }
    }
    expect([...shapes], 'every failure answers the same').toHaveLength(1);
    expect(JSON.parse([...shapes][0]!)).toMatchObject({ s: 401 });
    // the password hash dominates: a path that skipped it would answer in a few milliseconds
    const reference = median(times.wrongPassword!);
    for (const [kind, xs] of Object.entries(times)) {
      const ratio = median(xs) / reference;
      expect(ratio, `${kind}: ${median(xs).toFixed(1)} ms against ${reference.toFixed(1)} ms for a wrong password`).toBeGreaterThan(0.25);
      expect(ratio, `${kind}: ${median(xs).toFixed(1)} ms against ${reference.toFixed(1)} ms for a wrong password`).toBeLessThan(4);
    }
  }, 60_000);
});

// last: the race leaves the harness's address throttled for the window
describe('login throttle', () => {
  it('a session gives no extra password guesses: the password or PIN entered on session routes counts towards the login throttle', async () => {
    const me = await session();
    const pin = await h.accounts.issuePin(me.account.id);
    const wrong = [
      () => h.call('PUT', '/v1/self/password', { key: me.token, body: { currentPassword: 'wrong password 1', newPassword: 'a brand new password' } }),
      () => h.call('PUT', '/v1/self/pin', { key: me.token, body: { password: 'wrong password 2' } }),
      () => h.call('PUT', '/v1/self/pin', { key: me.token, body: { currentPin: '928374651029' } }),
      () => h.call('POST', '/v1/self/erasure', { key: me.token, body: { password: 'wrong password 3' } }),
      () => h.call('PUT', '/v1/self/password', { key: me.token, body: { currentPassword: 'wrong password 4', newPassword: 'a brand new password' } }),
    ];
    for (const attempt of wrong) expectProblem(expect, await attempt(), 403, 'WRONG_CREDENTIAL'); // the limit is 5
    // the sixth is not checked, the right password included, and the login is throttled as well
    expectProblem(expect, await h.call('PUT', '/v1/self/pin', { key: me.token, body: { password: PASSWORD } }), 429, 'LOGIN_THROTTLED');
    expectProblem(expect, await h.call('PUT', '/v1/self/pin', { key: me.token, body: { currentPin: pin } }), 429, 'LOGIN_THROTTLED');
    expectProblem(
      expect,
      await h.app.inject({ method: 'POST', url: '/v1/self/login', payload: { username: me.account.username, password: PASSWORD } }),
      429,
      'LOGIN_THROTTLED',
    );
    expect(await h.accounts.findAccountByPin(pin)).toBe(me.account.id);
    expect((await h.call('GET', '/v1/self', { key: me.token })).statusCode).toBe(200);
  });

  it('300 parallel wrong logins over real HTTP check at most the limit of passwords', async () => {
    const c = await h.customerWithAccount();
    const address = await h.app.listen({ host: '127.0.0.1', port: 0 }); // closed with the harness
    const results = await Promise.all(
      Array.from({ length: 300 }, () =>
        fetch(`${address}/v1/self/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: c.account.username, password: 'wrong password' }),
        }).then((r) => r.status),
      ),
    );
    const checked = results.filter((s) => s === 401).length;
    expect(results.filter((s) => s !== 401 && s !== 429)).toEqual([]);
    expect(checked).toBeLessThanOrEqual(5);
    expect(checked).toBeGreaterThan(0);
  }, 60_000);
});
