import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { cdrCsvHeader, cdrCsvLine } from '../../accounts/call-records.ts';
import type { CallRecords, CdrFilter } from '../../accounts/call-records.ts';
import { AppError } from '../../errors.ts';
import { principalOf } from '../api-context.ts';
import type { ApiContext } from '../api-context.ts';
import {
  accountIdParams,
  callRecord,
  cdrQuery,
  dateTime,
  decodeCursor,
  encodeCursor,
  id,
  isTimeKey,
  liveBalance,
  micros,
  page,
  pageQuery,
  positiveMicros,
} from '../schemas.ts';
import { audit, mayRead, statedPurpose, withoutRestricted } from './common.ts';
import { NO_CARD_NUMBER } from '../card-number-keyword.ts';

const TAG = ['money'];
const IDEMPOTENCY_KEY = /^[A-Za-z0-9_.:-]{1,64}$/;

const credit = {
  type: 'object',
  required: ['accountId', 'amount', 'currency', 'balanceAfter', 'replayed'],
  properties: {
    accountId: { type: 'integer' },
    amount: { type: 'integer' },
    currency: { type: 'string' },
    balanceAfter: { type: 'integer' },
    idempotencyKey: { type: 'string' },
    adjustmentId: { type: 'string' },
    replayed: { type: 'boolean', description: 'true when this repeats an earlier request: nothing was credited again' },
  },
} as const;

const ledgerRow = {
  type: 'object',
  properties: {
    eventId: { type: 'string' },
    kind: { type: 'string' },
    amount: { type: 'integer' },
    balanceAfter: { type: 'integer' },
    reference: { type: ['string', 'null'] },
    reason: { type: ['string', 'null'] },
    occurredAt: dateTime,
  },
} as const;

/** The live balance (Redis) with the durable figure (Postgres) beside it. */
export async function balanceOf(ctx: ApiContext, accountId: number) {
  const [live, durable] = await Promise.all([ctx.balances.get(accountId), ctx.durableBalances.get(accountId)]);
  if (!live || !durable) throw new AppError('UNKNOWN_ACCOUNT');
  return { ...live, currency: durable.currency, durableBalance: durable.balance, unit: 'micro' };
}

export type CdrQuery = { from?: string; to?: string; number?: string; cursor?: string; limit: number };

export function cdrFilter(q: CdrQuery, accountId: number | undefined): Omit<CdrFilter, 'limit'> {
  const f: Omit<CdrFilter, 'limit'> = {};
  if (accountId !== undefined) f.accountId = accountId;
  if (q.from) f.from = new Date(q.from);
  if (q.to) f.to = new Date(q.to);
  if (q.number) f.number = q.number;
  const after = decodeCursor(q.cursor, isTimeKey);
  if (after) f.after = { startTime: after[0], callId: after[1] };
  return f;
}

export async function listCdrs(records: CallRecords, q: CdrQuery, accountId: number | undefined, withoutRestricted = false) {
  const rows = await records.list({ ...cdrFilter(q, accountId), limit: q.limit, withoutRestricted });
  const last = rows.at(-1);
  return { items: rows, nextCursor: rows.length === q.limit && last ? encodeCursor([last.startTime.getTime(), last.callId]) : null };
}

/**
 * Streams matching CDRs as CSV, a page at a time. `touched` learns the accounts whose records were
 * given out, each once, every 1,000 records and at the end (also when the client goes away), so an
 * unfiltered export is in the audit trail of every customer it reached.
 */
export function sendCdrCsv(
  reply: FastifyReply,
  records: CallRecords,
  q: CdrQuery,
  accountId: number | undefined,
  filename: string,
  touched?: (accountIds: number[]) => Promise<void>,
  withoutRestricted = false,
): FastifyReply {
  const { after: _after, ...rest } = cdrFilter(q, accountId);
  const f = { ...rest, withoutRestricted };
  const seen = new Set<number>();
  let fresh: number[] = [];
  const flush = async () => {
    if (fresh.length === 0 || touched === undefined) return;
    const ids = fresh;
    fresh = [];
    await touched(ids);
  };
  async function* lines() {
    try {
      yield cdrCsvHeader();
      let n = 0;
      for await (const r of records.stream(f)) {
        if (r.accountId !== null && !seen.has(r.accountId)) {
          seen.add(r.accountId);
          fresh.push(r.accountId);
        }
        yield cdrCsvLine(r);
        if (++n % 1000 === 0) await flush();
      }
    } finally {
      await flush();
    }
  }
  return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${filename}"`).send(Readable.from(lines()));
}

export const cdrQuerySchema = { type: 'object', additionalProperties: false, properties: { ...cdrQuery, ...pageQuery } } as const;
const csvResponse = { 200: { description: 'CSV, one call record per line, newest first', content: { 'text/csv': { schema: { type: 'string' } } } } };

