import type { FastifyInstance } from 'fastify';
import { SIP_DIGEST_SETTINGS } from '../../accounts/account-service.ts';
import type { AccountStatus, SipDigestSetting } from '../../accounts/account-service.ts';
import type { CustomerChanges, Customer } from '../../accounts/customer-directory.ts';
import { AppError } from '../../errors.ts';
import { principalOf } from '../api-context.ts';
import type { ApiContext } from '../api-context.ts';
import {
  account,
  accountIdParams,
  currency,
  customer,
  customerFields,
  customerIdParams,
  dateTime,
  decodeCursor,
  e164,
  encodeCursor,
  id,
  isId,
  micros,
  nonNegativeMicros,
  nullableDateTime,
  page,
  pageQuery,
} from '../schemas.ts';
import { audit, mayRead, statedPurpose, withoutRestricted } from './common.ts';
import { NO_CARD_NUMBER } from '../card-number-keyword.ts';

const TAG = ['accounts'];
const cli = { type: 'object', properties: { cli: { type: 'string' }, verifiedAt: nullableDateTime, createdAt: dateTime } } as const;
const cliRequest = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    accountId: { type: 'integer' },
    cli: { type: 'string' },
    requestedAt: dateTime,
    decision: { type: ['string', 'null'] },
    decidedAt: nullableDateTime,
  },
} as const;
const sipUser = { type: 'string', pattern: '^[A-Za-z0-9_.-]{3,64}$' } as const;
/** The body that sets a SIP username's digest challenge (AccountService.setSipDigestAlgorithms). */
export const digestAlgorithmsBody = {
  type: 'object',
  required: ['digestAlgorithms'],
  additionalProperties: false,
  properties: { digestAlgorithms: { type: 'string', enum: [...SIP_DIGEST_SETTINGS] } },
} as const;
const password = { type: 'string', minLength: 10, maxLength: 200 } as const;

