/**
 * The account API: operators (API keys with scopes) and customers (self-care sessions), every
 * route with JSON schemas for params, query, body and response, an OpenAPI document at
 * /openapi.json rendered at /docs, errors as application/problem+json (src/api/problem.ts).
 *
 * Access is declared per route (`config.access`): 'public', 'customer', or the operator scope
 * the route needs ('read' | 'billing' | 'admin' | 'recordings'). One onRequest hook enforces it before the
 * body is even parsed, so a request without credentials gets 401 whatever else is wrong with it.
 */
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import Fastify, { LogController } from 'fastify';
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify';
import { scopeAllows } from '../accounts/api-keys.ts';
import { AppError } from '../errors.ts';
import { buildContext } from './api-context.ts';
import type { ApiContext, ApiDeps, Principal } from './api-context.ts';
import { NUL_REFUSAL, registerStrictJson } from './json-body.ts';
import { customerMayAct } from './customer-access.ts';
import { createMetrics } from './metrics.ts';
import { clientProblem, notFoundHandler, problemHandler } from './problem.ts';
import { accountRoutes } from './routes/accounts.ts';
import { callRoutes } from './routes/calls.ts';
import { ivrSessionRoutes } from './routes/ivr-sessions.ts';
import { keyRoutes } from './routes/api-keys.ts';
import { moneyRoutes } from './routes/money.ts';
import { privacyRoutes } from './routes/privacy.ts';
import { routingRoutes } from './routes/routing-data.ts';
import { selfCareRoutes } from './routes/self-care.ts';
import { systemRoutes } from './routes/system.ts';
import { tariffRoutes } from './routes/tariffs.ts';
import { voucherRoutes } from './routes/vouchers.ts';
import { orderRoutes, paymentWebhookRoutes } from './routes/orders.ts';
import { speedDialRoutes } from './routes/speed-dials.ts';
import { callbackRoutes } from './routes/callbacks.ts';
import { recordingRoutes } from './routes/recordings.ts';
import { mailingListRoutes, mailOutboxRoutes } from './routes/mailing-lists.ts';
import { registerWebPages } from './web/web-routes.ts';
import { problem } from './schemas.ts';
import { addCardNumberKeyword } from './card-number-keyword.ts';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

function validators() {
  const common = { strict: false, allErrors: false, useDefaults: true, removeAdditional: false } as const;
  const body = addCardNumberKeyword(addFormats(new Ajv({ ...common, coerceTypes: false }))); // JSON bodies: "100" is not 100
  const other = addCardNumberKeyword(addFormats(new Ajv({ ...common, coerceTypes: 'array' }))); // params, query and headers are text
  return ({ schema, httpPart }: { schema: object; httpPart?: string }) => (httpPart === 'body' ? body : other).compile(schema);
}

