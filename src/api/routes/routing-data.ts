import type { FastifyInstance } from 'fastify';
import type { CarrierInput, GatewayInput } from '../../provisioning/routing-data.ts';
import type { ApiContext } from '../api-context.ts';
import { dateTime, e164, id } from '../schemas.ts';
import { audit } from './common.ts';
import { NO_CARD_NUMBER } from '../card-number-keyword.ts';

const TAG = ['routing'];
const carrierIdParams = {
  type: 'object',
  required: ['carrierId'],
  additionalProperties: false,
  properties: { carrierId: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$' } },
} as const;
const numberParams = { type: 'object', required: ['number'], additionalProperties: false, properties: { number: e164 } } as const;
const gateway = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    carrierId: { type: 'string' },
    address: { type: 'string' },
    port: { type: 'integer' },
    transport: { type: 'string' },
    priority: { type: 'integer' },
    weight: { type: 'integer' },
    techPrefix: { type: 'string' },
    enabled: { type: 'boolean' },
    authUsername: { type: ['string', 'null'] },
    hasAuthPassword: { type: 'boolean' },
  },
} as const;
const carrier = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    tariffId: { type: ['string', 'null'] },
    enabled: { type: 'boolean' },
    prefixes: { type: 'array', items: { type: 'string' } },
    addresses: { type: 'array', items: { type: 'string' } },
    gateways: { type: 'array', items: gateway },
  },
} as const;
const removed = { 200: { type: 'object', properties: { removed: { type: 'boolean' } } } } as const;