/** Operators: customers, accounts, PINs, caller IDs and SIP credentials. */
export function accountRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const nextCursor = <T extends { id: number }>(rows: T[], limit: number) => (rows.length === limit ? encodeCursor(rows.at(-1)!.id) : null);

  app.post<{ Body: CustomerChanges & { name: string } }>(
    '/v1/customers',
    {
      config: { access: 'admin' },
      schema: {
        tags: TAG,
        summary: 'Create a customer',
        body: { type: 'object', required: ['name'], additionalProperties: false, properties: customerFields },
        response: { 201: customer },
      },
    },
    async (req, reply) => {
      const customerId = await ctx.accounts.createCustomer(req.body).catch((err: unknown) => {
        if ((err as { code?: string }).code === '23505') throw new AppError('ALREADY_EXISTS', 'another customer has that e-mail address');
        throw err;
      });
      await audit(ctx, req, 'customer.create', { customerId });
      return reply.status(201).send(await ctx.directory.get(customerId));
    },
  );

  app.get<{ Querystring: { email?: string; cursor?: string; limit: number } }>(
    '/v1/customers',
    {
      config: { access: 'read' },
      schema: {
        tags: TAG,
        summary: 'List or search customers (by e-mail)',
        querystring: { type: 'object', additionalProperties: false, properties: { email: { type: 'string', maxLength: 254 }, ...pageQuery } },
        response: { 200: page(customer) },
      },
    },
    async (req) => {
      const after = decodeCursor(req.query.cursor, isId);
      const rows = await ctx.directory.search({
        ...(req.query.email ? { email: req.query.email } : {}),
        ...(after ? { after } : {}),
        limit: req.query.limit,
        withoutRestricted: withoutRestricted(req),
      });
      await ctx.audit.writeMany(
        principalOf(req).actor,
        'customer.list',
        rows.map((c) => ({ customerId: c.id, accountId: null })),
        { search: req.query.email ? ['email'] : [], ...(statedPurpose(req) ? { purpose: statedPurpose(req) } : {}) },
      );
      return { items: rows, nextCursor: nextCursor(rows, req.query.limit) };
    },
  );

  app.get<{ Params: { customerId: number } }>(
    '/v1/customers/:customerId',
    {
      config: { access: 'read' },
      schema: { tags: TAG, summary: 'Read a customer', params: customerIdParams, response: { 200: customer } },
    },
    async (req) => {
      const c = await ctx.directory.get(req.params.customerId);
      await mayRead(ctx, req, { customerId: c.id });
      await audit(ctx, req, 'customer.read', { customerId: c.id });
      return c;
    },
  );

  app.patch<{ Params: { customerId: number }; Body: CustomerChanges }>(
    '/v1/customers/:customerId',
    {
      config: { access: 'admin' },
      schema: {
        tags: TAG,
        summary: "Update (rectify) a customer's contact data; audited",
        params: customerIdParams,
        body: { type: 'object', minProperties: 1, additionalProperties: false, properties: customerFields },
        response: { 200: customer },
      },
    },
    async (req) =>
      rectify(ctx, req.params.customerId, req.body, (changed) =>
        audit(ctx, req, 'customer.rectify', { customerId: req.params.customerId }, { fields: changed }),
      ),
  );

  app.post<{ Params: { customerId: number } }>(
    '/v1/customers/:customerId/close',
    {
      config: { access: 'admin' },
      schema: {
        tags: TAG,
        summary: 'Close a customer and all their accounts (starts the contact-data retention period)',
        params: customerIdParams,
        response: { 200: customer },
      },
    },
    async (req) => {
      await ctx.directory.get(req.params.customerId);
      for (const a of await ctx.directory.accountsOf(req.params.customerId)) {
        if (a.status !== 'closed') await ctx.accounts.setStatus(a.id, 'closed');
        await ctx.sessions.endAll(a.id);
      }
      await ctx.directory.markClosed(req.params.customerId);
      await audit(ctx, req, 'customer.close', { customerId: req.params.customerId });
      return ctx.directory.get(req.params.customerId);
    },
  );

  app.get<{ Params: { customerId: number } }>(
    '/v1/customers/:customerId/accounts',
    {
      config: { access: 'read' },
      schema: {
        tags: TAG,
        summary: "A customer's accounts",
        params: customerIdParams,
        response: { 200: { type: 'object', properties: { items: { type: 'array', items: account } } } },
      },
    },
    async (req) => {
      await ctx.directory.get(req.params.customerId);
      await audit(ctx, req, 'account.list', { customerId: req.params.customerId });
      return { items: await ctx.directory.accountsOf(req.params.customerId) };
    },
  );

  app.post<{
    Body: {
      customerId: number;
      kind?: 'calling_account' | 'chatpin';
      currency: string;
      tariffId?: string | null;
      maxConcurrentCalls?: number;
      dailySpendCap?: number | null;
      creditFloor?: number;
      country?: string;
      username?: string | null;
      password?: string | null;
      number?: string;
    };
  }>(
    '/v1/accounts',
    {
      config: { access: 'admin' },
      schema: {
        tags: TAG,
        summary: 'Open an account for a customer',
        body: {
          type: 'object',
          required: ['customerId', 'currency'],
          additionalProperties: false,
          properties: {
            customerId: id,
            kind: { type: 'string', enum: ['calling_account', 'chatpin'] },
            currency,
            tariffId: { type: ['string', 'null'], pattern: '^[A-Za-z0-9_.-]{1,64}$', ...NO_CARD_NUMBER },
            maxConcurrentCalls: { type: 'integer', minimum: 0, maximum: 1000 },
            dailySpendCap: { ...nonNegativeMicros, type: ['integer', 'null'] },
            creditFloor: micros,
            country: { type: 'string', pattern: '^[A-Z]{2}$' },
            username: { type: ['string', 'null'], pattern: '^[A-Za-z0-9_.@-]{3,64}$', ...NO_CARD_NUMBER },
            password: { ...password, type: ['string', 'null'] },
            number: { type: 'string', pattern: '^[0-9]{6,16}$', ...NO_CARD_NUMBER },
          },
        },
        response: { 201: account },
      },
    },
    async (req, reply) => {
      const c = await ctx.directory.get(req.body.customerId);
      if (c.erasedAt || c.closedAt) throw new AppError(c.erasedAt ? 'CUSTOMER_ERASED' : 'ACCOUNT_CLOSED', 'the customer is closed');
      const a = await ctx.accounts.createAccount(req.body);
      await audit(ctx, req, 'account.create', { customerId: a.customerId, accountId: a.id });
      // the welcome mail: no password in it, a one-time link to choose one
      const accessNumbers = (await ctx.routing.accessNumbers()).map((n) => n.number);
      await ctx.notices.welcome(a.id, accessNumbers, (sentTo) => ctx.passwordLinks.issue(a.id, sentTo));
      return reply.status(201).send(a);
    },
  );

  app.get<{ Querystring: { number?: string; email?: string; cli?: string; sipUsername?: string; customerId?: number; cursor?: string; limit: number } }>(
    '/v1/accounts',
    {
      config: { access: 'read' },
      schema: {
        tags: TAG,
        summary: 'List or search accounts by number, e-mail, caller ID, SIP username or customer',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            number: { type: 'string', pattern: '^[0-9]{1,16}$' },
            email: { type: 'string', maxLength: 254 },
            cli: e164,
            sipUsername: sipUser,
            customerId: id,
            ...pageQuery,
          },
        },
        response: { 200: page(account) },
      },
    },
    async (req) => {
      const { cursor, limit, ...filter } = req.query;
      const after = decodeCursor(cursor, isId);
      const rows = await ctx.directory.searchAccounts({ ...filter, ...(after ? { after } : {}), limit });
      await ctx.audit.writeMany(
        principalOf(req).actor,
        'account.list',
        rows.map((a) => ({ customerId: a.customerId, accountId: a.id })),
        { search: Object.keys(filter) },
      );
      return { items: rows, nextCursor: nextCursor(rows, limit) };
    },
  );

  app.get<{ Params: { accountId: number } }>(
    '/v1/accounts/:accountId',
    {
      config: { access: 'read' },
      schema: { tags: TAG, summary: 'Read an account', params: accountIdParams, response: { 200: account } },
    },
    async (req) => {
      const a = await ctx.accounts.get(req.params.accountId);
      await audit(ctx, req, 'account.read', { customerId: a.customerId, accountId: a.id });
      return a;
    },
  );

  app.patch<{
    Params: { accountId: number };
    Body: { tariffId?: string | null; maxConcurrentCalls?: number; dailySpendCap?: number | null; creditFloor?: number };
  }>(
    '/v1/accounts/:accountId',
    {
      config: { access: 'admin' },
      schema: {
        tags: TAG,
        summary: "Change an account's tariff and limits",
        params: accountIdParams,
        body: {
          type: 'object',
          minProperties: 1,
          additionalProperties: false,
          properties: {
            tariffId: { type: ['string', 'null'], pattern: '^[A-Za-z0-9_.-]{1,64}$', ...NO_CARD_NUMBER },
            maxConcurrentCalls: { type: 'integer', minimum: 0, maximum: 1000 },
            dailySpendCap: { ...nonNegativeMicros, type: ['integer', 'null'] },
            creditFloor: micros,
          },
        },
        response: { 200: account },
      },
    },
    async (req) => {
      const a = await ctx.accounts.updateAccount(req.params.accountId, req.body);
      await audit(ctx, req, 'account.update', { customerId: a.customerId, accountId: a.id }, { fields: Object.keys(req.body) });
      return a;
    },
  );

  for (const [verb, status] of [
    ['suspend', 'suspended'],
    ['resume', 'active'],
    ['close', 'closed'],
  ] as const) {
    app.post<{ Params: { accountId: number } }>(
      `/v1/accounts/:accountId/${verb}`,
      {
        config: { access: 'admin' },
        schema: { tags: TAG, summary: `${verb[0]!.toUpperCase()}${verb.slice(1)} an account`, params: accountIdParams, response: { 200: account } },
      },
      async (req) => {
        const current = await ctx.accounts.get(req.params.accountId);
        if (current.status === 'closed' && status !== 'closed') throw new AppError('ACCOUNT_CLOSED');
        const a = current.status === status ? current : await ctx.accounts.setStatus(current.id, status as AccountStatus);
        if (status !== 'active') await ctx.sessions.endAll(a.id); // self-care sessions end with the account (a new login is refused)
        await audit(ctx, req, `account.${verb}`, { customerId: a.customerId, accountId: a.id });
        return a;
      },
    );
  }

  // PINs: issued (shown once), rotated by issuing again, revoked; never readable afterwards.
  app.post<{ Params: { accountId: number } }>(
    '/v1/accounts/:accountId/pin',
    {
      config: { access: 'admin' },
      schema: {
        tags: TAG,
        summary:
          "Issue or rotate the account's PIN, chosen at random (the previous one and the caller IDs registered with it at the IVR are revoked). The PIN is in this response only.",
        params: accountIdParams,
        body: { type: 'object', additionalProperties: false, properties: {} },
        response: { 201: { type: 'object', required: ['accountId', 'pin'], properties: { accountId: { type: 'integer' }, pin: { type: 'string' } } } },
      },
    },
    async (req, reply) => {
      const a = await ctx.accounts.get(req.params.accountId);
      if (a.status === 'closed') throw new AppError('ACCOUNT_CLOSED');
      const issued = await ctx.accounts.issuePin(a.id);
      await audit(ctx, req, 'pin.issue', { customerId: a.customerId, accountId: a.id });
      return reply.status(201).send({ accountId: a.id, pin: issued });
    },
  );

  app.post<{ Params: { accountId: number } }>(
    '/v1/accounts/:accountId/compromised',
    {
      config: { access: 'admin' },
      schema: {
        tags: TAG,
        summary:
          'Suspected compromise: revoke the PIN and the caller IDs registered at the IVR, and end every self-care session (caller IDs an operator approved stay)',
        params: accountIdParams,
        response: {
          200: { type: 'object', properties: { accountId: { type: 'integer' }, pinRevoked: { type: 'boolean' }, callerIdsRevoked: { type: 'integer' } } },
        },
      },
    },
    async (req) => {
      const a = await ctx.accounts.get(req.params.accountId);
      const r = await ctx.accounts.revokeCredentials(a.id);
      await ctx.sessions.endAll(a.id);
      await audit(ctx, req, 'account.compromised', { customerId: a.customerId, accountId: a.id }, r);
      return { accountId: a.id, ...r };
    },
  );

  app.delete<{ Params: { accountId: number } }>(
    '/v1/accounts/:accountId/pin',
    {
      config: { access: 'admin' },
      schema: {
        tags: TAG,
        summary: "Revoke the account's PIN",
        params: accountIdParams,
        response: { 200: { type: 'object', properties: { revoked: { type: 'boolean' } } } },
      },
    },
    async (req) => {
      const a = await ctx.accounts.get(req.params.accountId);
      const revoked = await ctx.accounts.revokePin(a.id);
      await audit(ctx, req, 'pin.revoke', { customerId: a.customerId, accountId: a.id });
      return { revoked };
    },
  );

  app.get<{ Params: { accountId: number } }>(
    '/v1/accounts/:accountId/pins',
    {
      config: { access: 'read' },
      schema: {
        tags: TAG,
        summary: "When the account's PINs were issued and revoked (never the PINs)",
        params: accountIdParams,
        response: {
          200: {
            type: 'object',
            properties: { items: { type: 'array', items: { type: 'object', properties: { createdAt: dateTime, revokedAt: nullableDateTime } } } },
          },
        },
      },
    },
    async (req) => {
      await ctx.accounts.get(req.params.accountId);
      return { items: await ctx.accounts.pinHistory(req.params.accountId) };
    },
  );

  // Caller IDs (authorised CLIs)
  app.get<{ Params: { accountId: number } }>(
    '/v1/accounts/:accountId/clis',
    {
      config: { access: 'read' },
      schema: {
        tags: TAG,
        summary: 'Caller IDs that may call PIN-less',
        params: accountIdParams,
        response: { 200: { type: 'object', properties: { items: { type: 'array', items: cli } } } },
      },
    },
    async (req) => {
      const a = await ctx.accounts.get(req.params.accountId);
      await mayRead(ctx, req, { customerId: a.customerId });
      await audit(ctx, req, 'cli.list', { customerId: a.customerId, accountId: a.id });
      return { items: await ctx.accounts.listClis(a.id) };
    },
  );

  app.post<{ Params: { accountId: number }; Body: { cli: string } }>(
    '/v1/accounts/:accountId/clis',
    {
      config: { access: 'admin' },
      schema: {
        tags: TAG,
        summary: 'Authorise a caller ID (operator-verified)',
        params: accountIdParams,
        body: { type: 'object', required: ['cli'], additionalProperties: false, properties: { cli: e164 } },
        response: { 201: cli },
      },
    },
    async (req, reply) => {
      const a = await ctx.accounts.get(req.params.accountId);
      if (a.status === 'closed') throw new AppError('ACCOUNT_CLOSED');
      await ctx.accounts.addCli(a.id, req.body.cli, true);
      await audit(ctx, req, 'cli.add', { customerId: a.customerId, accountId: a.id });
      return reply.status(201).send((await ctx.accounts.listClis(a.id)).find((c) => c.cli === req.body.cli));
    },
  );

  app.delete<{ Params: { accountId: number; cli: string } }>(
    '/v1/accounts/:accountId/clis/:cli',
    {
      config: { access: 'admin' },
      schema: {
        tags: TAG,
        summary: 'Remove a caller ID',
        params: { type: 'object', required: ['accountId', 'cli'], additionalProperties: false, properties: { accountId: id, cli: e164 } },
        response: { 200: { type: 'object', properties: { removed: { type: 'boolean' } } } },
      },
    },
    async (req) => {
      const a = await ctx.accounts.get(req.params.accountId);
      await ctx.accounts.removeCli(a.id, req.params.cli);
      await audit(ctx, req, 'cli.remove', { customerId: a.customerId, accountId: a.id });
      return { removed: true };
    },
  );

  app.get<{ Querystring: { accountId?: number; cursor?: string; limit: number } }>(
    '/v1/cli-requests',
    {
      config: { access: 'read' },
      schema: {
        tags: TAG,
        summary: 'Caller IDs customers asked for, awaiting approval',
        querystring: { type: 'object', additionalProperties: false, properties: { accountId: id, ...pageQuery } },
        response: { 200: page(cliRequest) },
      },
    },
    async (req) => {
      const after = decodeCursor(req.query.cursor, isId);
      const rows = await ctx.cliRequests.pending({
        ...(req.query.accountId ? { accountId: req.query.accountId } : {}),
        ...(after ? { after } : {}),
        limit: req.query.limit,
      });
      await ctx.audit.writeMany(
        principalOf(req).actor,
        'cli_request.list',
        rows.map((r) => ({ customerId: null, accountId: r.accountId })),
      );
      return { items: rows, nextCursor: nextCursor(rows, req.query.limit) };
    },
  );

  for (const [verb, decision] of [
    ['approve', 'approved'],
    ['reject', 'rejected'],
  ] as const) {
    app.post<{ Params: { requestId: number } }>(
      `/v1/cli-requests/:requestId/${verb}`,
      {
        config: { access: 'admin' },
        schema: {
          tags: TAG,
          summary: `${verb === 'approve' ? 'Approve (authorise the caller ID)' : 'Reject'} a customer's caller-ID request`,
          params: { type: 'object', required: ['requestId'], additionalProperties: false, properties: { requestId: id } },
          response: { 200: cliRequest },
        },
      },
      async (req) => {
        const r = await ctx.cliRequests.decide(req.params.requestId, decision, principalOf(req).actor);
        await audit(ctx, req, `cli_request.${verb}`, { accountId: r.accountId });
        return { ...r, decision, decidedAt: new Date() };
      },
    );
  }

  // SIP credentials: the password is set, only its HA1 digests are stored.
  app.get<{ Params: { accountId: number } }>(
    '/v1/accounts/:accountId/sip-credentials',
    {
      config: { access: 'read' },
      schema: {
        tags: TAG,
        summary: 'SIP usernames of the account',
        params: accountIdParams,
        response: {
          200: {
            type: 'object',
            properties: {
              items: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: { username: { type: 'string' }, realm: { type: 'string' }, createdAt: dateTime, digestAlgorithms: { type: 'string' } },
                },
              },
            },
          },
        },
      },
    },
    async (req) => {
      const a = await ctx.accounts.get(req.params.accountId);
      await mayRead(ctx, req, { customerId: a.customerId });
      await audit(ctx, req, 'sip_credential.list', { customerId: a.customerId, accountId: a.id });
      return { items: await ctx.accounts.listSipCredentials(a.id) };
    },
  );

  app.put<{ Params: { accountId: number; username: string }; Body: { password: string } }>(
    '/v1/accounts/:accountId/sip-credentials/:username',
    {
      config: { access: 'admin' },
      schema: {
        tags: TAG,
        summary: 'Create a SIP username or set its password (stored as HA1 only)',
        params: { type: 'object', required: ['accountId', 'username'], additionalProperties: false, properties: { accountId: id, username: sipUser } },
        body: { type: 'object', required: ['password'], additionalProperties: false, properties: { password } },
        response: { 200: { type: 'object', properties: { username: { type: 'string' }, realm: { type: 'string' } } } },
      },
    },
    async (req) => {
      const a = await ctx.accounts.get(req.params.accountId);
      if (a.status === 'closed') throw new AppError('ACCOUNT_CLOSED');
      const owner = await ctx.accounts.sipUsernameOwner(req.params.username, ctx.settings.realm);
      if (owner !== undefined && owner !== a.id) throw new AppError('ALREADY_EXISTS', 'that SIP username belongs to another account');
      await ctx.accounts.setSipPassword(a.id, req.params.username, ctx.settings.realm, req.body.password);
      await audit(ctx, req, 'sip_credential.set', { customerId: a.customerId, accountId: a.id });
      return { username: req.params.username, realm: ctx.settings.realm };
    },
  );

  app.put<{ Params: { accountId: number; username: string }; Body: { digestAlgorithms: SipDigestSetting } }>(
    '/v1/accounts/:accountId/sip-credentials/:username/digest-algorithms',
    {
      config: { access: 'admin' },
      schema: {
        tags: TAG,
        summary: "Set the digest challenge of a SIP username's device",
        description:
          "'auto' (default): SHA-256 first once the device has answered it, or when its User-Agent is listed in SIP_DIGEST_SHA256_USER_AGENTS; else MD5 alone. 'MD5': MD5 alone (a device that fails on SHA-256). 'SHA-256,MD5': SHA-256 first.",
        params: { type: 'object', required: ['accountId', 'username'], additionalProperties: false, properties: { accountId: id, username: sipUser } },
        body: digestAlgorithmsBody,
        response: { 200: { type: 'object', properties: { username: { type: 'string' }, digestAlgorithms: { type: 'string' } } } },
      },
    },
    async (req) => {
      const a = await ctx.accounts.get(req.params.accountId);
      await ctx.accounts.setSipDigestAlgorithms(a.id, req.params.username, req.body.digestAlgorithms);
      await audit(ctx, req, 'sip_credential.digest_algorithms', { customerId: a.customerId, accountId: a.id });
      return { username: req.params.username, digestAlgorithms: req.body.digestAlgorithms };
    },
  );

  app.delete<{ Params: { accountId: number; username: string } }>(
    '/v1/accounts/:accountId/sip-credentials/:username',
    {
      config: { access: 'admin' },
      schema: {
        tags: TAG,
        summary: 'Remove a SIP username',
        params: { type: 'object', required: ['accountId', 'username'], additionalProperties: false, properties: { accountId: id, username: sipUser } },
        response: { 200: { type: 'object', properties: { removed: { type: 'boolean' } } } },
      },
    },
    async (req) => {
      const a = await ctx.accounts.get(req.params.accountId);
      await ctx.accounts.removeSipCredential(a.id, req.params.username);
      await audit(ctx, req, 'sip_credential.remove', { customerId: a.customerId, accountId: a.id });
      return { removed: true };
    },
  );
}

/** Rectification shared by the operator and self-care routes: audited with the names of the changed fields. */
export async function rectify(
  ctx: ApiContext,
  customerId: number,
  changes: CustomerChanges,
  onChanged: (fields: string[]) => Promise<void>,
): Promise<Customer> {
  const { customer: c, changed } = await ctx.directory.update(customerId, changes);
  if (changed.includes('email')) {
    // a changed address is unverified (the directory clears the date); a pending one is superseded
    await ctx.emailVerification.cancel(customerId);
  }
  await onChanged(changed);
  return changed.includes('email') ? ctx.directory.get(customerId) : c;
}
