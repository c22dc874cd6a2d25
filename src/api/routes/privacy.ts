import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { LISTS } from '../../accounts/consents.ts';
import type { MarketingList } from '../../accounts/consents.ts';
import { AppError } from '../../errors.ts';
import { eraseCustomer } from '../../privacy/erasure.ts';
import { RETENTION_JOBS, runRetention } from '../../privacy/retention-jobs.ts';
import type { RetentionJob } from '../../privacy/retention-jobs.ts';
import { principalOf } from '../api-context.ts';
import type { ApiContext } from '../api-context.ts';
import { customerIdParams, dateTime, decodeCursor, encodeCursor, isId, nullableDateTime, page, pageQuery } from '../schemas.ts';
import { audit, mayRead } from './common.ts';

const TAG = ['data protection'];
export const exportSchema = {
  type: 'object',
  description: 'everything held about the customer (softswitch-personal-data/1)',
  required: ['format', 'generatedAt', 'customer'],
  properties: {
    format: { type: 'string' },
    generatedAt: { type: 'string' },
    customer: { type: 'object', additionalProperties: true },
    ...Object.fromEntries(
      [
        'accounts',
        'pins',
        'callerIds',
        'callerIdRequests',
        'devices',
        'personalNumbers',
        'speedDials',
        'callbacks',
        'callRecordings',
        'recordingConsentEvents',
        'autoTopUps',
        'autoTopUpCharges',
        'topUps',
        'orders',
        'ledgerEntries',
        'callRecords',
        'accessNumberSessions',
        'consents',
        'consentEvents',
        'auditEntries',
        'registrations',
      ].map((k) => [k, { type: 'array', items: { type: 'object', additionalProperties: true } }]),
    ),
  },
} as const;
export const erasureSchema = {
  type: 'object',
  properties: {
    customerId: { type: 'integer' },
    alreadyErased: { type: 'boolean' },
    accountsClosed: { type: 'integer' },
    callRecordsUnlinked: { type: 'integer' },
    recordingsDeleted: { type: 'integer', description: 'call recordings deleted (file and record)' },
  },
} as const;
export const restrictionSchema = {
  type: 'object',
  properties: { customerId: { type: 'integer' }, restrictedAt: nullableDateTime, suspendedAccountIds: { type: 'array', items: { type: 'integer' } } },
} as const;
export const consentsSchema = {
  type: 'object',
  properties: {
    items: {
      type: 'array',
      items: {
        type: 'object',
        properties: { list: { type: 'string' }, optedIn: { type: 'boolean' }, consentedAt: nullableDateTime, optedOutAt: nullableDateTime },
      },
    },
  },
} as const;
export const listParams = {
  type: 'object',
  required: ['list'],
  additionalProperties: false,
  properties: { list: { type: 'string', enum: [...LISTS] } },
} as const;

