/**
 * The web pages, served by the API process on the same origin: customer self-care under /my,
 * the operator console under /console, static assets under /web/assets. Server-rendered HTML;
 * one small script adds live updates (docs/web.md explains the choice).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../api-context.ts';
import { AppError } from '../../errors.ts';
import { NUL_REFUSAL } from '../json-body.ts';
import { notFoundHandler } from '../problem.ts';
import { customerPages } from './customer-pages.ts';
import { html } from '../../common/html.ts';
import { parseMultipart } from './multipart.ts';
import { operatorPages } from './operator-pages.ts';
import { T, pageRoute, sendPage } from './web-kit.ts';
import type { Web } from './web-kit.ts';
import { securityHeaders } from './web-security.ts';
import { unsubscribePages } from './unsubscribe-pages.ts';
import { orderPages } from './order-pages.ts';

const ASSETS: Record<string, string> = {
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
  'favicon.svg': 'image/svg+xml',
};

export async function registerWebPages(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  const files = new Map(Object.entries(ASSETS).map(([name, type]) => [name, { type, body: readFileSync(new URL(`./assets/${name}`, import.meta.url)) }]));
  const assetVersion = createHash('sha256')
    .update(Buffer.concat([...files.values()].map((f) => f.body)))
    .digest('hex')
    .slice(0, 12);
  const web: Web = { app, ctx, operators: ctx.operatorSessions, assetVersion };

  await app.register(async (scope) => {
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 64 * 1024 }, (_req, body, done) => {
      const out: Record<string, string> = {};
      for (const [k, v] of new URLSearchParams(String(body))) if (!(k in out)) out[k] = v;
      if (Object.entries(out).some(([k, v]) => k.includes('\u0000') || v.includes('\u0000'))) done(new AppError('INVALID_BODY', NUL_REFUSAL), undefined);
      else done(null, out);
    });
    scope.addContentTypeParser('multipart/form-data', { parseAs: 'buffer', bodyLimit: 20 * 1024 * 1024 }, (req, body, done) => {
      const parsed = parseMultipart(body as Buffer, String(req.headers['content-type']));
      done(null, parsed ?? {});
    });
    // a malformed or oversized form is the visitor's mistake (4xx page); only a fault of ours is a 500
    scope.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
      const status =
        err instanceof AppError ? err.spec.http : typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
      if (status >= 500) req.log.error({ err }, 'web page failed');
      else req.log.info({ status, code: (err as { code?: string }).code }, 'web request refused');
      const t = T(req);
      return sendPage(web, req, reply, {
        title: status >= 500 ? t.common.error : t.common.badRequest,
        status,
        body: html`<p><a href="/my">${t.common.backHome}</a></p>`,
      });
    });

    scope.get('/web/assets/:name', pageRoute('Static assets of the web pages (script and stylesheet)'), async (req, reply) => {
      const f = files.get((req.params as { name: string }).name);
      securityHeaders(reply);
      if (!f) {
        notFoundHandler(req, reply);
        return reply;
      }
      return reply.header('cache-control', 'public, max-age=86400').type(f.type).send(f.body);
    });

    // browsers ask for /favicon.ico whatever the page links to
    scope.get('/favicon.ico', pageRoute('The icon of the web pages'), async (_req, reply) => reply.redirect(`/web/assets/favicon.svg?v=${assetVersion}`, 301));
    scope.get('/my/', pageRoute('Customer pages'), async (_req, reply) => reply.redirect('/my', 303));
    customerPages(web, scope);
    operatorPages(web, scope);
    unsubscribePages(web, scope);
    orderPages(web, scope);
  });
}
