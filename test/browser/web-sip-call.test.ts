/**
 * A real call through the SIP side while the customer watches: sipp registers as the customer's
 * device and calls through the embedded edge to a sipp carrier; the home page shows the call in
 * progress and then the lower balance without a reload, and the call history lists it.
 */
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountService } from '../../src/accounts/account-service.ts';
import { TestPaymentProvider } from '../../src/accounts/payments/test-payment-provider.ts';
import { buildApi } from '../../src/api/api-app.ts';
import { formatMoney } from '../../src/api/web/money-format.ts';
import { TariffRepository } from '../../src/billing/tariff-repository.ts';
import { CallRateCounter } from '../../src/observability/call-rate.ts';
import { testSettings } from '../api/api-harness.ts';
import { SipAppHarness } from '../support/sip-app-harness.ts';
import { TEST_PEPPER } from '../support/services.ts';
import { hasChromium, launch, screenshot } from './browser-support.ts';

const PASSWORD = 'correct horse battery';
const UK = '441632960001';

describe.skipIf(!hasChromium)('a SIP call seen on the web page', () => {
  let h: SipAppHarness;
  let browser: Browser;
  let base: string;
  let close: () => Promise<void>;

  beforeAll(async () => {
    h = await SipAppHarness.start('websip');
    const { app } = await buildApi({
      log: pino({ level: 'silent' }), pool: h.s.pool, redis: h.s.redis, balances: h.s.store, accounts: new AccountService(h.s.pool, h.s.store, TEST_PEPPER),
      tariffs: new TariffRepository(h.s.pool), payments: new TestPaymentProvider(), settings: testSettings(h.s.namespace),
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    close = () => app.close();
    browser = await launch();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await close?.();
    await h?.stop();
  });

  it('the balance drops live while the customer watches, and the call is listed', { timeout: 60_000 }, async () => {
    const dev = await h.device(5_000_000, { username: 'websip_user', password: PASSWORD });
    const page = await (await browser.newContext({ locale: 'en-GB' })).newPage();
    page.setDefaultTimeout(20_000);
    await page.goto(`${base}/my/login`);
    await page.fill('#username', 'websip_user');
    await page.fill('#password', PASSWORD);
    await Promise.all([page.waitForURL(`${base}/my`), page.click('main button[type=submit]')]);
    await page.waitForSelector('[data-balance-stream][data-live="on"]');
    expect(await page.textContent('[data-field="available"]')).toBe('£5.00');

    const liveCallsShow = (text: string) =>
      page.waitForFunction((t) => (globalThis as unknown as { document: { querySelector(s: string): { textContent: string | null } | null } }).document.querySelector('[data-live-calls]')?.textContent?.startsWith(t) === true, text);
    const fieldIs = (name: string, text: string) =>
      page.waitForFunction(([n, t]) => (globalThis as unknown as { document: { querySelector(s: string): { textContent: string | null } | null } }).document.querySelector(`[data-field="${n}"]`)?.textContent === t, [name, text] as const);

    const before = h.settled.length;
    const carrier = h.carrier(0, 'uas-answer-recv-bye.xml');
    const caller = h.run({ scenario: 'device-call.xml', service: `00${UK}`, user: dev.username, password: dev.password, pauseMs: 2500 });
    await fieldIs('callsInProgress', '1');
    await liveCallsShow(`00${UK}Talking`);                       // the number dialled, answered
    await screenshot(page, 'customer-home-during-sip-call');
    const [run, carrierRun] = await Promise.all([caller, carrier.done]);
    expect([run.code, carrierRun.code]).toEqual([0, 0]);
    await h.waitSettled(before + 1);
    // the SIP app counted the call where the operator console reads calls per second
    expect(await new CallRateCounter(h.s.redis, h.s.namespace).perSecond(60)).toBeGreaterThan(0);
    const live = (await h.s.store.get(dev.account.id))!;
    expect(live.balance).toBeLessThan(5_000_000);
    await fieldIs('callsInProgress', '0');
    await liveCallsShow('None right now.');
    await fieldIs('available', formatMoney(live.available, 'GBP', 'en-GB'));
    const [cdr] = await h.cdrs(dev.account.id);
    await page.goto(`${base}/my/calls`);
    expect(await page.textContent('table')).toContain(`00${UK}`);
    expect(await page.textContent('table')).toContain(formatMoney(cdr!.cost, 'GBP', 'en-GB'));
    await screenshot(page, 'customer-calls-after-sip-call');
  });
});
