import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { MarketingList } from '../../accounts/consents.ts';
import { validateChanges } from '../../accounts/customer-directory.ts';
import type { CustomerChanges } from '../../accounts/customer-directory.ts';
import type { PendingEmail } from '../../accounts/email-verification.ts';
import { AppError } from '../../errors.ts';
import { eraseCustomer } from '../../privacy/erasure.ts';
import { customerOf } from '../api-context.ts';
import { customerMayAct } from '../customer-access.ts';
import type { ApiContext } from '../api-context.ts';
import {
  account,
  callRecord,
  cdrQuery,
  customer,
  customerFields,
  dateTime,
  e164,
  liveBalance,
  nonNegativeMicros,
  nullableDateTime,
  page,
  positiveMicros,
} from '../schemas.ts';
import { digestAlgorithmsBody, rectify } from './accounts.ts';
import type { SipDigestSetting } from '../../accounts/account-service.ts';
import { audit } from './common.ts';
import { balanceOf, cdrQuerySchema, csvResponse, listCdrs, sendCdrCsv } from './money.ts';
import type { CdrQuery } from './money.ts';
import { consentsSchema, erasureSchema, exportSchema, listParams, restrictionSchema } from './privacy.ts';
import { NO_CARD_NUMBER } from '../card-number-keyword.ts';

const TAG = ['self-care'];
/** How long a password entered at login or again counts as fresh for the personal-data export. */
export const REAUTH_SECONDS = 300;
const myLiveCall = {
  type: 'object',
  properties: {
    state: { type: 'string', enum: ['ringing', 'answered'] },
    dialledNumber: { type: ['string', 'null'] },
    startedAt: nullableDateTime,
    answeredAt: nullableDateTime,
  },
} as const;

/** The customer's own calls in progress, without internal identifiers. */
export async function myLiveCalls(ctx: ApiContext, accountId: number) {
  return (await ctx.balances.listOpenCalls(accountId)).map((c) => ({
    state: c.answeredAt === null ? ('ringing' as const) : ('answered' as const),
    dialledNumber: c.dialledNumber,
    startedAt: c.createdAt === null ? null : new Date(c.createdAt).toISOString(),
    answeredAt: c.answeredAt === null ? null : new Date(c.answeredAt).toISOString(),
  }));
}
const password = { type: 'string', minLength: 1, maxLength: 200 } as const;
const autoTopUp = {
  type: 'object',
  properties: {
    enabled: { type: 'boolean' },
    threshold: { type: 'integer' },
    amount: { type: 'integer' },
    provider: { type: 'string' },
    hasPaymentToken: { type: 'boolean' },
    tokenSetAt: nullableDateTime,
    lastChargeAt: nullableDateTime,
    lastResult: { type: ['string', 'null'] },
    recentCharges: {
      type: 'array',
      description: 'the last charge attempts, newest first (result: charged, declined, invalid_token, unavailable, credit_failed)',
      items: { type: 'object', properties: { at: dateTime, amount: { type: 'integer' }, result: { type: 'string' } } },
    },
  },
} as const;
const clis = {
  type: 'object',
  properties: {
    authorised: { type: 'array', items: { type: 'object', properties: { cli: { type: 'string' }, verifiedAt: nullableDateTime, createdAt: dateTime } } },
    pending: {
      type: 'array',
      description: 'origin self_care: awaiting an operator; origin ivr: registered after a PIN login at the access number, awaiting my confirmation',
      items: {
        type: 'object',
        properties: { id: { type: 'integer' }, cli: { type: 'string' }, origin: { type: 'string', enum: ['self_care', 'ivr'] }, requestedAt: dateTime },
      },
    },
  },
} as const;

/**
 * A password or PIN entered within a session (to change the PIN, the password or a SIP password, or to erase):
 * counted towards the login throttle of the account's username and of the address before it is
 * checked, so a session (perhaps stolen) gives no more guesses at the password than the login does.
 */
