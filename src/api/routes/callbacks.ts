import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CallbackOrigin, CallbackRequest } from '../../accounts/callbacks.ts';
import { AppError } from '../../errors.ts';
import { customerOf } from '../api-context.ts';
import type { ApiContext } from '../api-context.ts';
import { dateTime, dialledNumber, id } from '../schemas.ts';
import { audit, mayRead } from './common.ts';

/**
 * Callbacks: the platform calls `callMe` and, once answered, connects it to `connectTo`, or with
 * `menu: true` (and no `connectTo`) puts the customer in the access-number menu, logged in as the
 * account, to dial from there (each call placed from the menu billed as a leg of its own). Customers
 * request their own under /v1/self/callbacks, operators an account's under
 * /v1/accounts/:accountId/callbacks (audited). Numbers are written as the customer would dial them,
 * or with + and the country code, and are screened like a device's call; limits per account and per
 * number an hour (429). The request is queued for one SIP app process: 202 with its id, whose status
 * the GET routes show.
 */
const body = {
  type: 'object',
  required: ['callMe'],
  additionalProperties: false,
  properties: {
    callMe: dialledNumber,
    connectTo: dialledNumber,
    menu: {
      type: 'boolean',
      description:
        'true, instead of connectTo: once answered, the customer is in the access-number menu logged in as the account (no PIN) and dials from there',
    },
  },
  // exactly one kind: a number to connect to, or the menu
  oneOf: [
    { required: ['connectTo'], properties: { menu: { const: false } } },
    { required: ['menu'], properties: { menu: { const: true } }, not: { required: ['connectTo'] } },
  ],
} as const;
const callback = {
  type: 'object',
  required: ['id', 'status', 'callMe', 'connectTo', 'menu'],
  properties: {
    id: { type: 'string', format: 'uuid' },
    status: { type: 'string', enum: ['queued', 'placing', 'calling-a', 'calling-b', 'connected', 'completed', 'failed'] },
    reason: { type: ['string', 'null'] },
    callMe: { type: 'string', description: 'E.164 with +' },
    connectTo: { type: ['string', 'null'], description: 'E.164 with +; null for a menu request' },
    menu: { type: 'boolean', description: 'the customer is put in the access-number menu instead of being connected to connectTo' },
    origin: { type: 'string' },
    legACallId: { type: ['string', 'null'], description: 'the CDR call id of the call to callMe' },
    legBCallId: {
      type: ['string', 'null'],
      description: 'the CDR call id of the call to connectTo; for a menu request, of the latest call placed from the menu (callback-<id>-b, -b2, …)',
    },
    createdAt: dateTime,
    updatedAt: dateTime,
  },
} as const;
const uuid = { type: 'string', pattern: '^[0-9a-fA-F-]{36}$' } as const;
const selfParams = { type: 'object', required: ['id'], additionalProperties: false, properties: { id: uuid } } as const;
const accountOnly = { type: 'object', required: ['accountId'], additionalProperties: false, properties: { accountId: id } } as const;
const accountParams = { type: 'object', required: ['accountId', 'id'], additionalProperties: false, properties: { accountId: id, id: uuid } } as const;

const shown = (c: CallbackRequest) => ({
  id: c.id,
  status: c.status,
  reason: c.reason,
  callMe: `+${c.callMe}`,
  connectTo: c.connectTo === null ? null : `+${c.connectTo}`,
  menu: c.connectTo === null,
  origin: c.origin,
  legACallId: c.legACallId,
  legBCallId: c.legBCallId,
  createdAt: c.createdAt.toISOString(),
  updatedAt: c.updatedAt.toISOString(),
});

type Body = { callMe: string; connectTo?: string; menu?: boolean };

