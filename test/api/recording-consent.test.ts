/**
 * Call recording happens only at the account holder's express wish: off by default, turned on and
 * off by the holder (API and self-care), turned off (never on) by an operator, every change kept as
 * evidence and audit-logged, and pushed to the flag the SIP app reads in Redis as it connects a call.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { body, expectProblem, harness, selfCareSession } from './api-harness.ts';
import type { Harness } from './api-harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await harness('recconsent');
});
afterAll(async () => {
  await h?.close();
});

async function customerSession(username?: string) {
  const c = await h.customerWithAccount(username === undefined ? {} : { username });
  const login = await h.app.inject({ method: 'POST', url: '/v1/self/login', payload: { username: c.account.username, password: 'correct horse battery' } });
  return { ...c, token: body(login).token as string };
}

const events = async (accountId: number) =>
  (await h.s.pool.query('select action, actor from recording_consent_events where account_id = $1 order by id', [accountId])).rows as {
    action: string;
    actor: string;
  }[];
const audits = async (accountId: number) =>
  (await h.s.pool.query("select actor, detail from audit_log where action = 'recording.consent' and subject_account_id = $1 order by id", [accountId]))
    .rows as { actor: string; detail: { recording: boolean } }[];

describe('call recording consent', () => {
  it('is off by default, in Postgres and in the flag the SIP app reads', async () => {
    const me = await customerSession();
    expect(body(await h.call('GET', '/v1/self/recording-consent', { key: me.token }))).toEqual({ recording: false, since: null });
    expect(await h.s.store.recordingConsent(me.account.id)).toBe(false);
    expectProblem(expect, await h.call('GET', '/v1/self/recording-consent', { key: null }), 401, 'UNAUTHENTICATED');
  });

  it('the account holder turns it on and off; each change is evidence, audit-logged, and reaches Redis at once', async () => {
    const me = await customerSession();
    const on = await h.call('PUT', '/v1/self/recording-consent', { key: me.token, body: { recording: true } });
    expect(on.statusCode).toBe(200);
    expect(body(on)).toMatchObject({ recording: true });
    expect(typeof body(on).since).toBe('string');
    expect(await h.s.store.recordingConsent(me.account.id)).toBe(true);
    const off = await h.call('PUT', '/v1/self/recording-consent', { key: me.token, body: { recording: false } });
    expect(body(off)).toMatchObject({ recording: false });
    expect(await h.s.store.recordingConsent(me.account.id)).toBe(false);
    expect(await events(me.account.id)).toEqual([
      { action: 'opt_in', actor: `customer:${me.customerId}` },
      { action: 'opt_out', actor: `customer:${me.customerId}` },
    ]);
    expect((await audits(me.account.id)).map((a) => [a.actor, a.detail.recording])).toEqual([
      [`customer:${me.customerId}`, true],
      [`customer:${me.customerId}`, false],
    ]);
    expectProblem(expect, await h.call('PUT', '/v1/self/recording-consent', { key: me.token, body: { recording: 'yes' } }), 400, 'VALIDATION_FAILED');
  });

  it('an operator may turn it off, never on (403 problem+json, nothing changed)', async () => {
    const me = await customerSession();
    const refused = await h.call('PUT', `/v1/accounts/${me.account.id}/recording-consent`, { body: { recording: true } });
    expectProblem(expect, refused, 403, 'CONSENT_BY_PERSON_ONLY');
    expect(await events(me.account.id)).toEqual([]);
    expect(await h.s.store.recordingConsent(me.account.id)).toBe(false);
    await h.call('PUT', '/v1/self/recording-consent', { key: me.token, body: { recording: true } });
    const off = await h.call('PUT', `/v1/accounts/${me.account.id}/recording-consent`, { body: { recording: false } });
    expect(off.statusCode).toBe(200);
    expect(await h.s.store.recordingConsent(me.account.id)).toBe(false);
    const read = body(await h.call('GET', `/v1/accounts/${me.account.id}/recording-consent`, { key: h.keys.read }));
    expect(read).toMatchObject({ recording: false });
    expect((read.history as { action: string; actor: string }[]).map((e) => e.action)).toEqual(['opt_out', 'opt_in']);
    expect((read.history as { actor: string }[])[0]!.actor).toMatch(/^apikey:/);
    // a read key cannot change it
    expectProblem(
      expect,
      await h.call('PUT', `/v1/accounts/${me.account.id}/recording-consent`, { key: h.keys.read, body: { recording: false } }),
      403,
      'FORBIDDEN',
    );
  });

  it('a rebuild of the live balances keeps the flag', async () => {
    const me = await customerSession();
    await h.call('PUT', '/v1/self/recording-consent', { key: me.token, body: { recording: true } });
    await h.s.redis.hdel(h.s.store.keys.account(me.account.id), 'rec');
    const { rebuildBalances } = await import('../../src/ledger/reconcile.ts');
    await rebuildBalances(h.s.pool, h.s.redis, h.s.store);
    expect(await h.s.store.recordingConsent(me.account.id)).toBe(true);
  });

  it('self-care: the recordings page turns it on and off with the CSRF-protected form', async () => {
    const form = 'application/x-www-form-urlencoded';
    const c = await h.customerWithAccount({ username: 'webrecconsent' });
    const cookie = await selfCareSession(h, 'webrecconsent');
    const page = await h.app.inject({ method: 'GET', url: '/my/recordings', headers: { cookie } });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('href="/my/recordings"');
    expect(page.body).toContain('action="/my/recordings/consent"');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!;
    const post = (payload: string, token = csrf) =>
      h.app.inject({ method: 'POST', url: '/my/recordings/consent', headers: { 'content-type': form, cookie }, payload: `_csrf=${token}&${payload}` });
    expect((await post('recording=on', 'forged')).statusCode).toBe(403);
    expect(await h.s.store.recordingConsent(c.account.id)).toBe(false);
    expect((await post('recording=on')).headers.location).toBe('/my/recordings?m=recordings.consentOn');
    expect(await h.s.store.recordingConsent(c.account.id)).toBe(true);
    expect((await h.app.inject({ method: 'GET', url: '/my/recordings', headers: { cookie } })).body).toContain('name="recording" value="off"');
    expect((await post('recording=off')).headers.location).toBe('/my/recordings?m=recordings.consentOff');
    expect(await h.s.store.recordingConsent(c.account.id)).toBe(false);
    expect((await post('recording=maybe')).headers.location).toBe('/my/recordings?e=common.error');
    expect((await events(c.account.id)).map((e) => e.action)).toEqual(['opt_in', 'opt_out']);
  });
});
