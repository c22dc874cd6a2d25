/**
 * Online orders (public) and the payment provider's webhook.
 *
 *   POST /v1/orders                      place an order; the e-mail code is mailed; answers the status token once
 *   GET  /v1/orders/:orderId?token=      the orderer's view of the order
 *   POST /v1/orders/:orderId/verify-email  the code from the mail
 *   POST /v1/orders/:orderId/checkout    the provider's checkout page to send the payer to
 *   POST /v1/payments/stripe/webhook     Stripe's signed events (raw body; signature checked before anything else)
 *
 * Placing an order and trying a code are throttled per client address (OrderThrottle).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../../errors.ts';
import type { ApiContext } from '../api-context.ts';
import { NO_CARD_NUMBER } from '../card-number-keyword.ts';
import { dateTime, positiveMicros } from '../schemas.ts';

const TAG = ['orders'];
const orderId = { type: 'string', pattern: '^ord_[A-Za-z0-9_-]{22}$' } as const;
const statusToken = { type: 'string', pattern: '^ot_[A-Za-z0-9_-]{43}$', description: 'the status token answered when the order was placed' } as const;
const params = { type: 'object', required: ['orderId'], additionalProperties: false, properties: { orderId } } as const;

const order = {
  type: 'object',
  required: ['id', 'status', 'amount', 'currency', 'paymentMethod', 'createdAt', 'expiresAt', 'accountNumber'],
  properties: {
    id: { type: 'string' },
    status: { type: 'string', enum: ['awaiting_email', 'awaiting_payment', 'paid', 'completed', 'failed', 'expired', 'flagged'] },
    amount: { type: 'integer' },
    currency: { type: 'string' },
    paymentMethod: { type: 'string' },
    createdAt: dateTime,
    expiresAt: dateTime,
    accountNumber: { type: ['string', 'null'], description: 'the account opened for the order, once it is completed' },
  },
} as const;

async function throttled(ctx: ApiContext, req: FastifyRequest): Promise<void> {
  if (!(await ctx.orderThrottle.attempt(req.ip))) throw new AppError('ORDER_THROTTLED', undefined, { retryAfter: ctx.settings.orders?.windowSeconds ?? 3600 });
}

export function orderRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.post<{ Body: { name: string; email: string; country: string; amount: number; paymentMethod: string } }>(
    '/v1/orders',
    {
      config: { access: 'public' },
      schema: {
        tags: TAG,
        summary: 'Order a calling account: the e-mail code is mailed to the address; answers the order and its status token (shown once)',
        body: {
          type: 'object',
          required: ['name', 'email', 'country', 'amount', 'paymentMethod'],
          additionalProperties: false,
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 200, ...NO_CARD_NUMBER },
            email: { type: 'string', format: 'email', maxLength: 254 },
            country: { type: 'string', pattern: '^[A-Z]{2}$' },
            amount: { ...positiveMicros, description: 'micro-units of the order currency (ORDER_CURRENCY), within ORDER_MIN_AMOUNT..ORDER_MAX_AMOUNT' },
            paymentMethod: { type: 'string', pattern: '^[a-z_]{1,32}$' },
          },
        },
        response: { 201: { ...order, required: [...order.required, 'statusToken'], properties: { ...order.properties, statusToken: { type: 'string' } } } },
      },
    },
    async (req, reply) => {
      if (!ctx.orders.available) throw new AppError('ORDERS_UNAVAILABLE');
      await throttled(ctx, req);
      return reply.status(201).send(await ctx.orders.create(req.body));
    },
  );

  app.get<{ Params: { orderId: string }; Querystring: { token: string } }>(
    '/v1/orders/:orderId',
    {
      config: { access: 'public' },
      schema: {
        tags: TAG,
        summary: "The order's status, for whoever holds its status token",
        params,
        querystring: { type: 'object', required: ['token'], additionalProperties: false, properties: { token: statusToken } },
        response: { 200: order },
      },
    },
    async (req) => ctx.orders.status(req.params.orderId, req.query.token),
  );

  app.post<{ Params: { orderId: string }; Body: { token: string; code: string } }>(
    '/v1/orders/:orderId/verify-email',
    {
      config: { access: 'public' },
      schema: {
        tags: TAG,
        summary: 'Confirm the e-mail address with the code from the mail (tried at most 5 times per order)',
        params,
        body: {
          type: 'object',
          required: ['token', 'code'],
          additionalProperties: false,
          properties: { token: statusToken, code: { type: 'string', pattern: '^\\s*ev_[A-Za-z0-9_-]{43}\\s*$', description: 'the code from the mail' } },
        },
        response: { 200: order },
      },
    },
    async (req) => {
      await throttled(ctx, req);
      return ctx.orders.verifyEmail(req.params.orderId, req.body.token, req.body.code.trim());
    },
  );

  app.post<{ Params: { orderId: string }; Body: { token: string } }>(
    '/v1/orders/:orderId/checkout',
    {
      config: { access: 'public' },
      schema: {
        tags: TAG,
        summary: "Open the payment provider's checkout for a verified order; answers the page to send the payer to",
        params,
        body: { type: 'object', required: ['token'], additionalProperties: false, properties: { token: statusToken } },
        response: { 200: { type: 'object', required: ['checkoutUrl'], properties: { checkoutUrl: { type: 'string' } } } },
      },
    },
    async (req) => ({ checkoutUrl: (await ctx.orders.checkout(req.params.orderId, req.body.token)).url }),
  );
}

/**
 * Stripe's webhook. Its own scope parses application/json as the raw bytes (the signature is over
 * them), for this route only. Answers: 400 problem+json when the signature does not verify
 * (nothing changes); 200 `{ received, outcome }` for every verified event, whatever we made of it
 * (a mismatched amount is flagged on our side: retrying would not change it); 5xx when we could
 * not record it (Stripe retries).
 */
export async function paymentWebhookRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  await app.register(async (scope) => {
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: 512 * 1024 }, (_req, body, done) => done(null, body));
    scope.post<{ Body: Buffer }>(
      '/v1/payments/stripe/webhook',
      {
        config: { access: 'public' },
        schema: {
          tags: TAG,
          body: { type: 'object', description: 'a Stripe event; the signature (Stripe-Signature header) covers its raw bytes' },
          summary: "Stripe's signed events (checkout.session.completed, .expired, .async_payment_succeeded, .async_payment_failed)",
          response: {
            200: { type: 'object', required: ['received', 'outcome'], properties: { received: { type: 'boolean' }, outcome: { type: 'string' } } },
          },
        },
      },
      async (req) => {
        const checkout = ctx.checkout;
        if (!checkout || checkout.name !== 'stripe') throw new AppError('NOT_FOUND', 'no Stripe webhook is configured here');
        if (!Buffer.isBuffer(req.body)) throw new AppError('WEBHOOK_SIGNATURE_INVALID');
        const sig = req.headers['stripe-signature'];
        const event = checkout.readEvent(req.body, typeof sig === 'string' ? sig : undefined);
        const outcome = await ctx.orders.applyEvent(event);
        req.log.info({ provider: event.provider, eventId: event.eventId, type: event.type, outcome }, 'payment event');
        return { received: true, outcome };
      },
    );
  });
}
