/** Headers, cookies and CSRF of the web pages, through inject() (no browser needed). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { harness } from '../api/api-harness.ts';
import type { Harness } from '../api/api-harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await harness('websec', { trustProxy: true });
});
afterAll(async () => {
  await h?.close();
});

const form = 'application/x-www-form-urlencoded';

describe('web page security', () => {
  it('pages carry a strict CSP and no-store; cookies are HttpOnly, SameSite=Strict, Secure over HTTPS', async () => {
    const r = await h.app.inject({ method: 'GET', url: '/my/login', headers: { 'x-forwarded-proto': 'https' } });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(r.headers['content-security-policy']).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; media-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    expect(r.headers['cache-control']).toBe('no-store');
    expect(r.headers['x-frame-options']).toBe('DENY');
    expect(String(r.headers['set-cookie'])).toMatch(/^ss_pre=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=3600; Secure$/);
    expect(r.body).not.toMatch(/<script(?![^>]*\bsrc=)/);
    expect(r.body).not.toMatch(/\sstyle=/);
    const plain = await h.app.inject({ method: 'GET', url: '/my/login' });
    expect(String(plain.headers['set-cookie'])).not.toContain('Secure');
  });

  it('a login without the pre-session token, or from another origin, is refused before any password check', async () => {
    const c = await h.customerWithAccount({ username: 'websec_user' });
    const page = await h.app.inject({ method: 'GET', url: '/my/login' });
    const cookie = String(page.headers['set-cookie']).split(';')[0]!;
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!;
    const payload = `_csrf=${csrf}&username=websec_user&password=correct+horse+battery`;
    const forged = await h.app.inject({ method: 'POST', url: '/my/login', headers: { 'content-type': form }, payload });
    expect([forged.statusCode, forged.headers.location]).toEqual([303, '/my/login?e=common.csrf']);
    const cross = await h.app.inject({ method: 'POST', url: '/my/login', headers: { 'content-type': form, cookie, origin: 'https://evil.example' }, payload });
    expect(cross.headers.location).toBe('/my/login?e=common.csrf');
    const ok = await h.app.inject({ method: 'POST', url: '/my/login', headers: { 'content-type': form, cookie }, payload });
    expect([ok.statusCode, ok.headers.location]).toEqual([303, '/my']);
    const { rows } = await h.s.pool.query(`select count(*)::int as n from audit_log where action = 'self.login' and subject_account_id = $1`, [c.account.id]);
    expect(rows[0].n).toBe(1);
  });

  it('a failed login shows one generic message and is throttled like the API', async () => {
    await h.customerWithAccount({ username: 'websec_throttle' });
    const page = await h.app.inject({ method: 'GET', url: '/my/login' });
    const cookie = String(page.headers['set-cookie']).split(';')[0]!;
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!;
    const tries = [];
    for (let i = 0; i < 6; i++) {
      const pw = i === 5 ? 'correct+horse+battery' : 'nope';
      tries.push(
        (
          await h.app.inject({
            method: 'POST',
            url: '/my/login',
            headers: { 'content-type': form, cookie },
            payload: `_csrf=${csrf}&username=websec_throttle&password=${pw}`,
          })
        ).headers.location,
      );
    }
    expect(tries).toEqual(Array(6).fill('/my/login?e=login.failed')); // the 6th is right but throttled: same message
  });

  it('the operator console refuses a wrong key and keeps the key out of the cookie', async () => {
    const page = await h.app.inject({ method: 'GET', url: '/console/login' });
    const cookie = String(page.headers['set-cookie']).split(';')[0]!;
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!;
    const bad = await h.app.inject({
      method: 'POST',
      url: '/console/login',
      headers: { 'content-type': form, cookie },
      payload: `_csrf=${csrf}&key=sk_nope_nope`,
    });
    expect(bad.headers.location).toBe('/console/login?e=console.loginFailed');
    const good = await h.app.inject({
      method: 'POST',
      url: '/console/login',
      headers: { 'content-type': form, cookie },
      payload: `_csrf=${csrf}&key=${h.keys.read}`,
    });
    expect(good.headers.location).toBe('/console');
    const set = ([] as string[]).concat(good.headers['set-cookie'] as string[]).join('\n');
    expect(set).toMatch(/ss_op=ow_[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict/);
    expect(set).not.toContain(h.keys.read.slice(3));
    const op = set
      .split('\n')
      .find((x) => x.startsWith('ss_op'))!
      .split(';')[0]!;
    const dash = await h.app.inject({ method: 'GET', url: '/console', headers: { cookie: op } });
    expect(dash.statusCode).toBe(200);
    expect(dash.body).not.toContain(h.keys.read);
    // a read key cannot top up: the API's scope check applies to the console too
    const c = await h.customerWithAccount({});
    const acct = await h.app.inject({ method: 'GET', url: `/console/accounts/${c.account.id}`, headers: { cookie: op } });
    const token = /name="_csrf" value="([^"]+)"/.exec(acct.body)![1]!;
    const top = await h.app.inject({
      method: 'POST',
      url: `/console/accounts/${c.account.id}/topup`,
      headers: { 'content-type': form, cookie: op },
      payload: `_csrf=${token}&amount=1.00&requestId=abc-1`,
    });
    expect(top.headers.location).toBe(`/console/accounts/${c.account.id}?e=console.forbidden`);
    expect((await h.s.store.get(c.account.id))?.balance).toBe(0);
  });
});
