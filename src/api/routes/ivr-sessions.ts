import type { FastifyInstance } from 'fastify';
import { principalOf } from '../api-context.ts';
import type { ApiContext } from '../api-context.ts';
import { mayRead, statedPurpose, withoutRestricted } from './common.ts';
import { dateTime, decodeCursor, e164, encodeCursor, id, isTimeKey, page, pageQuery } from '../schemas.ts';

const TAG = ['calls'];

const session = {
  type: 'object',
  properties: {
    callId: { type: 'string' },
    accountId: { type: ['integer', 'null'] },
    accessNumber: { type: 'string' },
    cli: { type: ['string', 'null'] },
    sourceIp: { type: ['string', 'null'] },
    carrier: { type: ['string', 'null'] },
    startTime: dateTime,
    endTime: dateTime,
    durationMs: { type: 'integer' },
    pinAttempts: { type: 'integer' },
    calls: { type: 'integer', description: 'calls placed in the session (each has its CDR)' },
    outcome: { type: 'string', enum: ['calls_placed', 'pin_refused', 'locked', 'caller_hung_up', 'no_destination', 'refused', 'ended'] },
  },
} as const;

const totals = {
  type: 'object',
  properties: {
    accessNumber: { type: 'string' },
    carrier: { type: ['string', 'null'] },
    sessions: { type: 'integer' },
    durationMs: { type: 'integer' },
    withoutCalls: { type: 'integer', description: 'sessions that placed no call (wrong PINs, lockouts, callers who gave up)' },
  },
} as const;

const filter = { from: dateTime, to: dateTime, accessNumber: e164, accountId: id } as const;

interface SessionQuery {
  from?: string;
  to?: string;
  accessNumber?: string;
  accountId?: number;
}

const filterOf = (q: SessionQuery) => ({
  ...(q.from ? { from: new Date(q.from) } : {}),
  ...(q.to ? { to: new Date(q.to) } : {}),
  ...(q.accessNumber ? { accessNumber: q.accessNumber } : {}),
  ...(q.accountId ? { accountId: q.accountId } : {}),
});

/**
 * Access-number sessions (ivr_sessions): every call a carrier delivered to an access number and
 * how long its access leg was up, with or without a call placed; and their totals per access
 * number and carrier, to reconcile the carrier's invoice. No cost to customers.
 */
export function ivrSessionRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const records = ctx.ivrSessions;

  app.get<{ Querystring: SessionQuery & { cursor?: string; limit: number } }>(
    '/v1/ivr-sessions',
    {
      config: { access: 'read' },
      schema: {
        tags: TAG,
        summary: 'Access-number sessions, newest first (with or without a call placed)',
        querystring: { type: 'object', additionalProperties: false, properties: { ...filter, ...pageQuery } },
        response: { 200: page(session) },
      },
    },
    async (req) => {
      const after = decodeCursor(req.query.cursor, isTimeKey);
      if (req.query.accountId) await mayRead(ctx, req, { customerId: (await ctx.accounts.get(req.query.accountId)).customerId });
      const rows = await records.list({
        ...filterOf(req.query),
        ...(after ? { after: { startTime: after[0], callId: after[1] } } : {}),
        limit: req.query.limit,
        withoutRestricted: withoutRestricted(req),
      });
      const accounts = [...new Set(rows.map((r) => r.accountId))].map((accountId) => ({ customerId: null, accountId }));
      const purpose = statedPurpose(req);
      await ctx.audit.writeMany(principalOf(req).actor, 'ivr_session.list', accounts, { records: rows.length, ...(purpose ? { purpose } : {}) });
      const last = rows.at(-1);
      return { items: rows, nextCursor: rows.length === req.query.limit && last ? encodeCursor([last.startTime.getTime(), last.callId]) : null };
    },
  );

  app.get<{ Querystring: SessionQuery }>(
    '/v1/ivr-sessions/totals',
    {
      config: { access: 'read' },
      schema: {
        tags: TAG,
        summary: "Access-leg time per access number and carrier (to reconcile a carrier's invoice)",
        querystring: { type: 'object', additionalProperties: false, properties: filter },
        response: { 200: { type: 'object', properties: { items: { type: 'array', items: totals } } } },
      },
    },
    async (req) => ({ items: await records.totals(filterOf(req.query)) }),
  );
}