/** Data-protection requests handled by operators, and the retention jobs. */
export function privacyRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get<{ Params: { customerId: number } }>(
    '/v1/customers/:customerId/export',
    {
      config: { access: 'admin' },
      schema: {
        tags: TAG,
        summary: 'Everything held about the customer, as one JSON document (access, portability)',
        params: customerIdParams,
        response: { 200: exportSchema },
      },
    },
    async (req) => {
      await mayRead(ctx, req, { customerId: req.params.customerId });
      const doc = await ctx.personalData.export(req.params.customerId);
      await audit(ctx, req, 'customer.export', { customerId: req.params.customerId });
      // an access request an operator answers: the customer learns the copy is ready in self-care
      await ctx.notices.dataExportReady(req.params.customerId, randomUUID());
      return doc;
    },
  );

  app.post<{ Params: { customerId: number } }>(
    '/v1/customers/:customerId/email-verification',
    {
      config: { access: 'admin' },
      schema: {
        tags: TAG,
        summary: "Issue a verification code for the customer's pending (or unverified) e-mail address, to send to that address",
        description:
          'Until the mail path sends codes itself, an operator sends this code from the service mailbox to the address; the customer enters it ' +
          'on the self-care page. The code is in this answer only (never logged, stored hashed), single use, valid 24 hours; a new one replaces it.',
        params: customerIdParams,
        response: {
          201: {
            type: 'object',
            required: ['email', 'token', 'expiresAt'],
            properties: { email: { type: 'string' }, token: { type: 'string' }, expiresAt: dateTime },
          },
        },
      },
    },
    async (req, reply) => {
      const issued = await ctx.emailVerification.issue(req.params.customerId, principalOf(req).actor);
      await audit(ctx, req, 'email.verification_issued', { customerId: req.params.customerId });
      return reply.status(201).send(issued);
    },
  );

  app.post<{ Params: { customerId: number } }>(
    '/v1/customers/:customerId/erasure',
    {
      config: { access: 'admin' },
      schema: {
        tags: TAG,
        summary: "Erase the customer's personal data (call records kept, unlinked, until their retention ends)",
        params: customerIdParams,
        response: { 200: erasureSchema },
      },
    },
    async (req) => eraseCustomer({ ...ctx, endSessions: (id) => ctx.sessions.endAll(id) }, req.params.customerId, principalOf(req).actor),
  );

  app.get<{ Params: { customerId: number } }>(
    '/v1/customers/:customerId/restriction',
    {
      config: { access: 'read' },
      schema: { tags: TAG, summary: 'Whether processing is restricted', params: customerIdParams, response: { 200: restrictionSchema } },
    },
    async (req) => ctx.restriction.get(req.params.customerId),
  );

  app.post<{ Params: { customerId: number }; Body: { suspendAccounts?: boolean } }>(
    '/v1/customers/:customerId/restriction',
    {
      config: { access: 'admin' },
      schema: {
        tags: TAG,
        summary: 'Restrict processing: no marketing; the accounts are suspended too when asked',
        params: customerIdParams,
        body: { type: 'object', additionalProperties: false, properties: { suspendAccounts: { type: 'boolean', default: false } } },
        response: { 200: restrictionSchema },
      },
    },
    async (req) => ctx.restriction.restrict(req.params.customerId, req.body.suspendAccounts ?? false, principalOf(req).actor),
  );

  app.delete<{ Params: { customerId: number } }>(
    '/v1/customers/:customerId/restriction',
    {
      config: { access: 'admin' },
      schema: {
        tags: TAG,
        summary: 'Lift the restriction (accounts it suspended are resumed)',
        params: customerIdParams,
        response: { 200: restrictionSchema },
      },
    },
    async (req) => ctx.restriction.lift(req.params.customerId, principalOf(req).actor),
  );

  app.get<{ Params: { customerId: number } }>(
    '/v1/customers/:customerId/consents',
    {
      config: { access: 'read' },
      schema: { tags: TAG, summary: 'Marketing consent per e-mail list', params: customerIdParams, response: { 200: consentsSchema } },
    },
    async (req) => {
      await ctx.directory.get(req.params.customerId);
      return { items: await ctx.consents.of(req.params.customerId) };
    },
  );

  app.put<{ Params: { customerId: number; list: MarketingList }; Body: { optedIn: boolean } }>(
    '/v1/customers/:customerId/consents/:list',
    {
      config: { access: 'admin' },
      schema: {
        tags: TAG,
        summary: "Record a customer's opt-out (kept with its time as evidence); an opt-in is the customer's own act (403 CONSENT_BY_PERSON_ONLY)",
        params: { ...customerIdParams, required: ['customerId', 'list'], properties: { ...customerIdParams.properties, ...listParams.properties } },
        body: { type: 'object', required: ['optedIn'], additionalProperties: false, properties: { optedIn: { type: 'boolean' } } },
        response: { 200: consentsSchema },
      },
    },
    async (req) => ({ items: await ctx.consents.set(req.params.customerId, req.params.list, req.body.optedIn, principalOf(req).actor, 'operator') }),
  );

  app.get<{ Params: { customerId: number }; Querystring: { from?: string; to?: string; cursor?: string; limit: number } }>(
    '/v1/customers/:customerId/audit',
    {
      config: { access: 'admin' },
      schema: {
        tags: TAG,
        summary: "Who accessed or changed this customer's data, newest first, by time range (reading this trail is recorded in it too)",
        params: customerIdParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { from: { ...dateTime, description: 'entries at or after' }, to: { ...dateTime, description: 'entries before' }, ...pageQuery },
        },
        response: {
          200: page({
            type: 'object',
            properties: {
              at: dateTime,
              actor: { type: 'string' },
              action: { type: 'string' },
              accountId: { type: ['integer', 'null'] },
              detail: { type: 'object', additionalProperties: true },
            },
          }),
        },
      },
    },
    async (req) => {
      const customerId = req.params.customerId;
      await ctx.directory.get(customerId);
      const { from, to, cursor, limit } = req.query;
      const before = decodeCursor(cursor, isId);
      await audit(ctx, req, 'audit.read', { customerId }, { ...(from ? { from } : {}), ...(to ? { to } : {}) });
      const items = await ctx.audit.historyOf(customerId, {
        ...(from ? { from: new Date(from) } : {}),
        ...(to ? { to: new Date(to) } : {}),
        ...(before !== undefined ? { before } : {}),
        limit,
      });
      const last = items.at(-1);
      return { items, nextCursor: items.length === limit && last ? encodeCursor(last.id) : null };
    },
  );

  app.get(
    '/v1/retention',
    {
      config: { access: 'admin' },
      schema: {
        tags: TAG,
        summary: 'The last scheduled retention run (RETENTION_INTERVAL_HOURS): when, how long, what it removed, or its error',
        response: {
          200: {
            type: 'object',
            properties: {
              intervalHours: { type: 'integer' },
              last: {
                type: ['object', 'null'],
                properties: { at: dateTime, durationMs: { type: 'integer' }, ok: { type: 'boolean' }, result: retentionSchema, error: { type: 'string' } },
              },
            },
          },
        },
      },
    },
    async () => {
      const last = await ctx.lastRetentionRun();
      return {
        intervalHours: ctx.settings.retentionIntervalHours ?? 0,
        last: last === undefined ? null : { ...last, at: new Date(last.at).toISOString() },
      };
    },
  );

  app.post<{ Body: { jobs?: RetentionJob[]; now?: string } }>(
    '/v1/retention/run',
    {
      config: { access: 'admin' },
      schema: {
        tags: TAG,
        summary: 'Run the retention jobs now (the same as `softswitch retention`)',
        body: {
          type: 'object',
          additionalProperties: false,
          properties: { jobs: { type: 'array', uniqueItems: true, items: { type: 'string', enum: [...RETENTION_JOBS] } }, now: dateTime },
        },
        response: { 200: retentionSchema },
      },
    },
    async (req) => {
      const now = req.body.now ? new Date(req.body.now) : new Date();
      if (now.getTime() > Date.now() + 60_000) throw new AppError('VALIDATION_FAILED', 'now may not be in the future');
      return runRetention(
        { ...ctx, policy: ctx.settings.retention, endSessions: (id) => ctx.sessions.endAll(id) },
        now,
        req.body.jobs ?? [...RETENTION_JOBS],
        principalOf(req).actor,
      );
    },
  );
}

