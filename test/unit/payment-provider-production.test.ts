/**
 * The test payment provider credits money without charging anyone: a production configuration
 * must refuse it, and the processes must refuse to start with a message saying why.
 */
import { execFile } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { checkoutProviderFor, NoPaymentProvider, paymentProviderFor } from '../../src/accounts/payments/payment-providers.ts';
import { StripeCheckout } from '../../src/accounts/payments/stripe-checkout.ts';

const base = { PIN_PEPPER: 'x'.repeat(32), DRACHTIO_SECRET: 'cymru-secret', SIP_NONCE_KEY: 'n'.repeat(32) };
const REFUSED = /PAYMENT_PROVIDER=test .* refused in production \(DEPLOYMENT=production or NODE_ENV=production\)/;

describe('test payment provider in production', () => {
  it('is refused by the configuration when DEPLOYMENT=production or NODE_ENV=production', () => {
    expect(() => loadConfig({ ...base, PAYMENT_PROVIDER: 'test', DEPLOYMENT: 'production' })).toThrow(REFUSED);
    expect(() => loadConfig({ ...base, PAYMENT_PROVIDER: 'test', NODE_ENV: 'production' })).toThrow(REFUSED);
    expect(() => loadConfig({ ...base, PAYMENT_PROVIDER: 'test', NODE_ENV: 'production', DEPLOYMENT: 'development' })).toThrow(REFUSED);
    expect(loadConfig({ ...base, PAYMENT_PROVIDER: 'test' }).paymentProvider).toBe('test');
    expect(loadConfig({ ...base, NODE_ENV: 'production' }).deployment).toBe('production');
  });

  it('is off unless named: the default provider accepts no token and charges nothing', async () => {
    const c = loadConfig(base);
    expect(c.paymentProvider).toBe('none');
    const p = paymentProviderFor(c);
    expect(p).toBeInstanceOf(NoPaymentProvider);
    expect(await p.validToken('tok_test_ok')).toBe(false);
    expect(paymentProviderFor(loadConfig({ ...base, PAYMENT_PROVIDER: 'test' })).name).toBe('test');
    expect(() => paymentProviderFor({ paymentProvider: 'test', deployment: 'production' })).toThrow(/refused in production/);
  });

  it('online orders: the test checkout is refused in production, Stripe needs both keys, none offers no checkout', () => {
    const stripe = { stripeSecretKey: '', stripeWebhookSecret: '' };
    expect(() => checkoutProviderFor({ paymentProvider: 'test', deployment: 'production', ...stripe }, new NoPaymentProvider())).toThrow(
      /refused in production/,
    );
    expect(checkoutProviderFor({ paymentProvider: 'none', deployment: 'development', ...stripe }, new NoPaymentProvider())).toBeUndefined();
    const test = paymentProviderFor({ paymentProvider: 'test', deployment: 'development' });
    expect(checkoutProviderFor({ paymentProvider: 'test', deployment: 'development', ...stripe }, test)).toBe(test);
    expect(() => loadConfig({ ...base, PAYMENT_PROVIDER: 'stripe' })).toThrow(/STRIPE_SECRET_KEY .* is required[\s\S]*STRIPE_WEBHOOK_SECRET .* is required/);
    const c = loadConfig({
      ...base,
      PAYMENT_PROVIDER: 'stripe',
      STRIPE_SECRET_KEY: 'sk_test_0123456789abcdef',
      STRIPE_WEBHOOK_SECRET: 'whsec_0123456789abcdef',
    });
    expect(checkoutProviderFor(c, paymentProviderFor(c))).toBeInstanceOf(StripeCheckout);
  });

  it('the account API process refuses to start, exit code 2, naming the setting', async () => {
    const env = { PATH: process.env.PATH, ...base, PAYMENT_PROVIDER: 'test', DEPLOYMENT: 'production', API_PORT: '0' };
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = execFile(process.execPath, ['--import', 'tsx', 'src/api/api-main.ts'], { env, timeout: 30_000 }, (_err, _out, stderr) =>
        resolve({ code: child.exitCode, stderr }),
      );
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(REFUSED);
  }, 40_000);
});
