/**
 * E-mail verification (issue: PATCH /v1/self {email} took effect at once, unverified addresses were
 * on the marketing lists, exports went out with no fresh authentication). A new address waits for
 * a single-use, expiring code (stored hashed); an operator's change leaves the address unverified;
 * the export needs a password entered in the last few minutes.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VerificationMailer } from '../../src/accounts/email-verification.ts';
import { body, expectProblem, harness } from './api-harness.ts';
import type { Harness } from './api-harness.ts';

const PASSWORD = 'correct horse battery';
const sent: { to: string; token: string; expiresAt: Date }[] = [];
/** The mail path's seam, as the mail sender will implement it (no mail server runs here). */
const mailer: VerificationMailer = {
  async sendVerification(m) {
    sent.push(m);
  },
};
let h: Harness; // no mail path: codes are sent by an operator
let m: Harness; // a mail path plugged in
beforeAll(async () => {
  h = await harness('emailverify');
  m = await harness('emailverifymail', {}, { mailer });
});
afterAll(async () => {
  await h?.close();
  await m?.close();
});

async function session(x: Harness) {
  const c = await x.customerWithAccount();
  const r = await x.app.inject({ method: 'POST', url: '/v1/self/login', payload: { username: c.account.username, password: PASSWORD } });
  expect(r.statusCode).toBe(200);
  return { ...c, email: await x.directoryEmail(c.customerId), token: body(r).token as string };
}
const recipients = async (x: Harness) => (await x.ctx.consents.recipients('customer')).map((r) => r.customerId);

describe('a customer changes their e-mail address', () => {
  it('does not take effect until the code sent to the new address is entered (the reproduction: it took effect at once)', async () => {
    const me = await session(h);
    await h.verifyEmail(me.customerId);
    const verifiedAt = (await h.ctx.directory.get(me.customerId)).emailVerifiedAt;
    const r = await h.call('PATCH', '/v1/self', { key: me.token, body: { email: `new-${me.email}`, city: 'York' } });
    expect(r.statusCode).toBe(200);
    expect(body(r)).toMatchObject({ email: me.email, pendingEmail: `new-${me.email}`, city: 'York', emailDelivery: 'by_support' });
    expect(JSON.stringify(body(r))).not.toMatch(/ev_/); // the code never goes to the session that asked
    const c = await h.ctx.directory.get(me.customerId);
    expect(c.email).toBe(me.email);
    expect(c.emailVerifiedAt).toEqual(verifiedAt);
    // no code was issued to anyone yet: guessing fails
    expectProblem(expect, await h.call('POST', '/v1/self/email/verify', { key: me.token, body: { token: 'ev_x' } }), 400, 'VERIFICATION_FAILED');
    // an operator issues a code, sends it from the service mailbox; the customer enters it
    const issued = await h.call('POST', `/v1/customers/${me.customerId}/email-verification`);
    expect(issued.statusCode).toBe(201);
    const { token, email } = body(issued) as { token: string; email: string };
    expect(email).toBe(`new-${me.email}`);
    expect(token).toMatch(/^ev_[A-Za-z0-9_-]{43}$/);
    // stored hashed only, never logged
    const { rows } = await h.s.pool.query('select token_hash from email_verifications where customer_id = $1', [me.customerId]);
    expect(rows[0].token_hash).toBe(createHash('sha256').update(token).digest('hex'));
    expect(h.logs.join('')).not.toContain(token);
    const { rows: audit } = await h.s.pool.query('select detail::text from audit_log where subject_customer_id = $1', [me.customerId]);
    expect(JSON.stringify(audit)).not.toContain(token);
    // another customer cannot use it
    const other = await session(h);
    expectProblem(expect, await h.call('POST', '/v1/self/email/verify', { key: other.token, body: { token } }), 400, 'VERIFICATION_FAILED');
    const ok = await h.call('POST', '/v1/self/email/verify', { key: me.token, body: { token } });
    expect(ok.statusCode).toBe(200);
    expect(body(ok)).toMatchObject({ email: `new-${me.email}`, pendingEmail: null, emailVerifiedAt: expect.any(String) });
    // single use
    expectProblem(expect, await h.call('POST', '/v1/self/email/verify', { key: me.token, body: { token } }), 400, 'VERIFICATION_FAILED');
    const actions = (await h.s.pool.query('select action from audit_log where subject_customer_id = $1 order by id', [me.customerId])).rows.map(
      (x) => x.action,
    );
    expect(actions).toEqual(expect.arrayContaining(['email.change_requested', 'email.verification_issued', 'email.verified']));
  });

  it('a code expires, and a newer one replaces it', async () => {
    const me = await session(h);
    await h.call('PATCH', '/v1/self', { key: me.token, body: { email: `late-${me.email}` } });
    const first = body(await h.call('POST', `/v1/customers/${me.customerId}/email-verification`)).token as string;
    const second = body(await h.call('POST', `/v1/customers/${me.customerId}/email-verification`)).token as string;
    expectProblem(expect, await h.call('POST', '/v1/self/email/verify', { key: me.token, body: { token: first } }), 400, 'VERIFICATION_FAILED');
    await h.s.pool.query("update email_verifications set expires_at = now() - interval '1 second' where customer_id = $1", [me.customerId]);
    expectProblem(expect, await h.call('POST', '/v1/self/email/verify', { key: me.token, body: { token: second } }), 400, 'VERIFICATION_FAILED');
    expect(await h.directoryEmail(me.customerId)).toBe(me.email);
    expect(body(await h.call('GET', '/v1/self', { key: me.token })).customer).toMatchObject({ pendingEmail: null });
  });

  it('an address another customer holds is refused at confirmation, not before (no oracle)', async () => {
    const me = await session(h);
    const taken = await session(h);
    const r = await h.call('PATCH', '/v1/self', { key: me.token, body: { email: taken.email } });
    expect(r.statusCode).toBe(200);
    const token = body(await h.call('POST', `/v1/customers/${me.customerId}/email-verification`)).token as string;
    expectProblem(expect, await h.call('POST', '/v1/self/email/verify', { key: me.token, body: { token } }), 409, 'ALREADY_EXISTS');
    expect(await h.directoryEmail(me.customerId)).toBe(me.email);
  });

  it('with a mail path, the code goes to the new address only', async () => {
    sent.length = 0;
    const me = await session(m);
    const r = await m.call('PATCH', '/v1/self', { key: me.token, body: { email: `mailed-${me.email}` } });
    expect(body(r)).toMatchObject({ email: me.email, pendingEmail: `mailed-${me.email}`, emailDelivery: 'sent' });
    expect(sent.map((x) => x.to)).toEqual([`mailed-${me.email}`]);
    expect(r.body).not.toContain(sent[0]!.token);
    expect(m.logs.join('')).not.toContain(sent[0]!.token);
    expect(body(await m.call('POST', '/v1/self/email/verify', { key: me.token, body: { token: sent[0]!.token } }))).toMatchObject({
      email: `mailed-${me.email}`,
      emailVerifiedAt: expect.any(String),
    });
  });
});

