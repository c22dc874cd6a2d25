import { NO_CARD_NUMBER } from '../card-number-keyword.ts';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { SpeedDial } from '../../accounts/speed-dials.ts';
import { SPEED_DIAL_MAX, SPEED_DIAL_MIN, SPEED_DIAL_NAME_MAX } from '../../accounts/speed-dials.ts';
import { AppError } from '../../errors.ts';
import { customerOf } from '../api-context.ts';
import type { ApiContext } from '../api-context.ts';
import { dateTime, dialledNumber, id } from '../schemas.ts';
import { audit, mayRead } from './common.ts';

/**
 * Speed dials (1–99 per account): customers manage their own under /v1/self/speed-dials, operators
 * an account's under /v1/accounts/:accountId/speed-dials (audited). The number is written as the
 * customer would dial it, or with + and the country code; it is kept as the account's dialling
 * plan reads it (E.164 digits), which is what a speed-dialled call is rated and routed as.
 */
const position = { type: 'integer', minimum: SPEED_DIAL_MIN, maximum: SPEED_DIAL_MAX } as const;
const speedDial = {
  type: 'object',
  required: ['position', 'name', 'number'],
  properties: {
    position,
    name: { type: 'string' },
    number: { type: 'string', description: 'E.164 with +' },
    updatedAt: dateTime,
  },
} as const;
const list = { type: 'object', required: ['items'], properties: { items: { type: 'array', items: speedDial } } } as const;
const body = {
  type: 'object',
  required: ['name', 'number'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1, maxLength: SPEED_DIAL_NAME_MAX, ...NO_CARD_NUMBER },
    number: dialledNumber,
  },
} as const;
const selfParams = { type: 'object', required: ['position'], additionalProperties: false, properties: { position } } as const;
const accountParams = { type: 'object', required: ['accountId', 'position'], additionalProperties: false, properties: { accountId: id, position } } as const;
const accountOnly = { type: 'object', required: ['accountId'], additionalProperties: false, properties: { accountId: id } } as const;

const shown = (d: SpeedDial) => ({ position: d.position, name: d.name, number: `+${d.number}`, updatedAt: d.updatedAt.toISOString() });

type Body = { name: string; number: string };

export function speedDialRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const TAG = ['speed-dials'];

  const put = async (req: FastifyRequest, accountId: number, at: number, b: Body) => {
    const a = await ctx.accounts.get(accountId);
    if (a.status === 'closed') throw new AppError('ACCOUNT_CLOSED');
    const d = await ctx.speedDials.set(a, at, b.name, b.number);
    await audit(ctx, req, 'speed-dial.set', { customerId: a.customerId, accountId: a.id }, { position: at });
    return shown(d);
  };
  const remove = async (req: FastifyRequest, accountId: number, at: number) => {
    const a = await ctx.accounts.get(accountId);
    if (!(await ctx.speedDials.remove(a.id, at))) throw new AppError('UNKNOWN_SPEED_DIAL');
    await audit(ctx, req, 'speed-dial.remove', { customerId: a.customerId, accountId: a.id }, { position: at });
    return { removed: true };
  };
  const one = async (accountId: number, at: number) => {
    const d = await ctx.speedDials.get(accountId, at);
    if (!d) throw new AppError('UNKNOWN_SPEED_DIAL');
    return shown(d);
  };

  app.get(
    '/v1/self/speed-dials',
    { config: { access: 'customer' }, schema: { tags: ['self-care'], summary: 'My speed dials (1–99)', response: { 200: list } } },
    async (req) => ({ items: (await ctx.speedDials.list(customerOf(req).accountId)).map(shown) }),
  );
  app.get<{ Params: { position: number } }>(
    '/v1/self/speed-dials/:position',
    { config: { access: 'customer' }, schema: { tags: ['self-care'], summary: 'One of my speed dials', params: selfParams, response: { 200: speedDial } } },
    async (req) => one(customerOf(req).accountId, req.params.position),
  );
  app.put<{ Params: { position: number }; Body: Body }>(
    '/v1/self/speed-dials/:position',
    {
      config: { access: 'customer' },
      schema: {
        tags: ['self-care'],
        summary: 'Set or replace a speed dial: dialled as *n from my devices, or * n # at the access number',
        params: selfParams,
        body,
        response: { 200: speedDial },
      },
    },
    async (req) => put(req, customerOf(req).accountId, req.params.position, req.body),
  );
  app.delete<{ Params: { position: number } }>(
    '/v1/self/speed-dials/:position',
    {
      config: { access: 'customer' },
      schema: {
        tags: ['self-care'],
        summary: 'Remove a speed dial',
        params: selfParams,
        response: { 200: { type: 'object', properties: { removed: { type: 'boolean' } } } },
      },
    },
    async (req) => remove(req, customerOf(req).accountId, req.params.position),
  );

  app.get<{ Params: { accountId: number } }>(
    '/v1/accounts/:accountId/speed-dials',
    { config: { access: 'read' }, schema: { tags: TAG, summary: "An account's speed dials", params: accountOnly, response: { 200: list } } },
    async (req) => {
      const a = await ctx.accounts.get(req.params.accountId);
      await mayRead(ctx, req, { customerId: a.customerId });
      await audit(ctx, req, 'speed-dial.list', { customerId: a.customerId, accountId: a.id });
      return { items: (await ctx.speedDials.list(a.id)).map(shown) };
    },
  );
  app.put<{ Params: { accountId: number; position: number }; Body: Body }>(
    '/v1/accounts/:accountId/speed-dials/:position',
    {
      config: { access: 'admin' },
      schema: { tags: TAG, summary: "Set or replace an account's speed dial", params: accountParams, body, response: { 200: speedDial } },
    },
    async (req) => put(req, req.params.accountId, req.params.position, req.body),
  );
  app.delete<{ Params: { accountId: number; position: number } }>(
    '/v1/accounts/:accountId/speed-dials/:position',
    {
      config: { access: 'admin' },
      schema: {
        tags: TAG,
        summary: "Remove an account's speed dial",
        params: accountParams,
        response: { 200: { type: 'object', properties: { removed: { type: 'boolean' } } } },
      },
    },
    async (req) => remove(req, req.params.accountId, req.params.position),
  );
}