/** Carriers and their gateways, access numbers and DIDs (personal numbers). */
export function routingRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const routing = ctx.routing;

  app.get(
    '/v1/carriers',
    {
      config: { access: 'read' },
      schema: {
        tags: TAG,
        summary: 'Carriers with their gateways',
        response: { 200: { type: 'object', properties: { items: { type: 'array', items: carrier } } } },
      },
    },
    async () => ({ items: await routing.carriers() }),
  );

  app.get<{ Params: { carrierId: string } }>(
    '/v1/carriers/:carrierId',
    {
      config: { access: 'read' },
      schema: { tags: TAG, summary: 'A carrier', params: carrierIdParams, response: { 200: carrier } },
    },
    async (req) => routing.carrier(req.params.carrierId),
  );

  app.put<{ Params: { carrierId: string }; Body: CarrierInput }>(
    '/v1/carriers/:carrierId',
    {
      config: { access: 'admin' },
      schema: {
        tags: TAG,
        summary: 'Create or replace a carrier (its prefixes and trusted addresses are replaced; gateways stay)',
        params: carrierIdParams,
        body: {
          type: 'object',
          required: ['name'],
          additionalProperties: false,
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 200, ...NO_CARD_NUMBER },
            tariffId: { type: ['string', 'null'], pattern: '^[A-Za-z0-9_.-]{1,64}$', ...NO_CARD_NUMBER },
            enabled: { type: 'boolean' },
            prefixes: { type: 'array', maxItems: 10000, uniqueItems: true, items: { type: 'string', pattern: '^[0-9]{0,15}$' } },
            addresses: { type: 'array', maxItems: 1000, uniqueItems: true, items: { type: 'string', pattern: '^[0-9a-fA-F:.]{2,45}(/[0-9]{1,3})?$' } },
          },
        },
        response: { 200: carrier },
      },
    },
    async (req) => routing.putCarrier(req.params.carrierId, req.body),
  );

  app.delete<{ Params: { carrierId: string } }>(
    '/v1/carriers/:carrierId',
    {
      config: { access: 'admin' },
      schema: { tags: TAG, summary: 'Remove a carrier with its gateways', params: carrierIdParams, response: removed },
    },
    async (req) => {
      await routing.removeCarrier(req.params.carrierId);
      return { removed: true };
    },
  );

  app.post<{ Params: { carrierId: string }; Body: GatewayInput }>(
    '/v1/carriers/:carrierId/gateways',
    {
      config: { access: 'admin' },
      schema: {
        tags: TAG,
        summary: 'Add a gateway to a carrier (an auth password is stored for outbound challenges and never returned)',
        params: carrierIdParams,
        body: {
          type: 'object',
          required: ['address'],
          additionalProperties: false,
          properties: {
            address: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[A-Za-z0-9.:-]+$', ...NO_CARD_NUMBER },
            port: { type: 'integer', minimum: 1, maximum: 65535 },
            transport: { type: 'string', enum: ['udp', 'tcp'] },
            priority: { type: 'integer', minimum: 0, maximum: 1000000 },
            weight: { type: 'integer', minimum: 1, maximum: 1000 },
            techPrefix: { type: 'string', pattern: '^[0-9#*]{0,16}$' },
            enabled: { type: 'boolean' },
            authUsername: { type: ['string', 'null'], maxLength: 128, ...NO_CARD_NUMBER },
            authPassword: { type: ['string', 'null'], maxLength: 128 },
          },
        },
        response: { 201: gateway },
      },
    },
    async (req, reply) => reply.status(201).send(await routing.addGateway(req.params.carrierId, req.body)),
  );

  app.delete<{ Params: { gatewayId: number } }>(
    '/v1/gateways/:gatewayId',
    {
      config: { access: 'admin' },
      schema: {
        tags: TAG,
        summary: 'Remove a gateway',
        params: { type: 'object', required: ['gatewayId'], additionalProperties: false, properties: { gatewayId: id } },
        response: removed,
      },
    },
    async (req) => {
      await routing.removeGateway(req.params.gatewayId);
      return { removed: true };
    },
  );

  const health = {
    type: 'object',
    properties: {
      gatewayId: { type: 'integer' },
      carrierId: { type: 'string' },
      address: { type: 'string' },
      port: { type: 'integer' },
      up: { type: 'boolean' },
      since: { type: 'integer' },
      lastProbeAt: { type: 'integer' },
      lastStatus: { type: 'integer' },
      failures: { type: 'integer' },
    },
  } as const;
  const transition = {
    type: 'object',
    properties: {
      gatewayId: { type: 'integer' },
      carrierId: { type: 'string' },
      up: { type: 'boolean' },
      at: { type: 'integer' },
      lastStatus: { type: 'integer' },
    },
  } as const;
  app.get(
    '/v1/gateways/health',
    {
      config: { access: 'read' },
      schema: {
        tags: TAG,
        summary: 'Gateway health from the OPTIONS probes: each gateway up or down (down ones are skipped by calls), and the last transitions, newest first',
        response: {
          200: {
            type: 'object',
            properties: { items: { type: 'array', items: health }, history: { type: 'array', items: transition } },
          },
        },
      },
    },
    async () => ({ items: await ctx.gatewayHealth.states(), history: await ctx.gatewayHealth.history() }),
  );

  const accessNumber = { type: 'object', properties: { number: { type: 'string' }, language: { type: 'string' }, description: { type: 'string' } } } as const;
  app.get(
    '/v1/access-numbers',
    {
      config: { access: 'read' },
      schema: { tags: TAG, summary: 'Access numbers', response: { 200: { type: 'object', properties: { items: { type: 'array', items: accessNumber } } } } },
    },
    async () => ({ items: await routing.accessNumbers() }),
  );

  app.put<{ Params: { number: string }; Body: { language?: string; description?: string } }>(
    '/v1/access-numbers/:number',
    {
      config: { access: 'admin' },
      schema: {
        tags: TAG,
        summary: 'Create or replace an access number',
        params: numberParams,
        body: {
          type: 'object',
          additionalProperties: false,
          properties: { language: { type: 'string', pattern: '^[a-z]{2}(-[A-Z]{2})?$' }, description: { type: 'string', maxLength: 200, ...NO_CARD_NUMBER } },
        },
        response: { 200: accessNumber },
      },
    },
    async (req) => routing.putAccessNumber(req.params.number, req.body),
  );

  app.delete<{ Params: { number: string } }>(
    '/v1/access-numbers/:number',
    {
      config: { access: 'admin' },
      schema: { tags: TAG, summary: 'Remove an access number', params: numberParams, response: removed },
    },
    async (req) => {
      await routing.removeAccessNumber(req.params.number);
      return { removed: true };
    },
  );

  const did = {
    type: 'object',
    properties: { number: { type: 'string' }, accountId: { type: 'integer' }, sipUsername: { type: ['string', 'null'] }, createdAt: dateTime },
  } as const;
  app.get<{ Querystring: { accountId?: number } }>(
    '/v1/dids',
    {
      config: { access: 'read' },
      schema: {
        tags: TAG,
        summary: 'Personal numbers (DIDs)',
        querystring: { type: 'object', additionalProperties: false, properties: { accountId: id } },
        response: { 200: { type: 'object', properties: { items: { type: 'array', items: did } } } },
      },
    },
    async (req) => ({ items: await routing.dids(req.query.accountId) }),
  );

  app.put<{ Params: { number: string }; Body: { accountId: number; sipUsername?: string | null } }>(
    '/v1/dids/:number',
    {
      config: { access: 'admin' },
      schema: {
        tags: TAG,
        summary: 'Assign a personal number to an account (and optionally one of its SIP usernames)',
        params: numberParams,
        body: {
          type: 'object',
          required: ['accountId'],
          additionalProperties: false,
          properties: { accountId: id, sipUsername: { type: ['string', 'null'], pattern: '^[A-Za-z0-9_.-]{3,64}$', ...NO_CARD_NUMBER } },
        },
        response: { 200: did },
      },
    },
    async (req) => {
      const { did, account } = await routing.assignDid(req.params.number, req.body.accountId, req.body.sipUsername ?? null);
      await audit(ctx, req, 'did.assign', { customerId: account.customerId, accountId: account.id });
      return did;
    },
  );

  app.delete<{ Params: { number: string } }>(
    '/v1/dids/:number',
    {
      config: { access: 'admin' },
      schema: { tags: TAG, summary: 'Release a personal number', params: numberParams, response: removed },
    },
    async (req) => {
      await routing.releaseDid(req.params.number);
      return { removed: true };
    },
  );
}