describe('operators and marketing', () => {
  it("an operator's change leaves the address unverified and supersedes a pending one; unverified addresses get no marketing", async () => {
    const me = await session(h);
    expect((await h.call('PUT', '/v1/self/consents/customer', { key: me.token, body: { optedIn: true } })).statusCode).toBe(200);
    expect(await recipients(h)).not.toContain(me.customerId); // the reproduction: unverified addresses were on the list
    await h.verifyEmail(me.customerId);
    expect(await recipients(h)).toContain(me.customerId);
    await h.call('PATCH', '/v1/self', { key: me.token, body: { email: `pending-${me.email}` } });
    const c = body(await h.call('PATCH', `/v1/customers/${me.customerId}`, { body: { email: `op-${me.email}` } }));
    expect(c).toMatchObject({ email: `op-${me.email}`, emailVerifiedAt: null, pendingEmail: null });
    expect(await recipients(h)).not.toContain(me.customerId);
    // the operator issues a code for the unverified address; once entered it is on the list again
    const issued = body(await h.call('POST', `/v1/customers/${me.customerId}/email-verification`));
    expect(issued.email).toBe(`op-${me.email}`);
    await h.call('POST', '/v1/self/email/verify', { key: me.token, body: { token: issued.token } });
    expect(await recipients(h)).toContain(me.customerId);
    expectProblem(expect, await h.call('POST', `/v1/customers/${me.customerId}/email-verification`), 409, 'NOTHING_TO_VERIFY');
    // a new customer created by an operator starts unverified
    const created = body(await h.call('POST', '/v1/customers', { body: { name: 'New Person', email: `created-${me.email}` } }));
    expect(created.emailVerifiedAt).toBeNull();
    expect(await h.ctx.emailVerification.deliverableAddress(created.id as number)).toBeUndefined();
    expect(await h.ctx.emailVerification.deliverableAddress(me.customerId)).toBe(`op-${me.email}`);
  });

  it('erasure deletes a pending address and its code', async () => {
    const me = await session(h);
    await h.call('PATCH', '/v1/self', { key: me.token, body: { email: `gone-${me.email}` } });
    expect((await h.call('POST', `/v1/customers/${me.customerId}/erasure`)).statusCode).toBe(200);
    const { rows } = await h.s.pool.query('select count(*)::int as n from email_verifications where customer_id = $1', [me.customerId]);
    expect(rows[0].n).toBe(0);
  });
});

describe('the personal-data export needs a fresh password', () => {
  it('refuses a session whose password is older than five minutes; the password entered again gives it', async () => {
    const me = await session(h);
    expect((await h.call('GET', '/v1/self/export', { key: me.token })).statusCode).toBe(200); // just logged in
    const key = `${h.s.namespace}:api:session:${createHash('sha256').update(me.token).digest('hex')}`;
    await h.s.redis.hset(key, 'auth', Date.now() - 301_000);
    expectProblem(expect, await h.call('GET', '/v1/self/export', { key: me.token }), 403, 'REAUTHENTICATION_REQUIRED');
    expectProblem(expect, await h.call('POST', '/v1/self/export', { key: me.token, body: { password: 'wrong password' } }), 403, 'WRONG_CREDENTIAL');
    const r = await h.call('POST', '/v1/self/export', { key: me.token, body: { password: PASSWORD } });
    expect(r.statusCode).toBe(200);
    expect(body(r).customer).toMatchObject({ id: me.customerId });
    expect((await h.call('GET', '/v1/self/export', { key: me.token })).statusCode).toBe(200); // fresh again
    const n = (await h.s.pool.query("select count(*)::int as n from audit_log where action = 'customer.export' and subject_customer_id = $1", [me.customerId]))
      .rows[0].n;
    expect(n).toBe(3);
  });

  it('password guesses through the export count towards the login throttle', async () => {
    const me = await session(h);
    for (let i = 0; i < 5; i++) await h.call('POST', '/v1/self/export', { key: me.token, body: { password: `wrong ${i}` } });
    expectProblem(expect, await h.call('POST', '/v1/self/export', { key: me.token, body: { password: PASSWORD } }), 429, 'LOGIN_THROTTLED');
  });
});