/** Operators: balances, top-ups, adjustments, ledger history, call records. */
export function moneyRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get<{ Params: { accountId: number } }>(
    '/v1/accounts/:accountId/balance',
    {
      config: { access: 'read' },
      schema: { tags: TAG, summary: 'Live balance from Redis, with the durable Postgres balance', params: accountIdParams, response: { 200: liveBalance } },
    },
    async (req) => balanceOf(ctx, req.params.accountId),
  );

  app.get<{ Params: { accountId: number } }>(
    '/v1/accounts/:accountId/balance/events',
    {
      config: { access: 'read' },
      schema: {
        tags: TAG,
        summary: 'Server-sent events: a `balance` event with the live balance now and at every change',
        params: accountIdParams,
        response: {
          200: {
            description: 'text/event-stream of `balance` events (data: the live balance as JSON)',
            content: { 'text/event-stream': { schema: { type: 'string' } } },
          },
        },
      },
    },
    async (req, reply) => {
      await balanceOf(ctx, req.params.accountId); // 404 before the stream starts
      streamBalance(ctx, req.params.accountId, reply);
    },
  );

  app.post<{ Params: { accountId: number }; Headers: { 'idempotency-key'?: string }; Body: { amount: number; provider?: string; providerReference?: string } }>(
    '/v1/accounts/:accountId/topups',
    {
      config: { access: 'billing' },
      schema: {
        tags: TAG,
        summary: 'Credit a top-up, exactly once per Idempotency-Key',
        params: accountIdParams,
        headers: {
          type: 'object',
          properties: {
            'idempotency-key': { type: 'string', description: 'required: 1-64 of [A-Za-z0-9_.:-]; a repeat with the same key and amount changes nothing' },
          },
        },
        body: {
          type: 'object',
          required: ['amount'],
          additionalProperties: false,
          properties: {
            amount: positiveMicros,
            provider: { type: 'string', pattern: '^[a-z0-9_-]{1,32}$', ...NO_CARD_NUMBER },
            providerReference: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[\\x21-\\x7e]+$', ...NO_CARD_NUMBER },
          },
        },
        response: { 201: credit, 200: credit },
      },
    },
    async (req, reply) => {
      const key = req.headers['idempotency-key'];
      if (key === undefined || !IDEMPOTENCY_KEY.test(key)) throw new AppError('IDEMPOTENCY_KEY_REQUIRED');
      const a = await ctx.accounts.get(req.params.accountId);
      const r = await ctx.balances.topUp(a.id, `api-${a.id}-${key}`, req.body.amount, req.body.provider ?? 'operator', req.body.providerReference ?? '');
      if (!r.ok)
        throw new AppError(r.reason === 'account_closed' ? 'ACCOUNT_CLOSED' : r.reason === 'unknown_account' ? 'UNKNOWN_ACCOUNT' : 'IDEMPOTENCY_CONFLICT');
      if (!r.duplicate) await audit(ctx, req, 'topup', { customerId: a.customerId, accountId: a.id }, { amount: req.body.amount });
      // the receipt is keyed by the top-up: a replay after a lost answer queues no second one
      await ctx.notices.topUp(a.id, `api-${a.id}-${key}`, req.body.amount, req.body.providerReference ?? '', r.balanceAfter);
      return reply
        .status(r.duplicate ? 200 : 201)
        .send({ accountId: a.id, amount: req.body.amount, currency: a.currency, balanceAfter: r.balanceAfter, idempotencyKey: key, replayed: r.duplicate });
    },
  );

  app.post<{ Params: { accountId: number }; Body: { adjustmentId: string; amount: number; reason: string } }>(
    '/v1/accounts/:accountId/adjustments',
    {
      config: { access: 'billing' },
      schema: {
        tags: TAG,
        summary: 'A signed adjustment with a reason, exactly once per adjustmentId',
        params: accountIdParams,
        body: {
          type: 'object',
          required: ['adjustmentId', 'amount', 'reason'],
          additionalProperties: false,
          properties: {
            adjustmentId: { type: 'string', pattern: '^[A-Za-z0-9_.:-]{1,64}$', ...NO_CARD_NUMBER },
            amount: { ...micros, not: { const: 0 } },
            reason: { type: 'string', minLength: 1, maxLength: 500, pattern: '\\S', ...NO_CARD_NUMBER },
          },
        },
        response: { 201: credit, 200: credit },
      },
    },
    async (req, reply) => {
      const a = await ctx.accounts.get(req.params.accountId);
      const r = await ctx.balances.adjust(a.id, `api-${a.id}-${req.body.adjustmentId}`, req.body.amount, req.body.reason);
      if (!r.ok)
        throw new AppError(r.reason === 'account_closed' ? 'ACCOUNT_CLOSED' : r.reason === 'unknown_account' ? 'UNKNOWN_ACCOUNT' : 'IDEMPOTENCY_CONFLICT');
      if (!r.duplicate) await audit(ctx, req, 'adjustment', { customerId: a.customerId, accountId: a.id }, { amount: req.body.amount });
      return reply.status(r.duplicate ? 200 : 201).send({
        accountId: a.id,
        amount: req.body.amount,
        currency: a.currency,
        balanceAfter: r.balanceAfter,
        adjustmentId: req.body.adjustmentId,
        replayed: r.duplicate,
      });
    },
  );

  app.get<{ Params: { accountId: number }; Querystring: { cursor?: string; limit: number } }>(
    '/v1/accounts/:accountId/ledger',
    {
      config: { access: 'read' },
      schema: {
        tags: TAG,
        summary: 'Ledger history (as written to Postgres), newest first',
        params: accountIdParams,
        querystring: { type: 'object', additionalProperties: false, properties: pageQuery },
        response: { 200: page(ledgerRow) },
      },
    },
    async (req) => {
      const a = await ctx.accounts.get(req.params.accountId);
      await mayRead(ctx, req, { customerId: a.customerId });
      const after = decodeCursor(req.query.cursor, isTimeKey);
      const rows = await ctx.records.ledger(a.id, { ...(after ? { after: { occurredAt: after[0], eventId: after[1] } } : {}), limit: req.query.limit });
      await audit(ctx, req, 'ledger.list', { customerId: a.customerId, accountId: a.id });
      const last = rows.at(-1);
      return { items: rows, nextCursor: rows.length === req.query.limit && last ? encodeCursor([last.occurredAt.getTime(), last.eventId]) : null };
    },
  );

  app.get<{ Querystring: CdrQuery & { accountId?: number } }>(
    '/v1/cdrs',
    {
      config: { access: 'read' },
      schema: {
        tags: TAG,
        summary: 'Call records by account, time range and number, newest first',
        querystring: { ...cdrQuerySchema, properties: { ...cdrQuerySchema.properties, accountId: id } },
        response: { 200: page(callRecord) },
      },
    },
    async (req) => {
      if (req.query.accountId) await mayRead(ctx, req, { customerId: (await ctx.accounts.get(req.query.accountId)).customerId });
      const r = await listCdrs(ctx.records, req.query, req.query.accountId, withoutRestricted(req));
      const accounts = [...new Set(r.items.map((c) => c.accountId))].map((accountId) => ({ customerId: null, accountId }));
      const purpose = statedPurpose(req);
      await ctx.audit.writeMany(principalOf(req).actor, 'cdr.list', accounts, { records: r.items.length, ...(purpose ? { purpose } : {}) });
      return r;
    },
  );

  app.get<{ Querystring: Omit<CdrQuery, 'limit' | 'cursor'> & { accountId?: number } }>(
    '/v1/cdrs/export',
    {
      config: { access: 'read' },
      schema: {
        tags: TAG,
        summary: 'Call records as CSV, streamed',
        querystring: { type: 'object', additionalProperties: false, properties: { ...cdrQuery, accountId: id } },
        response: csvResponse,
      },
    },
    async (req, reply) => {
      if (req.query.accountId) await mayRead(ctx, req, { customerId: (await ctx.accounts.get(req.query.accountId)).customerId });
      const actor = principalOf(req).actor;
      const filter = Object.keys(req.query);
      const purpose = statedPurpose(req);
      await audit(ctx, req, 'cdr.export', {}, { filter, ...(req.query.accountId ? { accountId: req.query.accountId } : {}) }); // who asked, even for none
      // one entry per account whose records went out, as they go out
      return sendCdrCsv(
        reply,
        ctx.records,
        { ...req.query, limit: 1000 },
        req.query.accountId,
        'cdrs.csv',
        (ids) =>
          ctx.audit.writeMany(
            actor,
            'cdr.export',
            ids.map((id) => ({ customerId: null, accountId: id })),
            { filter, ...(purpose ? { purpose } : {}) },
          ),
        withoutRestricted(req),
      );
    },
  );
}

export { csvResponse };

/** Sends `balance` events: now, then whenever the live balance changes; a comment every 15 s keeps proxies from closing it. */
export function streamBalance(ctx: ApiContext, accountId: number, reply: FastifyReply): void {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  let last = '';
  let idle = 0;
  let stopped = false;
  const interval = ctx.settings.balanceStreamIntervalMs ?? 1000;
  const tick = async () => {
    if (stopped) return;
    try {
      const b = await balanceOf(ctx, accountId);
      const { durableBalance: _d, ...live } = b;
      const json = JSON.stringify(live);
      if (json !== last) {
        last = json;
        idle = 0;
        res.write(`event: balance\ndata: ${json}\n\n`);
      } else if ((idle += interval) >= 15_000) {
        idle = 0;
        res.write(': keep-alive\n\n');
      }
    } catch (err) {
      res.write(`event: error\ndata: ${JSON.stringify({ code: err instanceof AppError ? err.code : 'INTERNAL' })}\n\n`);
      stop();
      res.end();
      return;
    }
    if (!stopped) timer = setTimeout(() => void tick(), interval);
  };
  let timer: NodeJS.Timeout | undefined;
  const stop = () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
  res.on('close', stop);
  void tick();
}
