import type { FastifyInstance } from 'fastify';
import { SCOPES } from '../../accounts/api-keys.ts';
import type { Scope } from '../../accounts/api-keys.ts';
import { principalOf } from '../api-context.ts';
import type { ApiContext } from '../api-context.ts';
import { dateTime, nullableDateTime } from '../schemas.ts';
import { NO_CARD_NUMBER } from '../card-number-keyword.ts';

const TAG = ['api keys'];
const keyInfo = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    scopes: { type: 'array', items: { type: 'string' } },
    createdBy: { type: 'string' },
    createdAt: dateTime,
    revokedAt: nullableDateTime,
  },
} as const;

export function keyRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get(
    '/v1/api-keys',
    {
      config: { access: 'admin' },
      schema: {
        tags: TAG,
        summary: 'API keys (never their secrets)',
        response: { 200: { type: 'object', properties: { items: { type: 'array', items: keyInfo } } } },
      },
    },
    async () => ({ items: await ctx.keys.list() }),
  );

  app.post<{ Body: { name: string; scopes: Scope[] } }>(
    '/v1/api-keys',
    {
      config: { access: 'admin' },
      schema: {
        tags: TAG,
        summary: 'Create an API key; the key is in this response only',
        body: {
          type: 'object',
          required: ['name', 'scopes'],
          additionalProperties: false,
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 100, pattern: '\\S', ...NO_CARD_NUMBER },
            scopes: { type: 'array', minItems: 1, maxItems: 4, uniqueItems: true, items: { type: 'string', enum: [...SCOPES] } },
          },
        },
        response: { 201: { type: 'object', required: ['key'], properties: { key: { type: 'string' }, ...keyInfo.properties } } },
      },
    },
    async (req, reply) => {
      const { key, info } = await ctx.keys.create(req.body.name, req.body.scopes, principalOf(req).actor);
      return reply.status(201).send({ key, ...info });
    },
  );

  app.delete<{ Params: { keyId: string } }>(
    '/v1/api-keys/:keyId',
    {
      config: { access: 'admin' },
      schema: {
        tags: TAG,
        summary: 'Revoke an API key (at once in this process; other API processes within API_KEY_CACHE_MS)',
        params: { type: 'object', required: ['keyId'], additionalProperties: false, properties: { keyId: { type: 'string', pattern: '^[a-f0-9]{12}$' } } },
        response: { 200: keyInfo },
      },
    },
    async (req) => {
      const info = await ctx.keys.revoke(req.params.keyId);
      for (const [token, v] of ctx.keyCache) if (v.id === info.id) ctx.keyCache.delete(token);
      return info;
    },
  );
}
