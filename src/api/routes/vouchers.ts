import type { FastifyInstance } from 'fastify';
import { normaliseVoucherCode, VOUCHER_INPUT_PATTERN } from '../../accounts/vouchers.ts';
import type { VoucherBatch } from '../../accounts/vouchers.ts';
import { AppError } from '../../errors.ts';
import { customerOf } from '../api-context.ts';
import type { ApiContext } from '../api-context.ts';
import { NO_CARD_NUMBER } from '../card-number-keyword.ts';
import { dateTime, id, nullableDateTime, positiveMicros } from '../schemas.ts';
import { audit } from './common.ts';

const TAG = ['vouchers'];

const batchSchema = {
  type: 'object',
  required: ['id', 'name', 'count', 'value', 'currency', 'expiresAt', 'disabledAt', 'redeemed'],
  properties: {
    id: { type: 'integer' },
    name: { type: 'string' },
    count: { type: 'integer' },
    value: { type: 'integer' },
    currency: { type: 'string' },
    expiresAt: dateTime,
    disabledAt: nullableDateTime,
    createdBy: { type: 'string' },
    createdAt: dateTime,
    redeemed: { type: 'integer', description: 'codes of the batch redeemed so far' },
  },
} as const;

/** The batch's codes as CSV: the only time they are shown. */
export function voucherCsv(batch: VoucherBatch, codes: string[]): string {
  const tail = `,${batch.value},${batch.currency},${batch.expiresAt.toISOString()},${batch.id}\n`;
  return 'code,value_micros,currency,expires_at,batch\n' + codes.map((c) => c + tail).join('');
}

/** Operators create, list and withdraw voucher batches; customers redeem a code. */
export function voucherRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.post<{ Body: { name: string; count: number; value: number; currency: string; expiresAt: string } }>(
    '/v1/voucher-batches',
    {
      config: { access: 'billing' },
      schema: {
        tags: TAG,
        summary: 'Create a batch of voucher codes; the answer (CSV) is the only place the codes ever appear',
        body: {
          type: 'object',
          required: ['name', 'count', 'value', 'currency', 'expiresAt'],
          additionalProperties: false,
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 100, ...NO_CARD_NUMBER },
            count: { type: 'integer', minimum: 1, maximum: 100000 },
            value: positiveMicros,
            currency: { type: 'string', pattern: '^[A-Z]{3}$' },
            expiresAt: dateTime,
          },
        },
        response: { 201: { description: 'CSV: code, value_micros, currency, expires_at, batch', content: { 'text/csv': { schema: { type: 'string' } } } } },
      },
    },
    async (req, reply) => {
      const b = req.body;
      const { batch, codes } = await ctx.vouchers.createBatch({ ...b, expiresAt: new Date(b.expiresAt) }, `${req.principal?.actor ?? 'operator'}`);
      await audit(ctx, req, 'voucher_batch.create', {}, { batchId: batch.id, count: batch.count, value: batch.value, currency: batch.currency });
      return reply
        .status(201)
        .header('content-type', 'text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="vouchers-${batch.id}.csv"`)
        .header('location', `/v1/voucher-batches/${batch.id}`)
        .header('cache-control', 'no-store')
        .send(voucherCsv(batch, codes));
    },
  );

  app.get(
    '/v1/voucher-batches',
    {
      config: { access: 'read' },
      schema: {
        tags: TAG,
        summary: 'Voucher batches, newest first (never their codes)',
        response: { 200: { type: 'object', properties: { items: { type: 'array', items: batchSchema } } } },
      },
    },
    async () => ({ items: await ctx.vouchers.listBatches() }),
  );

  app.get<{ Params: { batchId: number } }>(
    '/v1/voucher-batches/:batchId',
    {
      config: { access: 'read' },
      schema: { tags: TAG, summary: 'One voucher batch', params: { type: 'object', properties: { batchId: id } }, response: { 200: batchSchema } },
    },
    async (req) => ctx.vouchers.batch(req.params.batchId),
  );

  app.post<{ Params: { batchId: number } }>(
    '/v1/voucher-batches/:batchId/disable',
    {
      config: { access: 'billing' },
      schema: {
        tags: TAG,
        summary: 'Withdraw a batch: its unredeemed codes stop working at once (a lost or stolen batch)',
        params: { type: 'object', properties: { batchId: id } },
        response: { 200: batchSchema },
      },
    },
    async (req) => {
      const b = await ctx.vouchers.disableBatch(req.params.batchId);
      await audit(ctx, req, 'voucher_batch.disable', {}, { batchId: b.id });
      return b;
    },
  );

  app.post<{ Body: { code: string } }>(
    '/v1/self/vouchers',
    {
      config: { access: 'customer' },
      schema: {
        tags: ['self-care'],
        summary: 'Redeem a voucher code on my account (attempts are limited per account and per address)',
        body: {
          type: 'object',
          required: ['code'],
          additionalProperties: false,
          properties: {
            code: { type: 'string', pattern: VOUCHER_INPUT_PATTERN, description: '20 digits starting with 9; spaces or dashes between groups are ignored' },
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['amount', 'currency', 'balanceAfter'],
            properties: { amount: { type: 'integer' }, currency: { type: 'string' }, balanceAfter: { type: 'integer' } },
          },
        },
      },
    },
    async (req) => {
      const me = customerOf(req);
      if (!(await ctx.voucherThrottle.attempt(me.accountId, req.ip))) throw new AppError('VOUCHER_THROTTLED');
      const code = normaliseVoucherCode(req.body.code);
      if (!code) throw new AppError('INVALID_VOUCHER_CODE');
      const account = await ctx.accounts.get(me.accountId);
      const r = await ctx.vouchers.redeem(account, code);
      if (!r.ok) {
        await audit(ctx, req, 'voucher.refused', { customerId: me.customerId, accountId: me.accountId });
        throw new AppError('VOUCHER_NOT_REDEEMABLE');
      }
      await ctx.voucherThrottle.succeeded(me.accountId, req.ip);
      await audit(ctx, req, 'voucher.redeem', { customerId: me.customerId, accountId: me.accountId }, { batchId: r.batchId, amount: r.amount });
      await ctx.notices.topUp(me.accountId, r.creditKey, r.amount, `voucher batch ${r.batchId}`, r.balanceAfter);
      return { amount: r.amount, currency: r.currency, balanceAfter: r.balanceAfter };
    },
  );
}
