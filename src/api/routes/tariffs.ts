import type { FastifyInstance } from 'fastify';
import { AppError } from '../../errors.ts';
import type { ApiContext } from '../api-context.ts';
import { currency, dateTime, nullableDateTime } from '../schemas.ts';
import { csvResponse } from './money.ts';
import { NO_CARD_NUMBER } from '../card-number-keyword.ts';

const TAG = ['tariffs'];
const tariffIdParams = {
  type: 'object',
  required: ['tariffId'],
  additionalProperties: false,
  properties: { tariffId: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$' } },
} as const;
const rate = {
  type: 'object',
  properties: {
    prefix: { type: 'string' },
    description: { type: 'string' },
    pricePerMinute: { type: 'integer' },
    connectionFee: { type: 'integer' },
    minimumSeconds: { type: 'integer' },
    initialIncrement: { type: 'integer' },
    subsequentIncrement: { type: 'integer' },
    effectiveFrom: dateTime,
    effectiveUntil: nullableDateTime,
    connectionFeePolicy: { type: 'string' },
  },
} as const;

/** Tariffs: CSV upload (all or nothing, errors by line), download, rates with effective dates. */
export function tariffRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get(
    '/v1/tariffs',
    {
      config: { access: 'read' },
      schema: {
        tags: TAG,
        summary: 'Tariffs',
        response: {
          200: {
            type: 'object',
            properties: {
              items: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    id: { type: 'string' },
                    name: { type: 'string' },
                    currency: { type: 'string' },
                    rates: { type: 'integer' },
                    createdAt: dateTime,
                  },
                },
              },
            },
          },
        },
      },
    },
    async () => {
      return { items: await ctx.tariffs.list() };
    },
  );

  app.put<{ Params: { tariffId: string }; Querystring: { name: string; currency: string }; Body: string }>(
    '/v1/tariffs/:tariffId',
    {
      config: { access: 'billing' },
      bodyLimit: 20 * 1024 * 1024,
      schema: {
        tags: TAG,
        summary: "Replace a tariff's rates with a CSV (all or nothing; errors listed by line and column)",
        params: tariffIdParams,
        querystring: {
          type: 'object',
          required: ['name', 'currency'],
          additionalProperties: false,
          properties: { name: { type: 'string', minLength: 1, maxLength: 200, ...NO_CARD_NUMBER }, currency },
        },
        body: { content: { 'text/csv': { schema: { type: 'string', minLength: 1 } } } },
        response: { 200: { type: 'object', properties: { tariffId: { type: 'string' }, imported: { type: 'integer' } } } },
      },
    },
    async (req) => {
      if (typeof req.body !== 'string') throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'send the tariff as text/csv');
      const r = await ctx.tariffs.importCsv(req.params.tariffId, req.query.name, req.query.currency, req.body);
      if ('errors' in r) throw new AppError('INVALID_TARIFF_CSV', `${r.errors.length} error(s); nothing was imported`, { errors: r.errors.slice(0, 1000) });
      return { tariffId: req.params.tariffId, imported: r.imported };
    },
  );

  app.get<{ Params: { tariffId: string }; Querystring: { at?: string } }>(
    '/v1/tariffs/:tariffId/rates',
    {
      config: { access: 'read' },
      schema: {
        tags: TAG,
        summary: "A tariff's rates with their effective dates (only those in effect at `at`, when given)",
        params: tariffIdParams,
        querystring: { type: 'object', additionalProperties: false, properties: { at: dateTime } },
        response: { 200: { type: 'object', properties: { tariffId: { type: 'string' }, items: { type: 'array', items: rate } } } },
      },
    },
    async (req) => {
      const at = req.query.at ? new Date(req.query.at) : undefined;
      const rates = (await ctx.tariffs.rates(req.params.tariffId)).filter(
        (r) => !at || (r.effectiveFrom <= at && (r.effectiveUntil === null || r.effectiveUntil > at)),
      );
      return { tariffId: req.params.tariffId, items: rates };
    },
  );

  app.get<{ Params: { tariffId: string } }>(
    '/v1/tariffs/:tariffId/csv',
    {
      config: { access: 'read' },
      schema: { tags: TAG, summary: 'Download a tariff as CSV (the upload format)', params: tariffIdParams, response: csvResponse },
    },
    async (req, reply) => reply.type('text/csv; charset=utf-8').send(await ctx.tariffs.exportCsv(req.params.tariffId)),
  );
}
