import type { FastifyInstance } from 'fastify';
import type { MarketingList } from '../../accounts/consents.ts';
import type { ApiContext } from '../api-context.ts';
import { NO_CARD_NUMBER } from '../card-number-keyword.ts';
import { audit } from './common.ts';
import { listParams } from './privacy.ts';

/** Operators send a message to a mailing list: only its consenting recipients get it, each with a one-click unsubscribe. */
export function mailingListRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.post<{ Params: { list: MarketingList }; Body: { subject: string; text: string } }>(
    '/v1/mailing-lists/:list/messages',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['privacy'],
        summary:
          "Send a message to a list's current recipients (opted in and not out since, not restricted, not erased); each mail has RFC 8058 one-click unsubscribe",
        params: listParams,
        body: {
          type: 'object',
          required: ['subject', 'text'],
          additionalProperties: false,
          properties: {
            subject: { type: 'string', minLength: 1, maxLength: 200, ...NO_CARD_NUMBER },
            text: { type: 'string', minLength: 1, maxLength: 20000, description: 'plain text; blank lines separate paragraphs', ...NO_CARD_NUMBER },
          },
        },
        response: {
          202: { type: 'object', required: ['sendId', 'recipients'], properties: { sendId: { type: 'string' }, recipients: { type: 'integer' } } },
        },
      },
    },
    async (req, reply) => {
      const r = await ctx.mailingLists.send(req.params.list, req.body);
      await audit(ctx, req, 'mailing_list.send', {}, { list: req.params.list, sendId: r.sendId, recipients: r.recipients, subject: req.body.subject });
      return reply.status(202).send(r);
    },
  );
}

/** The mail outbox for operators: how many mails wait, went, failed; the latest without their content. */
export function mailOutboxRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get(
    '/v1/mail/outbox',
    {
      config: { access: 'read' },
      schema: {
        tags: ['system'],
        summary:
          'The mail outbox: queued, sent and failed counts, the age of the oldest waiting mail, and the latest 50 mails (template, status, attempts, error; no address or body)',
        response: {
          200: {
            type: 'object',
            required: ['queued', 'sent', 'failed', 'oldestQueuedSeconds', 'recent'],
            properties: {
              queued: { type: 'integer' },
              sent: { type: 'integer' },
              failed: { type: 'integer' },
              oldestQueuedSeconds: { type: 'number' },
              recent: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    id: { type: 'integer' },
                    template: { type: 'string' },
                    status: { type: 'string' },
                    attempts: { type: 'integer' },
                    createdAt: { type: 'string', format: 'date-time' },
                    sentAt: { type: ['string', 'null'], format: 'date-time' },
                    lastError: { type: ['string', 'null'] },
                  },
                },
              },
            },
          },
        },
      },
    },
    async () => ({ ...(await ctx.outbox.figures()), recent: await ctx.outbox.recent(50) }),
  );
}
