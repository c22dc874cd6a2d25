import { AppError } from '../../errors.ts';
import type { ChargeResult, Checkout, CheckoutProvider, CheckoutRequest, PaymentEvent, PaymentProvider } from './payment-provider.ts';

/**
 * A payment provider that runs locally, for development and tests. Tokens: `tok_test_ok`
 * (charges succeed), `tok_test_decline` (charges are declined), and any `tok_test_<word>`
 * behaves like ok. Charges are remembered by idempotency key, as a real provider does.
 *
 * Its checkout is a local page of this service (`/order/<id>/test-pay`) with a "pay" and a "fail"
 * button; they hand the same PaymentEvent a signed webhook would to the order service. It has no
 * webhook, so every webhook is refused. The configuration refuses it in production.
 */
export class TestPaymentProvider implements PaymentProvider, CheckoutProvider {
  readonly name = 'test';
  readonly methods = ['card'] as const;
  readonly checkouts = new Map<string, CheckoutRequest>();
  readonly charges = new Map<string, { token: string; amount: number; currency: string; reference: string }>();

  async validToken(token: string): Promise<boolean> {
    return /^tok_test_[a-z0-9_]{1,32}$/.test(token);
  }

  async charge(token: string, amount: number, currency: string, idempotencyKey: string): Promise<ChargeResult> {
    if (!(await this.validToken(token))) return { ok: false, reason: 'invalid_token' };
    const prior = this.charges.get(idempotencyKey);
    if (prior) return { ok: true, reference: prior.reference };
    if (token === 'tok_test_decline') return { ok: false, reason: 'declined' };
    const reference = `test_ch_${this.charges.size + 1}_${idempotencyKey.slice(-12)}`;
    this.charges.set(idempotencyKey, { token, amount, currency, reference });
    return { ok: true, reference };
  }

  async createCheckout(r: CheckoutRequest): Promise<Checkout> {
    this.checkouts.set(r.orderId, r);
    return { id: `test_cs_${r.orderId.slice(4)}`, url: new URL(`/order/${r.orderId}/test-pay`, r.successUrl).toString() };
  }

  readEvent(): PaymentEvent {
    throw new AppError('WEBHOOK_SIGNATURE_INVALID', 'the test provider sends no webhooks');
  }

  /** The event its pay page reports: the order paid in full, or failed. */
  event(order: { id: string; amount: number; currency: string }, outcome: 'paid' | 'failed'): PaymentEvent {
    const base = { provider: this.name, orderId: order.id, checkoutId: `test_cs_${order.id.slice(4)}` };
    return outcome === 'paid'
      ? {
          kind: 'paid',
          ...base,
          eventId: `test_evt_paid_${order.id}`,
          type: 'test.paid',
          reference: `test_pay_${order.id.slice(4)}`,
          amount: order.amount,
          currency: order.currency,
        }
      : { kind: 'failed', ...base, eventId: `test_evt_failed_${order.id}`, type: 'test.failed', reason: 'payment failed' };
  }
}
