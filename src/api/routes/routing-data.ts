import type { FastifyInstance } from 'fastify';
import { AppError } from '../../errors.ts';
import type { ApiContext } from '../api-context.ts';
import { dateTime, e164, id } from '../schemas.ts';
import { audit } from './common.ts';

const TAG = ['routing'];
const carrierIdParams = { type: 'object', required: ['carrierId'], additionalProperties: false, properties: { carrierId: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$' } } } as const;
const numberParams = { type: 'object', required: ['number'], additionalProperties: false, properties: { number: e164 } } as const;
const gateway = {
  type: 'object',
  properties: {
    id: { type: 'integer' }, carrierId: { type: 'string' }, address: { type: 'string' }, port: { type: 'integer' }, transport: { type: 'string' },
    priority: { type: 'integer' }, weight: { type: 'integer' }, techPrefix: { type: 'string' }, enabled: { type: 'boolean' },
    authUsername: { type: ['string', 'null'] }, hasAuthPassword: { type: 'boolean' },
  },
} as const;
const carrier = {
  type: 'object',
  properties: {
    id: { type: 'string' }, name: { type: 'string' }, tariffId: { type: ['string', 'null'] }, enabled: { type: 'boolean' },
    prefixes: { type: 'array', items: { type: 'string' } }, addresses: { type: 'array', items: { type: 'string' } }, gateways: { type: 'array', items: gateway },
  },
} as const;
const GATEWAY = `id, carrier_id as "carrierId", address, port, transport, priority, weight, tech_prefix as "techPrefix", enabled,
  auth_username as "authUsername", auth_password is not null as "hasAuthPassword"`;
const removed = { 200: { type: 'object', properties: { removed: { type: 'boolean' } } } } as const;

interface CarrierBody { name: string; tariffId?: string | null; enabled?: boolean; prefixes?: string[]; addresses?: string[] }
interface GatewayBody { address: string; port?: number; transport?: 'udp' | 'tcp'; priority?: number; weight?: number; techPrefix?: string; enabled?: boolean; authUsername?: string | null; authPassword?: string | null }

function pgError(err: unknown): unknown {
  const e = err as { code?: string; constraint?: string };
  if (e.code === '23503') return new AppError(e.constraint?.includes('tariff') ? 'UNKNOWN_TARIFF' : e.constraint?.includes('account') ? 'UNKNOWN_ACCOUNT' : 'UNKNOWN_CARRIER');
  if (e.code === '23505') return new AppError('ALREADY_EXISTS');
  if (e.code === '22P02' || e.code === '23514') return new AppError('VALIDATION_FAILED', 'a value is not valid');
  return err;
}

/** Carriers and their gateways, access numbers and DIDs (personal numbers). */
export function routingRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const carrierOf = async (carrierId: string) => {
    const { rows } = await ctx.pool.query<{ id: string; name: string; tariffId: string | null; enabled: boolean }>(
      'select id, name, tariff_id as "tariffId", enabled from carriers where id = $1', [carrierId]);
    if (!rows[0]) throw new AppError('UNKNOWN_CARRIER');
    const [p, a, g] = await Promise.all([
      ctx.pool.query<{ prefix: string }>('select prefix from carrier_prefixes where carrier_id = $1 order by prefix', [carrierId]),
      ctx.pool.query<{ network: string }>('select network::text as network from carrier_addresses where carrier_id = $1 order by network', [carrierId]),
      ctx.pool.query(`select ${GATEWAY} from gateways where carrier_id = $1 order by priority, id`, [carrierId]),
    ]);
    return { ...rows[0], prefixes: p.rows.map((r) => r.prefix), addresses: a.rows.map((r) => r.network), gateways: g.rows };
  };

  app.get('/v1/carriers', {
    config: { access: 'read' },
    schema: { tags: TAG, summary: 'Carriers with their gateways', response: { 200: { type: 'object', properties: { items: { type: 'array', items: carrier } } } } },
  }, async () => {
    const { rows } = await ctx.pool.query<{ id: string }>('select id from carriers order by id');
    return { items: await Promise.all(rows.map((r) => carrierOf(r.id))) };
  });

  app.get<{ Params: { carrierId: string } }>('/v1/carriers/:carrierId', {
    config: { access: 'read' },
    schema: { tags: TAG, summary: 'A carrier', params: carrierIdParams, response: { 200: carrier } },
  }, async (req) => carrierOf(req.params.carrierId));

  app.put<{ Params: { carrierId: string }; Body: CarrierBody }>('/v1/carriers/:carrierId', {
    config: { access: 'admin' },
    schema: {
      tags: TAG, summary: 'Create or replace a carrier (its prefixes and trusted addresses are replaced; gateways stay)', params: carrierIdParams,
      body: {
        type: 'object', required: ['name'], additionalProperties: false,
        properties: {
          name: { type: 'string', minLength: 1, maxLength: 200 }, tariffId: { type: ['string', 'null'], pattern: '^[A-Za-z0-9_.-]{1,64}$' }, enabled: { type: 'boolean' },
          prefixes: { type: 'array', maxItems: 10000, uniqueItems: true, items: { type: 'string', pattern: '^[0-9]{0,15}$' } },
          addresses: { type: 'array', maxItems: 1000, uniqueItems: true, items: { type: 'string', pattern: '^[0-9a-fA-F:.]{2,45}(/[0-9]{1,3})?$' } },
        },
      },
      response: { 200: carrier },
    },
  }, async (req) => {
    const b = req.body;
    const client = await ctx.pool.connect();
    try {
      await client.query('begin');
      await client.query(
        `insert into carriers (id, name, tariff_id, enabled) values ($1, $2, $3, $4)
         on conflict (id) do update set name = excluded.name, tariff_id = excluded.tariff_id, enabled = excluded.enabled`,
        [req.params.carrierId, b.name, b.tariffId ?? null, b.enabled ?? true]);
      await client.query('delete from carrier_prefixes where carrier_id = $1', [req.params.carrierId]);
      await client.query('insert into carrier_prefixes (carrier_id, prefix) select $1, unnest($2::text[])', [req.params.carrierId, b.prefixes ?? ['']]);
      await client.query('delete from carrier_addresses where carrier_id = $1', [req.params.carrierId]);
      await client.query('insert into carrier_addresses (carrier_id, network) select $1, unnest($2::cidr[])', [req.params.carrierId, b.addresses ?? []]);
      await client.query('commit');
    } catch (err) {
      await client.query('rollback');
      throw pgError(err);
    } finally {
      client.release();
    }
    return carrierOf(req.params.carrierId);
  });

  app.delete<{ Params: { carrierId: string } }>('/v1/carriers/:carrierId', {
    config: { access: 'admin' },
    schema: { tags: TAG, summary: 'Remove a carrier with its gateways', params: carrierIdParams, response: removed },
  }, async (req) => {
    const { rowCount } = await ctx.pool.query('delete from carriers where id = $1', [req.params.carrierId]);
    if (!rowCount) throw new AppError('UNKNOWN_CARRIER');
    return { removed: true };
  });

  app.post<{ Params: { carrierId: string }; Body: GatewayBody }>('/v1/carriers/:carrierId/gateways', {
    config: { access: 'admin' },
    schema: {
      tags: TAG, summary: 'Add a gateway to a carrier (an auth password is stored for outbound challenges and never returned)', params: carrierIdParams,
      body: {
        type: 'object', required: ['address'], additionalProperties: false,
        properties: {
          address: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[A-Za-z0-9.:-]+$' }, port: { type: 'integer', minimum: 1, maximum: 65535 },
          transport: { type: 'string', enum: ['udp', 'tcp'] }, priority: { type: 'integer', minimum: 0, maximum: 1000000 }, weight: { type: 'integer', minimum: 1, maximum: 1000 },
          techPrefix: { type: 'string', pattern: '^[0-9#*]{0,16}$' }, enabled: { type: 'boolean' },
          authUsername: { type: ['string', 'null'], maxLength: 128 }, authPassword: { type: ['string', 'null'], maxLength: 128 },
        },
      },
      response: { 201: gateway },
    },
  }, async (req, reply) => {
    const b = req.body;
    try {
      const { rows } = await ctx.pool.query(
        `insert into gateways (carrier_id, address, port, transport, priority, weight, tech_prefix, enabled, auth_username, auth_password)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) returning ${GATEWAY}`,
        [req.params.carrierId, b.address, b.port ?? 5060, b.transport ?? 'udp', b.priority ?? 10, b.weight ?? 100, b.techPrefix ?? '', b.enabled ?? true, b.authUsername ?? null, b.authPassword ?? null]);
      return reply.status(201).send(rows[0]);
    } catch (err) {
      throw pgError(err);
    }
  });

  app.delete<{ Params: { gatewayId: number } }>('/v1/gateways/:gatewayId', {
    config: { access: 'admin' },
    schema: { tags: TAG, summary: 'Remove a gateway', params: { type: 'object', required: ['gatewayId'], additionalProperties: false, properties: { gatewayId: id } }, response: removed },
  }, async (req) => {
    const { rowCount } = await ctx.pool.query('delete from gateways where id = $1', [req.params.gatewayId]);
    if (!rowCount) throw new AppError('UNKNOWN_GATEWAY');
    return { removed: true };
  });

  const accessNumber = { type: 'object', properties: { number: { type: 'string' }, language: { type: 'string' }, description: { type: 'string' } } } as const;
  app.get('/v1/access-numbers', {
    config: { access: 'read' },
    schema: { tags: TAG, summary: 'Access numbers', response: { 200: { type: 'object', properties: { items: { type: 'array', items: accessNumber } } } } },
  }, async () => ({ items: (await ctx.pool.query('select number, language, description from access_numbers order by number')).rows }));

  app.put<{ Params: { number: string }; Body: { language?: string; description?: string } }>('/v1/access-numbers/:number', {
    config: { access: 'admin' },
    schema: {
      tags: TAG, summary: 'Create or replace an access number', params: numberParams,
      body: { type: 'object', additionalProperties: false, properties: { language: { type: 'string', pattern: '^[a-z]{2}(-[A-Z]{2})?$' }, description: { type: 'string', maxLength: 200 } } },
      response: { 200: accessNumber },
    },
  }, async (req) => (await ctx.pool.query(
    `insert into access_numbers (number, language, description) values ($1, $2, $3)
     on conflict (number) do update set language = excluded.language, description = excluded.description returning number, language, description`,
    [req.params.number, req.body.language ?? 'en', req.body.description ?? ''])).rows[0]);

  app.delete<{ Params: { number: string } }>('/v1/access-numbers/:number', {
    config: { access: 'admin' },
    schema: { tags: TAG, summary: 'Remove an access number', params: numberParams, response: removed },
  }, async (req) => {
    const { rowCount } = await ctx.pool.query('delete from access_numbers where number = $1', [req.params.number]);
    if (!rowCount) throw new AppError('UNKNOWN_NUMBER');
    return { removed: true };
  });

  const did = { type: 'object', properties: { number: { type: 'string' }, accountId: { type: 'integer' }, sipUsername: { type: ['string', 'null'] }, createdAt: dateTime } } as const;
  const DID = 'number, account_id as "accountId", sip_username as "sipUsername", created_at as "createdAt"';
  app.get<{ Querystring: { accountId?: number } }>('/v1/dids', {
    config: { access: 'read' },
    schema: {
      tags: TAG, summary: 'Personal numbers (DIDs)', querystring: { type: 'object', additionalProperties: false, properties: { accountId: id } },
      response: { 200: { type: 'object', properties: { items: { type: 'array', items: did } } } },
    },
  }, async (req) => ({ items: (await ctx.pool.query(`select ${DID} from dids where ($1::bigint is null or account_id = $1) order by number`, [req.query.accountId ?? null])).rows }));

  app.put<{ Params: { number: string }; Body: { accountId: number; sipUsername?: string | null } }>('/v1/dids/:number', {
    config: { access: 'admin' },
    schema: {
      tags: TAG, summary: 'Assign a personal number to an account (and optionally one of its SIP usernames)', params: numberParams,
      body: { type: 'object', required: ['accountId'], additionalProperties: false, properties: { accountId: id, sipUsername: { type: ['string', 'null'], pattern: '^[A-Za-z0-9_.-]{3,64}$' } } },
      response: { 200: did },
    },
  }, async (req) => {
    const a = await ctx.accounts.get(req.body.accountId);
    if (a.status === 'closed') throw new AppError('ACCOUNT_CLOSED');
    const { rows } = await ctx.pool.query(
      `insert into dids (number, account_id, sip_username) values ($1, $2, $3)
       on conflict (number) do update set account_id = excluded.account_id, sip_username = excluded.sip_username returning ${DID}`,
      [req.params.number, a.id, req.body.sipUsername ?? null]);
    await audit(ctx, req, 'did.assign', { customerId: a.customerId, accountId: a.id });
    return rows[0];
  });

  app.delete<{ Params: { number: string } }>('/v1/dids/:number', {
    config: { access: 'admin' },
    schema: { tags: TAG, summary: 'Release a personal number', params: numberParams, response: removed },
  }, async (req) => {
    const { rowCount } = await ctx.pool.query('delete from dids where number = $1', [req.params.number]);
    if (!rowCount) throw new AppError('UNKNOWN_NUMBER');
    return { removed: true };
  });
}
