import Fastify from 'fastify';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { BalanceStore } from '../billing/balance/balance-store.ts';
import { AppError } from '../errors.ts';
import { problemHandler } from './problem.ts';

export interface HttpDeps {
  logger: Logger;
  balances: BalanceStore;
  durableBalance(accountId: number): Promise<number | undefined>;
  checks: Record<string, () => Promise<void>>;   // readiness checks by name
}

const balanceSchema = {
  type: 'object',
  required: ['accountId', 'balance', 'reserved', 'available', 'callsInProgress', 'durableBalance'],
  properties: {
    accountId: { type: 'integer' }, balance: { type: 'integer' }, reserved: { type: 'integer' }, available: { type: 'integer' },
    callsInProgress: { type: 'integer' }, spentToday: { type: 'integer' }, creditFloor: { type: 'integer' }, status: { type: 'string' },
    durableBalance: { type: ['integer', 'null'] }, unit: { type: 'string' },
  },
} as const;

/** The HTTP surface of this stage: health, readiness and live balance. The full API builds on it. */
export function buildHttpServer(deps: HttpDeps): FastifyInstance {
  const app = Fastify({ loggerInstance: deps.logger.child({ component: 'api' }) as FastifyBaseLogger });
  app.setErrorHandler(problemHandler);
  app.setNotFoundHandler((req, reply) => problemHandler(Object.assign(new Error(`no route ${req.method} ${req.url}`), { statusCode: 404, code: 'NOT_FOUND' }), req, reply));

  app.get('/health', { schema: { response: { 200: { type: 'object', properties: { status: { type: 'string' } } } } } }, async () => ({ status: 'ok' }));

  app.get('/ready', async (_req, reply) => {
    const results: Record<string, string> = {};
    let ok = true;
    for (const [name, check] of Object.entries(deps.checks)) {
      try { await check(); results[name] = 'ok'; } catch (err) { ok = false; results[name] = (err as Error).message; }
    }
    return reply.status(ok ? 200 : 503).send({ status: ok ? 'ready' : 'not ready', checks: results });
  });

  app.get<{ Params: { accountId: number } }>('/v1/accounts/:accountId/balance', {
    schema: {
      params: { type: 'object', required: ['accountId'], properties: { accountId: { type: 'integer', minimum: 1 } } },
      response: { 200: balanceSchema },
    },
  }, async (req) => {
    const live = await deps.balances.get(req.params.accountId);
    if (!live) throw new AppError('UNKNOWN_ACCOUNT');
    return { ...live, durableBalance: (await deps.durableBalance(req.params.accountId)) ?? null, unit: 'micro' };
  });

  return app;
}
