/**
 * A real call through the SIP side while the customer watches: sipp registers as the customer's
 * device and calls through the embedded edge to a sipp carrier; the home page shows the call in
 * progress and then the lower balance without a reload, and the call history lists it.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatMoney } from '../../src/api/web/money-format.ts';
import { CallRateCounter } from '../../src/observability/call-rate.ts';
import { SipAppHarness } from '../support/sip-app-harness.ts';
import { customerLogin, hasChromium, launch, screenshot, serveApiFor } from './browser-support.ts';

const PASSWORD = 'correct horse battery';
const UK = '441632960001';

describe.skipIf(!hasChromium)('a SIP call seen on the web page', () => {
  let h: SipAppHarness;
  let browser: Browser;
  let base: string;
  let close: () => Promise<void>;

  beforeAll(async () => {
    h = await SipAppHarness.start('websip');
    ({ base, close } = await serveApiFor(h));
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
    await customerLogin(page, base, 'websip_user', PASSWORD);
    await page.waitForSelector('[data-balance-stream][data-live="on"]');
    expect(await page.textContent('[data-field="available"]')).toBe('£5.00');

    const liveCallsShow = (text: string) =>
      page.waitForFunction(
        (t) =>
          (globalThis as unknown as { document: { querySelector(s: string): { textContent: string | null } | null } }).document
            .querySelector('[data-live-calls]')
            ?.textContent?.startsWith(t) === true,
        text,
      );
    const fieldIs = (name: string, text: string) =>
      page.waitForFunction(
        ([n, t]) =>
          (globalThis as unknown as { document: { querySelector(s: string): { textContent: string | null } | null } }).document.querySelector(
            `[data-field="${n}"]`,
          )?.textContent === t,
        [name, text] as const,
      );

    const before = h.settled.length;
    const carrier = h.carrier(0, 'uas-answer-recv-bye.xml');
    const caller = h.run({ scenario: 'device-call.xml', service: `00${UK}`, user: dev.username, password: dev.password, pauseMs: 2500 });
    await fieldIs('callsInProgress', '1');
    await liveCallsShow(`00${UK}Talking`); // the number dialled, answered
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
