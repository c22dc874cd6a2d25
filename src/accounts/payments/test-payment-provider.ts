import type { ChargeResult, PaymentProvider } from './payment-provider.ts';

/**
 * A payment provider that runs locally, for development and tests. Tokens: `tok_test_ok`
 * (charges succeed), `tok_test_decline` (charges are declined), and any `tok_test_<word>`
 * behaves like ok. Charges are remembered by idempotency key, as a real provider does.
 */
export class TestPaymentProvider implements PaymentProvider {
  readonly name = 'test';
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
}
