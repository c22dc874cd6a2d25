/**
 * Stripe's network side, on loopback: the official `stripe` library is pointed here (its host,
 * port and protocol options) so a Checkout Session can be created without the network. It
 * answers POST /v1/checkout/sessions like Stripe (the same Idempotency-Key answers the same
 * session) and records every request as the library sent it (form-encoded parameters, headers).
 * Webhook events are not sent from here: tests sign them with
 * `stripe.webhooks.generateTestHeaderString`, as Stripe's own test helpers do.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StripeRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  params: URLSearchParams;
}

export class FakeStripe {
  readonly requests: StripeRequest[] = [];
  private readonly sessions = new Map<string, Record<string, unknown>>();
  private server: Server | undefined;
  port = 0;
  /** Set to make the next session creation fail (Stripe down). */
  failNext = false;

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const params = new URLSearchParams(Buffer.concat(chunks).toString());
        const path = req.url ?? '';
        this.requests.push({ method: req.method ?? '', path, headers: req.headers, params });
        const json = (status: number, body: unknown) => {
          res.writeHead(status, { 'content-type': 'application/json', 'request-id': `req_${this.requests.length}` });
          res.end(JSON.stringify(body));
        };
        if (req.method !== 'POST' || path !== '/v1/checkout/sessions') return json(404, { error: { type: 'invalid_request_error', message: 'unknown' } });
        if (this.failNext) {
          this.failNext = false;
          return json(400, { error: { type: 'invalid_request_error', message: 'refused by the fake' } });
        }
        const key = String(req.headers['idempotency-key'] ?? '');
        const prior = key ? this.sessions.get(key) : undefined;
        if (prior) return json(200, prior);
        const id = `cs_test_${this.sessions.size + 1}_${Math.random().toString(36).slice(2, 10)}`;
        const session = {
          id,
          object: 'checkout.session',
          mode: params.get('mode'),
          amount_total: Number(params.get('line_items[0][price_data][unit_amount]')),
          currency: params.get('line_items[0][price_data][currency]'),
          metadata: { orderId: params.get('metadata[orderId]') },
          client_reference_id: params.get('client_reference_id'),
          payment_status: 'unpaid',
          status: 'open',
          url: `https://checkout.stripe.test/c/pay/${id}`,
        };
        this.sessions.set(key || id, session);
        return json(200, session);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
