import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../api-context.ts';
import type { ApiMetrics } from '../metrics.ts';

export function systemRoutes(app: FastifyInstance, ctx: ApiContext, metrics: ApiMetrics): void {
  app.get(
    '/health',
    {
      config: { access: 'public' },
      schema: {
        tags: ['system'],
        summary: 'The process is up',
        response: { 200: { type: 'object', required: ['status'], properties: { status: { type: 'string' } } } },
      },
    },
    async () => ({ status: 'ok' }),
  );

  app.get(
    '/ready',
    {
      config: { access: 'public' },
      schema: {
        tags: ['system'],
        summary: 'Postgres and Redis answer (503 otherwise)',
        response: {
          200: { type: 'object', properties: { status: { type: 'string' }, checks: { type: 'object', additionalProperties: { type: 'string' } } } },
          503: { type: 'object', properties: { status: { type: 'string' }, checks: { type: 'object', additionalProperties: { type: 'string' } } } },
        },
      },
    },
    async (_req, reply) => {
      const checks: Record<string, string> = {};
      const run = async (name: string, f: () => Promise<unknown>) => {
        try {
          await f();
          checks[name] = 'ok';
        } catch (err) {
          checks[name] = (err as Error).message;
        }
      };
      await Promise.all(Object.entries(ctx.dependencies).map(([name, check]) => run(name, check)));
      const ok = Object.values(checks).every((v) => v === 'ok');
      return reply.status(ok ? 200 : 503).send({ status: ok ? 'ready' : 'not ready', checks });
    },
  );

  app.get(
    '/metrics',
    {
      config: { access: 'public' },
      schema: { tags: ['system'], summary: 'Prometheus metrics', response: { 200: { content: { 'text/plain': { schema: { type: 'string' } } } } } },
    },
    async (_req, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );

  app.get(
    '/openapi.json',
    {
      config: { access: 'public' },
      schema: { hide: true },
    },
    async () => app.swagger(),
  );
}