export const retentionSchema = {
  type: 'object',
  properties: {
    droppedPartitions: { type: 'array', items: { type: 'string' } },
    cdrRowsDeleted: { type: 'integer', description: 'call records of the month straddling the cutoff deleted row by row' },
    erasedCustomers: { type: 'array', items: { type: 'integer' } },
    lateCallRecordsUnlinked: { type: 'integer', description: 'call records of erased customers written after their erasure, unlinked now' },
    paymentReferences: { type: 'object', properties: { topUps: { type: 'integer' }, tokens: { type: 'integer' } } },
    ivrSessionsDeleted: { type: 'integer', description: 'access-number session records older than the call-record period' },
    ledgerCallsUnnamed: { type: 'integer', description: 'ledger call entries that stopped naming their call (its record is gone)' },
    ledgerEntriesFolded: { type: 'integer', description: 'ledger entries older than LEDGER_RETENTION_YEARS folded into one opening entry per account' },
    auditEntriesDeleted: { type: 'integer' },
    consentEventsDeleted: { type: 'integer' },
    mailsDeleted: { type: 'integer', description: 'mails sent (or given up on) more than MAIL_RETENTION_MONTHS ago, deleted with address and bodies' },
    recordingsDeleted: { type: 'integer', description: 'call recordings (file and record) older than RECORDING_RETENTION_DAYS deleted' },
  },
} as const;
