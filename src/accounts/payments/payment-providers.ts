import type { ChargeResult, CheckoutProvider, PaymentProvider } from './payment-provider.ts';
import { StripeCheckout } from './stripe-checkout.ts';
import { TestPaymentProvider } from './test-payment-provider.ts';

/** No payment provider: no token is valid, so auto top-up cannot be enabled, and nothing is charged. */
export class NoPaymentProvider implements PaymentProvider {
  readonly name = 'none';
  async validToken(): Promise<boolean> {
    return false;
  }
  async charge(): Promise<ChargeResult> {
    return { ok: false, reason: 'unavailable' };
  }
}

/**
 * The provider PAYMENT_PROVIDER names. The configuration already refuses `test` in production
 * (src/config/config.ts); this is the one place a provider is built, so no other path can.
 */
export function paymentProviderFor(config: { paymentProvider: 'none' | 'test' | string; deployment: string }): PaymentProvider {
  if (config.paymentProvider === 'test') {
    if (config.deployment === 'production') throw new Error('PAYMENT_PROVIDER=test is refused in production');
    return new TestPaymentProvider();
  }
  if (config.paymentProvider === 'none' || config.paymentProvider === 'stripe') return new NoPaymentProvider(); // Stripe: orders only (no saved cards)
  throw new Error(`unknown payment provider ${config.paymentProvider}`);
}

/**
 * The checkout provider of online orders: Stripe, the local test provider (the same instance as
 * the auto top-up provider, so its pay page and its tokens are one provider), or none (orders
 * are refused with ORDERS_UNAVAILABLE).
 */
export function checkoutProviderFor(
  config: { paymentProvider: string; deployment: string; stripeSecretKey: string; stripeWebhookSecret: string },
  payments: PaymentProvider,
): CheckoutProvider | undefined {
  if (config.paymentProvider === 'stripe') return new StripeCheckout({ secretKey: config.stripeSecretKey, webhookSecret: config.stripeWebhookSecret });
  if (config.paymentProvider === 'test') {
    if (config.deployment === 'production') throw new Error('PAYMENT_PROVIDER=test is refused in production');
    return payments instanceof TestPaymentProvider ? payments : new TestPaymentProvider();
  }
  return undefined;
}
