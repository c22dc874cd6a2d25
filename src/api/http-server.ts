import Fastify from 'fastify';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { problemHandler } from './problem.ts';

export interface HttpDeps {
  logger: Logger;
  /** Prometheus text exposition of the process's metrics. */
  metrics?: () => Promise<string>;
  checks: Record<string, () => Promise<void>>; // readiness checks by name
}

/**
 * The SIP application process's own HTTP surface: health and readiness for load balancers and
 * orchestrators. The account API runs as its own process (src/api/api-main.ts).
 */
export function buildHttpServer(deps: HttpDeps): FastifyInstance {
  const app = Fastify({ loggerInstance: deps.logger.child({ component: 'health' }) as FastifyBaseLogger });
  app.setErrorHandler(problemHandler);
  app.setNotFoundHandler((req, reply) =>
    problemHandler(Object.assign(new Error(`no route ${req.method} ${req.url}`), { statusCode: 404, code: 'NOT_FOUND' }), req, reply),
  );

  app.get('/health', { schema: { response: { 200: { type: 'object', properties: { status: { type: 'string' } } } } } }, async () => ({ status: 'ok' }));

  app.get('/ready', async (_req, reply) => {
    const results: Record<string, string> = {};
    let ok = true;
    for (const [name, check] of Object.entries(deps.checks)) {
      try {
        await check();
        results[name] = 'ok';
      } catch (err) {
        ok = false;
        results[name] = (err as Error).message;
      }
    }
    return reply.status(ok ? 200 : 503).send({ status: ok ? 'ready' : 'not ready', checks: results });
  });

  if (deps.metrics) {
    const metrics = deps.metrics;
    app.get('/metrics', async (_req, reply) => reply.type('text/plain; version=0.0.4').send(await metrics()));
  }

  return app;
}
