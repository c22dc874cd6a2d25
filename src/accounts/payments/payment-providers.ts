import type { ChargeResult, PaymentProvider } from './payment-provider.ts';
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
  if (config.paymentProvider === 'none') return new NoPaymentProvider();
  throw new Error(`unknown payment provider ${config.paymentProvider}`);
}