export async function buildApi(deps: ApiDeps): Promise<{ app: FastifyInstance; ctx: ApiContext; routes: { method: string; url: string; access: string }[] }> {
  const ctx = buildContext(deps);
  const app = Fastify({
    loggerInstance: deps.log.child({ component: 'api' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: deps.settings.trustProxy,
    bodyLimit: 256 * 1024,
    return503OnClosing: true,
    // errors before routing (a URL that cannot be decoded) and on the socket (431, 414, malformed
    // HTTP) are problem+json too
    frameworkErrors: (err, req, reply) => problemHandler(err, req, reply),
    clientErrorHandler: clientProblem,
  });
  app.setValidatorCompiler(validators());
  app.setErrorHandler(problemHandler);
  app.setNotFoundHandler(notFoundHandler);
  registerStrictJson(app);
  app.addContentTypeParser('text/csv', { parseAs: 'string', bodyLimit: 20 * 1024 * 1024 }, (_req, body, done) =>
    String(body).includes('\u0000') ? done(new AppError('INVALID_BODY', NUL_REFUSAL), undefined) : done(null, body),
  );
  // a NUL in a path or query (%00) would reach Postgres as text, which cannot hold it
  app.addHook('onRequest', async (req) => {
    if (/%00/i.test(req.url)) throw new AppError('VALIDATION_FAILED', 'a NUL character (%00) cannot be part of a URL');
  });

  const metrics = createMetrics(ctx);
  app.addHook('onResponse', async (req, reply) => {
    metrics.httpDuration.observe({ method: req.method, route: req.routeOptions.url ?? 'unknown', status: String(reply.statusCode) }, reply.elapsedTime / 1000);
    req.log.debug({ method: req.method, route: req.routeOptions.url, status: reply.statusCode, ms: reply.elapsedTime }, 'request');
  });

  // a write route whose body is all optional may be sent without one
  app.addHook('preValidation', async (req) => {
    if (req.body === undefined && req.method !== 'GET' && req.method !== 'HEAD') req.body = {};
  });

  const routes: { method: string; url: string; access: string }[] = [];
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/docs')) route.config = { ...route.config, access: 'public' }; // the rendered OpenAPI document
    const access = route.config?.access;
    for (const method of [route.method].flat())
      if (method !== 'HEAD' && access && !route.url.startsWith('/docs')) routes.push({ method, url: route.url, access });
    const schema = (route.schema ??= {}) as Record<string, unknown>;
    schema.response = { ...(schema.response as object | undefined), '4xx': problem, '5xx': problem };
    if (access && access !== 'public') {
      schema.security = [{ bearer: [] }];
      const who = access === 'customer' ? 'a customer session (POST /v1/self/login)' : `an API key with scope ${access}`;
      schema.description = `${schema.description ? `${String(schema.description)}\n\n` : ''}Needs ${who}.`;
    }
  });

  app.addHook('onRequest', async (req, reply) => {
    const access = req.routeOptions.config.access;
    if (access === 'public' || req.routeOptions.url === undefined) return;
    const principal = await authenticate(ctx, req);
    if (!principal) {
      void reply.header('www-authenticate', 'Bearer');
      throw new AppError('UNAUTHENTICATED');
    }
    if (access === 'customer' ? principal.kind !== 'customer' : principal.kind !== 'operator' || !scopeAllows(principal.scopes, access ?? 'admin')) {
      throw new AppError('FORBIDDEN', access === 'customer' ? 'this route is for customers' : `this route needs scope ${access ?? 'admin'}`);
    }
    const wait = ctx.limiter.take(principal.actor);
    if (wait > 0) throw new AppError('RATE_LIMITED', undefined, { retryAfter: wait });
    req.principal = principal;
  });

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Softswitch account API',
        version: '1.0.0',
        description:
          'Operators (API keys) and customers (self-care sessions). Money is integer micro-units (1e-6 of the currency). Errors are application/problem+json with stable codes.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'an API key (sk_...) or a self-care session token (st_...)' } } },
    },
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list' } });

  systemRoutes(app, ctx, metrics);
  keyRoutes(app, ctx);
  accountRoutes(app, ctx);
  moneyRoutes(app, ctx);
  tariffRoutes(app, ctx);
  voucherRoutes(app, ctx);
  speedDialRoutes(app, ctx);
  callbackRoutes(app, ctx);
  recordingRoutes(app, ctx);
  mailingListRoutes(app, ctx);
  mailOutboxRoutes(app, ctx);
  callRoutes(app, ctx);
  ivrSessionRoutes(app, ctx);
  routingRoutes(app, ctx);
  privacyRoutes(app, ctx);
  selfCareRoutes(app, ctx);
  orderRoutes(app, ctx);
  await paymentWebhookRoutes(app, ctx);
  await registerWebPages(app, ctx);
  return { app, ctx, routes };
}

async function authenticate(ctx: ApiContext, req: FastifyRequest): Promise<Principal | undefined> {
  const m = /^Bearer ([\x21-\x7e]{1,200})$/.exec(req.headers.authorization ?? '');
  if (!m) return undefined;
  const token = m[1]!;
  if (token.startsWith('sk_')) {
    const now = Date.now();
    let hit = ctx.keyCache.get(token);
    if (!hit || hit.until < now) {
      ctx.keyCache.delete(token);
      const v = await ctx.keys.verify(token);
      if (!v) return undefined;
      hit = { ...v, until: now + ctx.settings.apiKeyCacheMs };
      if (ctx.settings.apiKeyCacheMs > 0) {
        if (ctx.keyCache.size > 1000) ctx.keyCache.clear();
        ctx.keyCache.set(token, hit);
      }
    }
    return { kind: 'operator', keyId: hit.id, scopes: hit.scopes, actor: `apikey:${hit.id}` };
  }
  if (token.startsWith('st_')) {
    const s = await ctx.sessions.get(token);
    if (!s) return undefined;
    if (!(await customerMayAct(ctx, s))) {
      await ctx.sessions.end(token);
      return undefined;
    }
    return { kind: 'customer', ...s, token, actor: `customer:${s.customerId}` };
  }
  return undefined;
}
