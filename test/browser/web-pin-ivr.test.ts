/**
 * A PIN changed on the self-care page is the PIN an access-number call takes: the customer
 * changes it in the browser, then calls the access number (embedded edge and media, keys as
 * RFC 4733): the old PIN is refused, the new one logs in.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IvrState } from '../../src/sip/ivr/ivr-state.ts';
import { ivrSuite, keyAt } from '../support/ivr-suite.ts';
import { customerLogin, hasChromium, launch, screenshot, serveApiFor } from './browser-support.ts';

const PASSWORD = 'correct horse battery';
const suite = ivrSuite('webpinivr', '+441632000177', (base) => ({
  media: { portMin: base, portMax: base + 20 },
  ivr: { firstDigitMs: 4000, interDigitMs: 1500 },
}));

describe.skipIf(!hasChromium)('a PIN changed on the web page, used on an access-number call', () => {
  let browser: Browser;
  let base: string;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ base, close } = await serveApiFor(suite.h));
    browser = await launch();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await close?.();
  });

  it('the old PIN is refused and the new one logs in', { timeout: 90_000 }, async () => {
    const h = suite.h;
    const dev = await h.device(2_000_000, { username: 'webpin_user', password: PASSWORD });
    const oldPin = await h.accountsSvc.issuePin(dev.account.id);

    const page = await (await browser.newContext({ locale: 'en-GB' })).newPage();
    page.setDefaultTimeout(20_000);
    await customerLogin(page, base, 'webpin_user', PASSWORD);
    await page.goto(`${base}/my/security`);
    await page.fill('#currentPin', oldPin);
    await page.click('form[action="/my/pin"] button');
    await page.waitForSelector('[data-testid="new-pin"]');
    const newPin = (await page.textContent('[data-testid="new-pin"]'))!;
    expect(newPin).toMatch(/^[1-9][0-9]{11}$/);
    await screenshot(page, 'customer-pin-changed');

    const c = await suite.dialIn(suite.freshCli());
    await keyAt(c, 'enter-pin', `${oldPin}#`);
    await keyAt(c, 'pin-incorrect', `${newPin}#`);
    await c.waitPrompt('register-cli'); // logged in: offered to register the number
    await c.hangup();
    await h.waitIvrState(c.callId, IvrState.Ended);
    expect(h.ivrStates.filter((e) => e.callId === c.callId).map((e) => e.state)).toEqual([
      IvrState.Welcome,
      IvrState.PinEntry,
      IvrState.OfferCli,
      IvrState.Ended,
    ]);
  });
});
