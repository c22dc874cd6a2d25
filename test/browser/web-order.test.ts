/**
 * The order page in headless Chromium with the local test provider (what `npm start` runs): a
 * visitor fills the form, enters the code from the mail (a real SMTP server on loopback), pays on
 * the test provider's page and sees the account; no CSP violation, no serious axe finding.
 */
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestPaymentProvider } from '../../src/accounts/payments/test-payment-provider.ts';
import { harness } from '../api/api-harness.ts';
import type { Harness } from '../api/api-harness.ts';
import { SmtpSink } from '../support/smtp-sink.ts';
import { hasChromium, launch, screenshot, seriousViolations } from './browser-support.ts';

if (!hasChromium) console.warn('order page browser test skipped: /usr/bin/chromium is missing');

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const p = (probe.address() as AddressInfo).port;
      probe.close(() => resolve(p));
    });
  });
}

describe.skipIf(!hasChromium)('order page in a browser', () => {
  let h: Harness;
  let sink: SmtpSink;
  let browser: Browser;
  let page: Page;
  let base: string;
  const cspErrors: string[] = [];

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    sink = await new SmtpSink().start();
    h = await harness(
      'weborder',
      { mail: { linkBaseUrl: base, retry: { baseSeconds: 1, maxSeconds: 2, maxAttempts: 5 } } },
      { checkout: new TestPaymentProvider() },
    );
    await h.app.listen({ host: '127.0.0.1', port });
    browser = await launch();
    page = await (await browser.newContext({ locale: 'en-GB' })).newPage();
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspErrors.push(m.text());
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await h?.close();
    await sink?.stop();
  });

  it('a visitor orders a demo account: form, code from the mail, test payment, account number shown', async () => {
    await page.goto(`${base}/order`);
    expect(await seriousViolations(page)).toEqual([]);
    await page.fill('#name', 'Bea Browser');
    await page.fill('#email', 'bea@example.test');
    await page.fill('#country', 'GB');
    await page.fill('#amount', '12.50');
    await Promise.all([page.waitForURL(/\/order\/ord_[A-Za-z0-9_-]{22}$/), page.click('main button[type=submit]')]);
    expect(await page.textContent('main')).toContain('£12.50');

    await sink.deliver(h.ctx.outbox, 'hello@softswitch.test');
    const mail = sink.received.find((m) => m.envelopeTo[0] === 'bea@example.test')!;
    const code = /(ev_[A-Za-z0-9_-]{43})/.exec(mail.parsed.text!)![1]!;
    await page.fill('#code', code);
    await Promise.all([page.waitForSelector('text=Pay now'), page.click('main button[type=submit]')]);
    expect(await seriousViolations(page)).toEqual([]);

    await Promise.all([page.waitForURL(/\/test-pay$/), page.click('text=Pay now')]);
    await Promise.all([page.waitForURL(/m=order\.returned/), page.click('text=Payment succeeds')]);
    const text = (await page.textContent('main')) ?? '';
    expect(text).toMatch(/Your account [0-9]+ is open/);
    await screenshot(page, 'order-completed');
    expect(cspErrors).toEqual([]);
  });
});
