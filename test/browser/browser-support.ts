/**
 * Headless Chromium for the page tests: Debian's chromium driven by playwright-core (no browser
 * download). Each launch gets a fresh temporary profile. axe-core checks accessibility; it is
 * evaluated through the debugging protocol, so the pages' Content-Security-Policy stays on.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import type { Browser, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { TestPaymentProvider } from '../../src/accounts/payments/test-payment-provider.ts';
import { buildApi } from '../../src/api/api-app.ts';
import { TariffRepository } from '../../src/billing/tariff-repository.ts';
import { testSettings } from '../api/api-harness.ts';
import type { SipAppHarness } from '../support/sip-app-harness.ts';

export const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS = 'test-artifacts';
export const hasChromium = existsSync(CHROMIUM);

export async function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[] }[];
}

/** Serious and critical axe-core violations on the page as it is now. */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(axeSource);
  const r = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(ctx: unknown, opts: unknown): Promise<{ violations: AxeViolation[] }> } }).axe;
    return axe.run((globalThis as unknown as { document: unknown }).document, { resultTypes: ['violations'] });
  });
  return r.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) }));
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: `${ARTIFACTS}/${name}.png`, fullPage: true });
}

/** The account API and web pages over a SIP app harness's Postgres schema and Redis namespace, on a free port. */
export async function serveApiFor(h: SipAppHarness): Promise<{ base: string; close: () => Promise<void> }> {
  const { app } = await buildApi({
    log: pino({ level: 'silent' }),
    pool: h.s.pool,
    redis: h.s.redis,
    balances: h.s.store,
    accounts: h.accountsSvc,
    tariffs: new TariffRepository(h.s.pool),
    payments: new TestPaymentProvider(),
    settings: testSettings(h.s.namespace),
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { base: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, close: () => app.close() };
}

/** Logs a customer in on /my/login and waits for the home page. */
export async function customerLogin(page: Page, base: string, username: string, password: string): Promise<void> {
  await page.goto(`${base}/my/login`);
  await page.fill('#username', username);
  await page.fill('#password', password);
  await Promise.all([page.waitForURL(`${base}/my`), page.click('main button[type=submit]')]);
}
