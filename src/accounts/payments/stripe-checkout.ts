/**
 * Stripe as the checkout provider, through the official `stripe` library. An order is paid on a
 * Stripe Checkout Session (mode `payment`, one line of the order's amount converted to the
 * currency's minor units with integer arithmetic, the order id in its metadata, an idempotency
 * key per order). Money is credited only on the signed `checkout.session.completed` webhook (or
 * `checkout.session.async_payment_succeeded`, for methods that settle later) whose session is
 * paid; `checkout.session.expired` and `checkout.session.async_payment_failed` fail the order.
 * The signature is checked by `stripe.webhooks.constructEvent` over the raw body with
 * STRIPE_WEBHOOK_SECRET; every other event type is acknowledged and ignored.
 */
import Stripe from 'stripe';
import { AppError } from '../../errors.ts';
import { microsToMinorUnits, minorUnitsToMicros } from './minor-units.ts';
import type { Checkout, CheckoutProvider, CheckoutRequest, PaymentEvent } from './payment-provider.ts';

export interface StripeSettings {
  secretKey: string;
  webhookSecret: string;
  /** Where the Stripe API is (tests point it at a local fake; production leaves these unset). */
  api?: { host: string; port: number; protocol: 'http' | 'https' };
  /** Seconds a webhook signature stays acceptable (Stripe's default: 300). */
  toleranceSeconds?: number;
}

type Session = Stripe.Checkout.Session;

export class StripeCheckout implements CheckoutProvider {
  readonly name = 'stripe';
  readonly methods = ['card'] as const;
  readonly checkoutOrigin = 'https://checkout.stripe.com';
  private readonly stripe: Stripe;

  constructor(private readonly settings: StripeSettings) {
    this.stripe = new Stripe(settings.secretKey, {
      maxNetworkRetries: 2,
      timeout: 20_000,
      telemetry: false,
      ...(settings.api ? { host: settings.api.host, port: settings.api.port, protocol: settings.api.protocol } : {}),
    });
  }

  async createCheckout(r: CheckoutRequest): Promise<Checkout> {
    const session = await this.stripe.checkout.sessions.create(
      {
        mode: 'payment',
        line_items: [
          {
            quantity: 1,
            price_data: { currency: r.currency.toLowerCase(), unit_amount: microsToMinorUnits(r.amount, r.currency), product_data: { name: r.description } },
          },
        ],
        customer_email: r.email,
        client_reference_id: r.orderId,
        metadata: { orderId: r.orderId },
        payment_intent_data: { metadata: { orderId: r.orderId } },
        success_url: r.successUrl,
        cancel_url: r.cancelUrl,
        expires_at: Math.floor(r.expiresAt.getTime() / 1000),
      },
      { idempotencyKey: r.idempotencyKey },
    );
    if (!session.url) throw new Error('Stripe answered a checkout session without a URL');
    return { id: session.id, url: session.url };
  }

  readEvent(rawBody: Buffer, signature: string | undefined): PaymentEvent {
    let e: Stripe.Event;
    try {
      e = this.stripe.webhooks.constructEvent(rawBody, signature ?? '', this.settings.webhookSecret, this.settings.toleranceSeconds);
    } catch {
      throw new AppError('WEBHOOK_SIGNATURE_INVALID');
    }
    const base = { provider: this.name, eventId: e.id, type: e.type };
    switch (e.type) {
      case 'checkout.session.completed':
      case 'checkout.session.async_payment_succeeded': {
        const s = e.data.object as Session;
        const orderId = orderOf(s);
        // a delayed method (bank debit) completes the session unpaid: its money arrives with async_payment_succeeded
        if (!orderId || s.payment_status !== 'paid' || s.amount_total === null || !s.currency) return { kind: 'ignored', ...base };
        const currency = s.currency.toUpperCase();
        const reference = typeof s.payment_intent === 'string' ? s.payment_intent : (s.payment_intent?.id ?? s.id);
        return { kind: 'paid', ...base, orderId, checkoutId: s.id, reference, amount: minorUnitsToMicros(s.amount_total, currency), currency };
      }
      case 'checkout.session.expired':
      case 'checkout.session.async_payment_failed': {
        const s = e.data.object as Session;
        const orderId = orderOf(s);
        if (!orderId) return { kind: 'ignored', ...base };
        return { kind: 'failed', ...base, orderId, checkoutId: s.id, reason: e.type === 'checkout.session.expired' ? 'checkout expired' : 'payment failed' };
      }
      default:
        return { kind: 'ignored', ...base };
    }
  }
}

function orderOf(s: Session): string | undefined {
  const id = s.metadata?.orderId ?? s.client_reference_id ?? undefined;
  return id && /^ord_[A-Za-z0-9_-]{22}$/.test(id) ? id : undefined;
}