export function callbackRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const TAG = ['callbacks'];

  const request = async (req: FastifyRequest, reply: FastifyReply, accountId: number, b: Body, origin: CallbackOrigin) => {
    const a = await ctx.accounts.get(accountId);
    // the schema admits exactly one kind: connectTo, or menu: true
    const c = await ctx.callbacks.request(a, b.callMe, b.menu === true ? null : b.connectTo!, origin);
    await audit(
      ctx,
      req,
      'callback.request',
      { customerId: a.customerId, accountId: a.id },
      { callback: c.id, ...(c.connectTo === null ? { menu: true } : {}) },
    );
    return reply.code(202).send(shown(c));
  };
  const one = async (accountId: number, callbackId: string) => {
    const c = await ctx.callbacks.get(callbackId.toLowerCase());
    if (!c || c.accountId !== accountId) throw new AppError('UNKNOWN_CALLBACK');
    return shown(c);
  };

  app.post<{ Body: Body }>(
    '/v1/self/callbacks',
    {
      config: { access: 'customer' },
      schema: { tags: ['self-care'], summary: 'Call me back and connect me to a number, or give me the access-number menu', body, response: { 202: callback } },
    },
    async (req, reply) => request(req, reply, customerOf(req).accountId, req.body, 'self-care'),
  );
  app.get<{ Querystring: { limit?: number } }>(
    '/v1/self/callbacks',
    {
      config: { access: 'customer' },
      schema: {
        tags: ['self-care'],
        summary: 'My recent callback requests, newest first',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { limit: { type: 'integer', minimum: 1, maximum: 50, default: 20 } },
        },
        response: { 200: { type: 'object', required: ['items'], properties: { items: { type: 'array', items: callback } } } },
      },
    },
    async (req) => ({ items: (await ctx.callbacks.recent(customerOf(req).accountId, req.query.limit ?? 20)).map(shown) }),
  );
  const destination = { type: 'object', required: ['number'], properties: { number: { type: ['string', 'null'], description: 'E.164 with +' } } } as const;
  const plus = (d: string | null) => ({ number: d === null ? null : `+${d}` });
  app.get(
    '/v1/self/callback-destination',
    {
      config: { access: 'customer' },
      schema: { tags: ['self-care'], summary: 'The number a call to a callback number connects me to', response: { 200: destination } },
    },
    async (req) => plus(await ctx.callbacks.destination(customerOf(req).accountId)),
  );
  app.put<{ Body: { number: string | null } }>(
    '/v1/self/callback-destination',
    {
      config: { access: 'customer' },
      schema: {
        tags: ['self-care'],
        summary: 'Set (or clear, with null) the number a call to a callback number connects me to',
        body: { type: 'object', required: ['number'], additionalProperties: false, properties: { number: { anyOf: [dialledNumber, { type: 'null' }] } } },
        response: { 200: destination },
      },
    },
    async (req) => {
      const a = await ctx.accounts.get(customerOf(req).accountId);
      const d = await ctx.callbacks.setDestination(a, req.body.number);
      await audit(ctx, req, 'callback.destination', { customerId: a.customerId, accountId: a.id }, { set: d !== null });
      return plus(d);
    },
  );
  app.get<{ Params: { id: string } }>(
    '/v1/self/callbacks/:id',
    {
      config: { access: 'customer' },
      schema: { tags: ['self-care'], summary: 'One of my callback requests', params: selfParams, response: { 200: callback } },
    },
    async (req) => one(customerOf(req).accountId, req.params.id),
  );
  app.post<{ Params: { accountId: number }; Body: Body }>(
    '/v1/accounts/:accountId/callbacks',
    {
      config: { access: 'admin' },
      schema: {
        tags: TAG,
        summary: "Call an account's customer back and connect them to a number, or give them the access-number menu",
        params: accountOnly,
        body,
        response: { 202: callback },
      },
    },
    async (req, reply) => request(req, reply, req.params.accountId, req.body, 'operator'),
  );
  app.get<{ Params: { accountId: number; id: string } }>(
    '/v1/accounts/:accountId/callbacks/:id',
    { config: { access: 'read' }, schema: { tags: TAG, summary: "One of an account's callback requests", params: accountParams, response: { 200: callback } } },
    async (req) => {
      const a = await ctx.accounts.get(req.params.accountId);
      await mayRead(ctx, req, { customerId: a.customerId });
      return one(a.id, req.params.id);
    },
  );
}