async function proveCredential(ctx: ApiContext, req: FastifyRequest, check: () => Promise<boolean>): Promise<void> {
  const me = customerOf(req);
  const username = (await ctx.accounts.get(me.accountId)).username ?? `account:${me.accountId}`;
  if (!(await ctx.sessions.loginAttempt(username, req.ip))) throw new AppError('LOGIN_THROTTLED');
  if (!(await check())) throw new AppError('WRONG_CREDENTIAL');
  await ctx.sessions.loginSucceeded(username, req.ip);
}

/**
 * Customers: log in with the account's username and password, then act on their own account
 * only. No route takes an account or customer id: the session decides whose data it is.
 */
export function selfCareRoutes(app: FastifyInstance, ctx: ApiContext): void {
  /** The export goes only to this session, and only with a freshly entered password (docs/privacy.md). */
  const exportMine = async (req: FastifyRequest) => {
    const me = customerOf(req);
    const doc = await ctx.personalData.export(me.customerId);
    await audit(ctx, req, 'customer.export', { customerId: me.customerId });
    return doc;
  };

  app.post<{ Body: { username: string; password: string } }>(
    '/v1/self/login',
    {
      config: { access: 'public' },
      schema: {
        tags: TAG,
        summary: 'Log in; failed logins are throttled per username and per client address',
        body: {
          type: 'object',
          required: ['username', 'password'],
          additionalProperties: false,
          properties: { username: { type: 'string', minLength: 1, maxLength: 64, ...NO_CARD_NUMBER }, password },
        },
        response: {
          200: {
            type: 'object',
            required: ['token', 'expiresAt'],
            properties: { token: { type: 'string' }, expiresAt: dateTime, accountId: { type: 'integer' } },
          },
        },
      },
    },
    async (req) => {
      const { username, password: pw } = req.body;
      if (!(await ctx.sessions.loginAttempt(username, req.ip))) throw new AppError('LOGIN_THROTTLED');
      const who = await ctx.accounts.verifyLogin(username, pw);
      if (!who) throw new AppError('LOGIN_FAILED');
      await ctx.sessions.loginSucceeded(username, req.ip);
      if (!(await customerMayAct(ctx, who))) throw new AppError('ACCOUNT_SUSPENDED');
      const s = await ctx.sessions.create(who);
      await ctx.audit.write({ actor: `customer:${who.customerId}`, action: 'self.login', customerId: who.customerId, accountId: who.accountId });
      return { ...s, accountId: who.accountId };
    },
  );

  app.post(
    '/v1/self/logout',
    {
      config: { access: 'customer' },
      schema: { tags: TAG, summary: 'End this session', response: { 200: { type: 'object', properties: { ok: { type: 'boolean' } } } } },
    },
    async (req) => {
      await ctx.sessions.end(customerOf(req).token);
      return { ok: true };
    },
  );

  app.get(
    '/v1/self',
    {
      config: { access: 'customer' },
      schema: { tags: TAG, summary: 'My contact data and account', response: { 200: { type: 'object', properties: { customer, account } } } },
    },
    async (req) => {
      const me = customerOf(req);
      return { customer: await ctx.directory.get(me.customerId), account: await ctx.accounts.get(me.accountId) };
    },
  );

  app.patch<{ Body: CustomerChanges }>(
    '/v1/self',
    {
      config: { access: 'customer' },
      schema: {
        tags: TAG,
        summary: 'Correct my contact data (rectification; audited). A new e-mail address waits for its verification code (pendingEmail)',
        description:
          'A new address does not replace the current one until it is confirmed with POST /v1/self/email/verify and the code sent to it ' +
          '(emailDelivery sent: by e-mail; by_support: the service sends it on request, docs/privacy.md). Removing the address (null) takes effect at once.',
        body: { type: 'object', minProperties: 1, additionalProperties: false, properties: customerFields },
        response: {
          200: { ...customer, properties: { ...customer.properties, emailDelivery: { type: 'string', enum: ['sent', 'by_support'] } } },
        },
      },
    },
    async (req) => {
      const me = customerOf(req);
      const { email, ...rest } = req.body;
      const current = await ctx.directory.get(me.customerId);
      if (current.erasedAt) throw new AppError('CUSTOMER_ERASED');
      validateChanges(req.body);
      const immediate: CustomerChanges = email === null ? { ...rest, email: null } : rest;
      if (Object.keys(immediate).length > 0) {
        await rectify(ctx, me.customerId, immediate, (fields) => audit(ctx, req, 'customer.rectify', { customerId: me.customerId }, { fields }));
      }
      let emailDelivery: PendingEmail['delivery'] | undefined;
      if (typeof email === 'string' && !(email.toLowerCase() === current.email?.toLowerCase() && current.emailVerifiedAt)) {
        emailDelivery = (await ctx.emailVerification.request(me.customerId, email, me.actor)).delivery;
        await audit(ctx, req, 'email.change_requested', { customerId: me.customerId }, { delivery: emailDelivery });
      }
      return { ...(await ctx.directory.get(me.customerId)), ...(emailDelivery ? { emailDelivery } : {}) };
    },
  );

  app.post<{ Body: { token: string } }>(
    '/v1/self/email/verify',
    {
      config: { access: 'customer' },
      schema: {
        tags: TAG,
        summary: 'Confirm my new (or unverified) e-mail address with the code sent to it; single use, valid 24 hours',
        body: { type: 'object', required: ['token'], additionalProperties: false, properties: { token: { type: 'string', minLength: 1, maxLength: 100 } } },
        response: { 200: customer },
      },
    },
    async (req) => {
      const me = customerOf(req);
      await ctx.emailVerification.confirm(me.customerId, req.body.token.trim());
      await audit(ctx, req, 'email.verified', { customerId: me.customerId });
      return ctx.directory.get(me.customerId);
    },
  );

  app.get(
    '/v1/self/balance',
    {
      config: { access: 'customer' },
      schema: { tags: TAG, summary: 'My live balance', response: { 200: liveBalance } },
    },
    async (req) => balanceOf(ctx, customerOf(req).accountId),
  );

  app.get(
    '/v1/self/calls/live',
    {
      config: { access: 'customer' },
      schema: {
        tags: TAG,
        summary: 'My calls in progress (ringing or answered); the number is known once answered',
        response: { 200: { type: 'object', properties: { items: { type: 'array', items: myLiveCall } } } },
      },
    },
    async (req) => ({ items: await myLiveCalls(ctx, customerOf(req).accountId) }),
  );

  app.get<{ Querystring: CdrQuery }>(
    '/v1/self/cdrs',
    {
      config: { access: 'customer' },
      schema: { tags: TAG, summary: 'My calls, newest first', querystring: cdrQuerySchema, response: { 200: page(callRecord) } },
    },
    async (req) => listCdrs(ctx.records, req.query, customerOf(req).accountId),
  );

  app.get<{ Querystring: Omit<CdrQuery, 'limit' | 'cursor'> }>(
    '/v1/self/cdrs/export',
    {
      config: { access: 'customer' },
      schema: {
        tags: TAG,
        summary: 'My calls as CSV',
        querystring: { type: 'object', additionalProperties: false, properties: cdrQuery },
        response: csvResponse,
      },
    },
    async (req, reply) => sendCdrCsv(reply, ctx.records, { ...req.query, limit: 1000 }, customerOf(req).accountId, 'my-calls.csv'),
  );

  app.put<{ Body: { currentPin?: string; password?: string } }>(
    '/v1/self/pin',
    {
      config: { access: 'customer' },
      schema: {
        tags: TAG,
        summary:
          'Get a new random PIN (current PIN or password required); it is in this response only. The old PIN and the caller IDs registered with it at the IVR stop working',
        description:
          'PINs are assigned by the system, never chosen: an answer to "is this PIN free?" would tell a customer another account\'s PIN (docs/security.md).',
        body: { type: 'object', additionalProperties: false, properties: { currentPin: { type: 'string', maxLength: 12 }, password } },
        response: { 200: { type: 'object', required: ['pin'], properties: { pin: { type: 'string' } } } },
      },
    },
    async (req) => {
      const me = customerOf(req);
      const b = req.body;
      await proveCredential(
        ctx,
        req,
        async () =>
          (b.currentPin !== undefined && (await ctx.accounts.pinMatches(me.accountId, b.currentPin))) ||
          (b.password !== undefined && (await ctx.accounts.passwordMatches(me.accountId, b.password))),
      );
      const a = await ctx.accounts.get(me.accountId);
      if (a.status === 'closed') throw new AppError('ACCOUNT_CLOSED');
      const issued = await ctx.accounts.issuePin(me.accountId);
      await audit(ctx, req, 'pin.change', { customerId: me.customerId, accountId: me.accountId });
      await ctx.notices.credentialChanged(me.accountId, 'PIN', randomUUID());
      return { pin: issued };
    },
  );

  app.post<{ Body: { token: string; newPassword: string } }>(
    '/v1/self/password-link',
    {
      config: { access: 'public' },
      schema: {
        tags: TAG,
        summary: "Choose my password with the one-time link of my welcome mail (the link's token); answers the user name to log in with",
        body: {
          type: 'object',
          required: ['token', 'newPassword'],
          additionalProperties: false,
          properties: { token: { type: 'string', pattern: '^pl_[A-Za-z0-9_-]{43}$' }, newPassword: { type: 'string', minLength: 1, maxLength: 200 } },
        },
        response: { 200: { type: 'object', required: ['username'], properties: { username: { type: 'string' } } } },
      },
    },
    async (req) => {
      const r = await ctx.passwordLinks.use(req.body.token, req.body.newPassword);
      await ctx.sessions.endAll(r.accountId);
      const a = await ctx.accounts.get(r.accountId);
      await ctx.audit.write({ actor: `link:${r.accountId}`, action: 'password.set_by_link', customerId: a.customerId, accountId: r.accountId });
      await ctx.notices.credentialChanged(r.accountId, 'password', randomUUID());
      return { username: r.username };
    },
  );

  app.put<{ Body: { currentPassword: string; newPassword: string } }>(
    '/v1/self/password',
    {
      config: { access: 'customer' },
      schema: {
        tags: TAG,
        summary: 'Change my password (the current one is required; trivial and common passwords are refused); my other sessions end',
        body: {
          type: 'object',
          required: ['currentPassword', 'newPassword'],
          additionalProperties: false,
          properties: { currentPassword: password, newPassword: { type: 'string', minLength: 1, maxLength: 200 } },
        },
        response: { 200: { type: 'object', properties: { ok: { type: 'boolean' } } } },
      },
    },
    async (req) => {
      const me = customerOf(req);
      await proveCredential(ctx, req, () => ctx.accounts.passwordMatches(me.accountId, req.body.currentPassword));
      await ctx.accounts.setPassword(me.accountId, req.body.newPassword);
      await ctx.sessions.endAll(me.accountId, me.token);
      await audit(ctx, req, 'password.change', { customerId: me.customerId, accountId: me.accountId });
      await ctx.notices.credentialChanged(me.accountId, 'password', randomUUID());
      return { ok: true };
    },
  );

  app.put<{ Params: { username: string }; Body: { currentPassword: string; password: string } }>(
    '/v1/self/sip-credentials/:username',
    {
      config: { access: 'customer' },
      schema: {
        tags: TAG,
        summary: 'Set a new password for one of my SIP usernames (my account password required; trivial and common passwords are refused)',
        description: "Another account's SIP username is answered as one that does not exist.",
        params: {
          type: 'object',
          required: ['username'],
          additionalProperties: false,
          properties: { username: { type: 'string', pattern: '^[A-Za-z0-9_.-]{3,64}$' } },
        },
        body: {
          type: 'object',
          required: ['currentPassword', 'password'],
          additionalProperties: false,
          properties: { currentPassword: password, password: { type: 'string', minLength: 1, maxLength: 200 } },
        },
        response: { 200: { type: 'object', properties: { username: { type: 'string' }, realm: { type: 'string' } } } },
      },
    },
    async (req) => {
      const me = customerOf(req);
      await proveCredential(ctx, req, () => ctx.accounts.passwordMatches(me.accountId, req.body.currentPassword));
      const cred = (await ctx.accounts.listSipCredentials(me.accountId)).find((c) => c.username === req.params.username);
      if (!cred) throw new AppError('NOT_FOUND', 'no such SIP username on this account');
      const a = await ctx.accounts.get(me.accountId);
      if (a.status === 'closed') throw new AppError('ACCOUNT_CLOSED');
      await ctx.accounts.setSipPassword(me.accountId, cred.username, cred.realm, req.body.password);
      await audit(ctx, req, 'sip_credentials.set', { customerId: me.customerId, accountId: me.accountId });
      return { username: cred.username, realm: cred.realm };
    },
  );

  app.put<{ Params: { username: string }; Body: { digestAlgorithms: SipDigestSetting } }>(
    '/v1/self/sip-credentials/:username/digest-algorithms',
    {
      config: { access: 'customer' },
      schema: {
        tags: TAG,
        summary: "Set the digest challenge of one of my devices ('auto', 'MD5' for a phone that fails on SHA-256, 'SHA-256,MD5')",
        description: "Another account's SIP username is answered as one that does not exist.",
        params: {
          type: 'object',
          required: ['username'],
          additionalProperties: false,
          properties: { username: { type: 'string', pattern: '^[A-Za-z0-9_.-]{3,64}$' } },
        },
        body: digestAlgorithmsBody,
        response: { 200: { type: 'object', properties: { username: { type: 'string' }, digestAlgorithms: { type: 'string' } } } },
      },
    },
    async (req) => {
      const me = customerOf(req);
      await ctx.accounts.setSipDigestAlgorithms(me.accountId, req.params.username, req.body.digestAlgorithms);
      await audit(ctx, req, 'sip_credentials.digest_algorithms', { customerId: me.customerId, accountId: me.accountId });
      return { username: req.params.username, digestAlgorithms: req.body.digestAlgorithms };
    },
  );

  app.get(
    '/v1/self/clis',
    {
      config: { access: 'customer' },
      schema: { tags: TAG, summary: 'My caller IDs: authorised, and awaiting operator approval', response: { 200: clis } },
    },
    async (req) => {
      const me = customerOf(req);
      return { authorised: await ctx.accounts.listClis(me.accountId), pending: await ctx.cliRequests.ofAccount(me.accountId) };
    },
  );

  app.post<{ Body: { cli: string } }>(
    '/v1/self/clis',
    {
      config: { access: 'customer' },
      schema: {
        tags: TAG,
        summary: 'Ask for a caller ID to be authorised for PIN-less calls (an operator approves it)',
        description: 'The answer is the same whether or not the number is held by another account: that is never revealed (docs/security.md).',
        body: { type: 'object', required: ['cli'], additionalProperties: false, properties: { cli: e164 } },
        response: {
          202: {
            type: 'object',
            properties: { id: { type: 'integer' }, cli: { type: 'string' }, requestedAt: dateTime, status: { type: 'string', enum: ['pending_approval'] } },
          },
        },
      },
    },
    async (req, reply) => {
      const me = customerOf(req);
      const a = await ctx.accounts.get(me.accountId);
      if (a.status === 'closed') throw new AppError('ACCOUNT_CLOSED');
      const r = await ctx.cliRequests.request(me.accountId, req.body.cli);
      await audit(ctx, req, 'cli.request', { customerId: me.customerId, accountId: me.accountId });
      return reply.status(202).send({ ...r, status: 'pending_approval' });
    },
  );

  app.post<{ Params: { cli: string } }>(
    '/v1/self/clis/:cli/confirm',
    {
      config: { access: 'customer' },
      schema: {
        tags: TAG,
        summary: 'Confirm a caller ID registered at the access number after a PIN login; until then it does not log in PIN-less',
        description: 'status authorised: PIN-less calls from it now work; pending_approval: an operator will look at it first.',
        params: { type: 'object', required: ['cli'], additionalProperties: false, properties: { cli: e164 } },
        response: { 200: { type: 'object', properties: { cli: { type: 'string' }, status: { type: 'string', enum: ['authorised', 'pending_approval'] } } } },
      },
    },
    async (req) => {
      const me = customerOf(req);
      const a = await ctx.accounts.get(me.accountId);
      if (a.status === 'closed') throw new AppError('ACCOUNT_CLOSED');
      const status = await ctx.cliRequests.confirm(me.accountId, req.params.cli);
      await audit(ctx, req, 'cli.confirm', { customerId: me.customerId, accountId: me.accountId }, { status });
      return { cli: req.params.cli, status };
    },
  );

  app.delete<{ Params: { cli: string } }>(
    '/v1/self/clis/:cli',
    {
      config: { access: 'customer' },
      schema: {
        tags: TAG,
        summary: 'Remove one of my caller IDs, or withdraw a pending request',
        params: { type: 'object', required: ['cli'], additionalProperties: false, properties: { cli: e164 } },
        response: { 200: { type: 'object', properties: { removed: { type: 'boolean' } } } },
      },
    },
    async (req) => {
      const me = customerOf(req);
      if (!(await ctx.cliRequests.withdraw(me.accountId, req.params.cli))) await ctx.accounts.removeCli(me.accountId, req.params.cli);
      await audit(ctx, req, 'cli.remove', { customerId: me.customerId, accountId: me.accountId });
      return { removed: true };
    },
  );

  app.get(
    '/v1/self/auto-topup',
    {
      config: { access: 'customer' },
      schema: { tags: TAG, summary: 'My auto top-up settings (the payment token is never shown)', response: { 200: autoTopUp } },
    },
    async (req) => ctx.autoTopUp.get(customerOf(req).accountId),
  );

  app.put<{ Body: { enabled: boolean; threshold: number; amount: number; paymentToken?: string } }>(
    '/v1/self/auto-topup',
    {
      config: { access: 'customer' },
      schema: {
        tags: TAG,
        summary: 'Set auto top-up: when available credit falls below threshold, charge amount to the payment-provider token',
        body: {
          type: 'object',
          required: ['enabled', 'threshold', 'amount'],
          additionalProperties: false,
          properties: {
            enabled: { type: 'boolean' },
            threshold: nonNegativeMicros,
            amount: positiveMicros,
            paymentToken: {
              type: 'string',
              minLength: 1,
              maxLength: 128,
              description: 'a token from the payment provider; card numbers are refused',
              ...NO_CARD_NUMBER,
            },
          },
        },
        response: { 200: autoTopUp },
      },
    },
    async (req) => {
      const me = customerOf(req);
      const s = await ctx.autoTopUp.set(me.accountId, req.body);
      await audit(
        ctx,
        req,
        'auto_topup.set',
        { customerId: me.customerId, accountId: me.accountId },
        { enabled: req.body.enabled, tokenChanged: req.body.paymentToken !== undefined },
      );
      return s;
    },
  );

  const lowBalanceAlert = {
    type: 'object',
    required: ['threshold'],
    properties: {
      threshold: { anyOf: [positiveMicros, { type: 'null' }], description: 'warn by e-mail when available credit falls below this (null: never)' },
    },
  } as const;
  app.get(
    '/v1/self/low-balance-alert',
    {
      config: { access: 'customer' },
      schema: { tags: TAG, summary: 'My low-balance warning threshold', response: { 200: lowBalanceAlert } },
    },
    async (req) => ctx.lowBalanceAlerts.get(customerOf(req).accountId),
  );

  app.put<{ Body: { threshold: number | null } }>(
    '/v1/self/low-balance-alert',
    {
      config: { access: 'customer' },
      schema: {
        tags: TAG,
        summary: 'Be warned by e-mail, once per crossing, when my available credit falls below a threshold (null: no warning)',
        body: { ...lowBalanceAlert, additionalProperties: false },
        response: { 200: lowBalanceAlert },
      },
    },
    async (req) => {
      const me = customerOf(req);
      const r = await ctx.lowBalanceAlerts.set(me.accountId, req.body.threshold);
      await audit(ctx, req, 'low_balance_alert.set', { customerId: me.customerId, accountId: me.accountId }, { threshold: req.body.threshold });
      return r;
    },
  );

  app.get(
    '/v1/self/consents',
    {
      config: { access: 'customer' },
      schema: { tags: TAG, summary: 'My marketing preferences per e-mail list', response: { 200: consentsSchema } },
    },
    async (req) => ({ items: await ctx.consents.of(customerOf(req).customerId) }),
  );

  app.put<{ Params: { list: MarketingList }; Body: { optedIn: boolean } }>(
    '/v1/self/consents/:list',
    {
      config: { access: 'customer' },
      schema: {
        tags: TAG,
        summary: 'Opt in to or out of an e-mail list',
        params: listParams,
        body: { type: 'object', required: ['optedIn'], additionalProperties: false, properties: { optedIn: { type: 'boolean' } } },
        response: { 200: consentsSchema },
      },
    },
    async (req) => {
      const me = customerOf(req);
      return { items: await ctx.consents.set(me.customerId, req.params.list, req.body.optedIn, `customer:${me.customerId}`, 'person') };
    },
  );

  app.get(
    '/v1/self/export',
    {
      config: { access: 'customer' },
      schema: {
        tags: TAG,
        summary: `Everything held about me, as one JSON document; only within ${REAUTH_SECONDS / 60} minutes of entering my password (login or POST)`,
        response: { 200: exportSchema },
      },
    },
    async (req) => {
      const me = customerOf(req);
      if (Date.now() - me.authAt > REAUTH_SECONDS * 1000) throw new AppError('REAUTHENTICATION_REQUIRED');
      return exportMine(req);
    },
  );

  app.post<{ Body: { password: string } }>(
    '/v1/self/export',
    {
      config: { access: 'customer' },
      schema: {
        tags: TAG,
        summary: 'Everything held about me, as one JSON document (password entered again; counts towards the login throttle)',
        body: { type: 'object', required: ['password'], additionalProperties: false, properties: { password } },
        response: { 200: exportSchema },
      },
    },
    async (req) => {
      const me = customerOf(req);
      const username = (await ctx.accounts.get(me.accountId)).username ?? `account:${me.accountId}`;
      if (!(await ctx.sessions.loginAttempt(username, req.ip))) throw new AppError('LOGIN_THROTTLED');
      if (!(await ctx.accounts.passwordMatches(me.accountId, req.body.password))) throw new AppError('WRONG_CREDENTIAL');
      await ctx.sessions.loginSucceeded(username, req.ip);
      await ctx.sessions.reauthenticated(me.token);
      return exportMine(req);
    },
  );

  app.post<{ Body: { password: string } }>(
    '/v1/self/erasure',
    {
      config: { access: 'customer' },
      schema: {
        tags: TAG,
        summary: 'Erase my personal data and close my accounts (password required); this session ends',
        body: { type: 'object', required: ['password'], additionalProperties: false, properties: { password } },
        response: { 200: erasureSchema },
      },
    },
    async (req) => {
      const me = customerOf(req);
      await proveCredential(ctx, req, () => ctx.accounts.passwordMatches(me.accountId, req.body.password));
      return eraseCustomer({ ...ctx, endSessions: (id) => ctx.sessions.endAll(id) }, me.customerId, me.actor);
    },
  );

  app.get(
    '/v1/self/restriction',
    {
      config: { access: 'customer' },
      schema: { tags: TAG, summary: 'Whether processing of my data is restricted', response: { 200: restrictionSchema } },
    },
    async (req) => ctx.restriction.get(customerOf(req).customerId),
  );

  app.post<{ Body: { suspendAccount?: boolean } }>(
    '/v1/self/restriction',
    {
      config: { access: 'customer' },
      schema: {
        tags: TAG,
        summary: 'Restrict processing of my data (no marketing; my account suspended too if I choose)',
        body: { type: 'object', additionalProperties: false, properties: { suspendAccount: { type: 'boolean', default: false } } },
        response: { 200: restrictionSchema },
      },
    },
    async (req) => {
      const me = customerOf(req);
      return ctx.restriction.restrict(me.customerId, req.body.suspendAccount ?? false, me.actor);
    },
  );

  app.delete(
    '/v1/self/restriction',
    {
      config: { access: 'customer' },
      schema: { tags: TAG, summary: 'Lift the restriction', response: { 200: restrictionSchema } },
    },
    async (req) => {
      const me = customerOf(req);
      return ctx.restriction.lift(me.customerId, me.actor);
    },
  );
}
