import type { FastifyInstance } from 'fastify';
import { AppError } from '../../errors.ts';
import { principalOf } from '../api-context.ts';
import type { ApiContext } from '../api-context.ts';
import { id } from '../schemas.ts';
import { audit } from './common.ts';

const TAG = ['calls'];
const liveCall = {
  type: 'object',
  properties: {
    callId: { type: 'string' },
    accountId: { type: ['integer', 'null'] },
    state: { type: 'string' },
    reserved: { type: 'integer' },
    startedAt: { type: ['string', 'null'], format: 'date-time' },
    reservedUntil: { type: ['string', 'null'], format: 'date-time' },
  },
} as const;

/** Live calls (from Redis) and hanging one up (a command to the SIP application). */
export function callRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get<{ Querystring: { accountId?: number } }>(
    '/v1/calls',
    {
      config: { access: 'read' },
      schema: {
        tags: TAG,
        summary: 'Calls in progress (holding a credit reservation)',
        querystring: { type: 'object', additionalProperties: false, properties: { accountId: id } },
        response: { 200: { type: 'object', properties: { items: { type: 'array', items: liveCall } } } },
      },
    },
    async (req) => ({ items: await ctx.liveCalls.list(req.query.accountId) }),
  );

  app.delete<{ Params: { callId: string } }>(
    '/v1/calls/:callId',
    {
      config: { access: 'admin' },
      schema: {
        tags: TAG,
        summary: 'Hang up a call: the SIP application ends it and settles it',
        params: {
          type: 'object',
          required: ['callId'],
          additionalProperties: false,
          properties: { callId: { type: 'string', pattern: '^[\\x21-\\x7e]{1,256}$' } },
        },
        response: {
          202: {
            type: 'object',
            properties: {
              callId: { type: 'string' },
              accountId: { type: ['integer', 'null'] },
              receivers: { type: 'integer', description: 'SIP application instances that received the command' },
            },
          },
        },
      },
    },
    async (req, reply) => {
      const call = (await ctx.liveCalls.list()).find((c) => c.callId === req.params.callId);
      if (!call) throw new AppError('UNKNOWN_CALL');
      const receivers = await ctx.liveCalls.hangup(call, principalOf(req).actor);
      await audit(ctx, req, 'call.hangup', { accountId: call.accountId });
      return reply.status(202).send({ callId: call.callId, accountId: call.accountId, receivers });
    },
  );
}
