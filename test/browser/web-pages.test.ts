/**
 * The web pages in headless Chromium against the API on a loopback port (own Postgres schema and
 * Redis namespace). A call is settled through the BalanceStore exactly as the SIP app settles
 * one (reserve, then settle with its CDR), and the ledger writer moves the CDR to Postgres.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildWav } from '../../src/media/embedded/wav.ts';
import { recordingKey } from '../../src/recordings/recording-store.ts';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LedgerWriter } from '../../src/ledger/ledger-writer.ts';
import { PostgresLedgerSink } from '../../src/ledger/postgres-ledger-sink.ts';
import { CallRateCounter } from '../../src/observability/call-rate.ts';
import { harness } from '../api/api-harness.ts';
import type { Harness } from '../api/api-harness.ts';
import { cdrFor } from '../support/fixtures.ts';
import { hasChromium, launch, screenshot, seriousViolations } from './browser-support.ts';

const PASSWORD = 'correct horse battery';

if (!hasChromium) console.warn('web page tests skipped: /usr/bin/chromium is missing (apt-get install -y chromium; .ci/run installs it)');

const recordingsDir = mkdtempSync(join(tmpdir(), 'web-recordings-'));

describe.skipIf(!hasChromium)('web pages in a browser', () => {
  let h: Harness;
  let base: string;
  let browser: Browser;
  let customerCtx: BrowserContext;
  let operatorCtx: BrowserContext;
  let me: Page;
  let op: Page;
  let a: Awaited<ReturnType<Harness['customerWithAccount']>>;
  let b: Awaited<ReturnType<Harness['customerWithAccount']>>;
  const cspErrors: string[] = [];
  const axeReport: Record<string, unknown[]> = {};

  async function drain(): Promise<void> {
    await new LedgerWriter(h.s.newRedis(), new PostgresLedgerSink(h.s.pool), {
      streams: h.s.store.keys.allStreams(),
      deadLetterStream: `${h.s.namespace}:deadletter`,
      consumer: 'web',
      logger: h.s.logger,
    }).drain();
  }

  /** Loads a page, checks it with axe-core and saves a screenshot. */
  async function visit(page: Page, path: string, name: string): Promise<void> {
    await page.goto(`${base}${path}`);
    await page.waitForSelector('h1');
    axeReport[name] = await seriousViolations(page);
    await screenshot(page, name);
  }

  const available = (page: Page) => page.locator('[data-field="available"]').first();
  /** Waits until a live field shows exactly this text (updated by the page's event stream). */
  const fieldIs = (page: Page, name: string, text: string) =>
    page.waitForFunction(
      ([n, t]) =>
        (globalThis as unknown as { document: { querySelector(s: string): { textContent: string | null } | null } }).document.querySelector(
          `[data-field="${n}"]`,
        )?.textContent === t,
      [name, text] as const,
    );

  /** Loads the page's first audio element's metadata (the browser reads the file by byte ranges) and answers its duration in seconds. */
  const audioDuration = (page: Page) =>
    page.evaluate(
      () =>
        new Promise<number>((resolve, reject) => {
          const el = (globalThis as unknown as { document: { querySelector(s: string): unknown } }).document.querySelector('audio') as {
            duration: number;
            preload: string;
            addEventListener(e: string, f: () => void): void;
            load(): void;
          };
          el.addEventListener('loadedmetadata', () => resolve(el.duration));
          el.addEventListener('error', () => reject(new Error('the audio element could not load the recording')));
          el.preload = 'metadata';
          el.load();
        }),
    );

  beforeAll(async () => {
    h = await harness('webpages', { callbacks: { enabled: true, maxPerHour: 5, maxPerNumberPerHour: 5 }, recordings: { dir: recordingsDir } });
    await h.app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`;
    a = await h.customerWithAccount({ username: 'web_alice', password: PASSWORD, credit: 5_000_000 });
    b = await h.customerWithAccount({ username: 'web_bob', password: PASSWORD, credit: 1_000_000 });
    await h.accounts.issuePin(a.account.id, '246810');
    await h.accounts.addCli(b.account.id, '+447700900555', true);
    browser = await launch();
    customerCtx = await browser.newContext({ acceptDownloads: true, locale: 'en-GB' });
    operatorCtx = await browser.newContext({ acceptDownloads: true, locale: 'en-GB' });
    me = await customerCtx.newPage();
    op = await operatorCtx.newPage();
    for (const p of [me, op]) p.setDefaultTimeout(15_000);
    for (const p of [me, op])
      p.on('console', (m) => {
        if (/Content Security Policy/i.test(m.text())) cspErrors.push(m.text());
      });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await h?.close();
    rmSync(recordingsDir, { recursive: true, force: true });
  });

  it('a customer logs in and sees the balance in the account currency', async () => {
    await visit(me, '/my/login', 'customer-login');
    await me.fill('#username', 'web_alice');
    await me.fill('#password', 'wrong password');
    await me.click('button[type=submit]');
    await me.waitForSelector('p.error');
    expect(await me.textContent('p.error')).toContain('Login failed');
    await me.fill('#username', 'web_alice');
    await me.fill('#password', PASSWORD);
    await Promise.all([me.waitForURL(`${base}/my`), me.click('main button[type=submit]')]);
    const cookie = (await customerCtx.cookies()).find((c) => c.name === 'ss_sess');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    expect(await available(me).textContent()).toBe('£5.00');
    axeReport['customer-home'] = await seriousViolations(me);
    await screenshot(me, 'customer-home');
  });

  it('the balance drops live when a call is settled, and the call is listed', async () => {
    await me.waitForSelector('[data-balance-stream][data-live="on"]');
    const callId = `web-call-${a.account.id}`;
    const start = Date.now() - 70_000;
    const r = await h.s.store.reserve(a.account.id, callId, 0, 2_000_000, Date.now() + 60_000);
    expect(r.ok).toBe(true);
    await fieldIs(me, 'callsInProgress', '1');
    await h.s.store.settle(a.account.id, cdrFor(callId, a.account.id, 1_234_567, { startTime: start, dialledNumber: '00441632960001', currency: 'GBP' }));
    await fieldIs(me, 'available', '£3.77'); // 5.000000 - 1.234567 = 3.765433, shown rounded
    await drain();
    await visit(me, '/my/calls', 'customer-calls');
    expect(await me.textContent('table')).toContain('00441632960001');
    expect(await me.textContent('table')).toContain('£1.23');
    await me.fill('#number', '999');
    await Promise.all([me.waitForURL(/number=999/), me.click('form.filters button')]);
    expect(await me.textContent('main')).toContain('No calls match.');
    await me.goto(`${base}/my/calls`);
    const [download] = await Promise.all([me.waitForEvent('download'), me.click('a[href^="/my/calls.csv"]')]);
    const csv = readFileSync((await download.path())!, 'utf8');
    expect(csv.split('\r\n')[0]).toContain('callId');
    expect(csv).toContain(callId);
  });

  it('an operator logs in with an API key, finds the account and tops it up; the customer sees it live', async () => {
    await visit(op, '/console/login', 'console-login');
    await op.fill('#key', h.keys.admin);
    await Promise.all([op.waitForURL(`${base}/console`), op.click('main button[type=submit]')]);
    await op.waitForSelector('[data-dashboard-stream][data-live="on"]');
    expect(await op.textContent('[data-field="callsInProgress"]')).toBe('0');
    expect(await op.textContent('[data-field="callsPerSecond"]')).toBe('0.0');
    const counter = new CallRateCounter(h.s.redis, h.s.namespace);
    for (let i = 0; i < 20; i++) counter.record(Date.now() - 2_000); // as the SIP apps count new calls
    await op.waitForFunction(
      () =>
        (globalThis as unknown as { document: { querySelector(s: string): { textContent: string | null } | null } }).document.querySelector(
          '[data-field="callsPerSecond"]',
        )?.textContent === '2.0',
    );
    const dashCall = `web-dash-${a.account.id}`;
    expect((await h.s.store.reserve(a.account.id, dashCall, 0, 100_000, Date.now() + 60_000)).ok).toBe(true);
    await op.waitForFunction(
      () =>
        (globalThis as unknown as { document: { querySelector(s: string): { textContent: string | null } | null } }).document
          .querySelector('#act-h + .table-wrap tbody')
          ?.textContent?.includes('£3.67') === true,
    );
    expect(await op.textContent('[data-field="callsInProgress"]')).toBe('1');
    axeReport['console-dashboard'] = await seriousViolations(op);
    await screenshot(op, 'console-dashboard');
    await h.s.store.release(a.account.id, dashCall);
    await visit(op, `/console/accounts?by=number&q=${a.account.number}`, 'console-search');
    await Promise.all([op.waitForURL(`${base}/console/accounts/${a.account.id}`), op.click(`a[href="/console/accounts/${a.account.id}"]`)]);
    axeReport['console-account'] = await seriousViolations(op);
    await screenshot(op, 'console-account');
    expect(await op.textContent('main')).toContain('1 High Street');
    await me.goto(`${base}/my`);
    await me.waitForSelector('[data-balance-stream][data-live="on"]');
    expect(await available(me).textContent()).toBe('£3.77');
    await op.fill('#topup-amount', '2.50');
    await Promise.all([op.waitForURL(/m=console\.topupDone/), op.click('form[action$="/topup"] button')]);
    await fieldIs(me, 'available', '£6.27');
    const audit = await h.s.pool.query<{ actor: string }>(`select actor from audit_log where action = 'customer.read' and subject_customer_id = $1`, [
      a.customerId,
    ]);
    expect(audit.rows.map((r) => r.actor)).toContain(`apikey:${(await h.ctx.keys.verify(h.keys.admin))!.id}`);
  });

  let newPin = '';
  it('the customer gets a new random PIN: the new one finds the account, the old one does not', async () => {
    await visit(me, '/my/security', 'customer-security');
    expect(await me.$('#newPin')).toBeNull(); // PINs are never chosen (docs/security.md)
    await me.fill('#currentPin', '246810');
    await me.click('form[action="/my/pin"] button');
    await me.waitForSelector('[data-testid="new-pin"]');
    newPin = (await me.textContent('[data-testid="new-pin"]'))!;
    expect(newPin).toMatch(/^[1-9][0-9]{11}$/);
    expect(await h.accounts.findAccountByPin('246810')).toBeUndefined();
    expect(await h.accounts.findAccountByPin(newPin)).toBe(a.account.id);
  });

  it('forged and cross-customer requests fail', async () => {
    const api = me.context().request;
    const noToken = await api.post(`${base}/my/pin`, { form: { currentPin: newPin }, maxRedirects: 0 });
    expect(noToken.status()).toBe(403);
    const csrf = await me.getAttribute('form[action="/my/pin"] input[name=_csrf]', 'value');
    const otherSite = await api.post(`${base}/my/pin`, {
      form: { _csrf: csrf!, currentPin: newPin },
      headers: { origin: 'http://evil.example' },
      maxRedirects: 0,
    });
    expect(otherSite.status()).toBe(403);
    expect(await h.accounts.findAccountByPin(newPin)).toBe(a.account.id);
    // a customer cannot remove another customer's caller ID, nor reach the console
    const remove = await api.post(`${base}/my/caller-ids/remove`, { form: { _csrf: csrf!, cli: '+447700900555' }, maxRedirects: 0 });
    expect(remove.status()).toBe(303);
    expect((await h.accounts.listClis(b.account.id)).map((c) => c.cli)).toEqual(['+447700900555']);
    const consolePage = await api.get(`${base}/console/accounts/${b.account.id}`, { maxRedirects: 0 });
    expect([consolePage.status(), consolePage.headers().location]).toEqual([303, '/console/login']);
    const stream = await api.get(`${base}/console/accounts/${b.account.id}/balance/events`, { maxRedirects: 0 });
    expect(stream.status()).toBe(401);
    const exported = await api.get(`${base}/my/export`);
    const doc = JSON.stringify(await exported.json());
    expect(doc).toContain('web_alice');
    expect(doc).not.toContain('web_bob');
    // an API call with the session cookie but no bearer token is refused by the API itself
    expect((await api.get(`${base}/v1/self`)).status()).toBe(401);
  });

  it('every other page renders, passes axe-core and runs no inline script', { timeout: 90_000 }, async () => {
    for (const [path, name] of [
      ['/my/caller-ids', 'customer-caller-ids'],
      ['/my/devices', 'customer-devices'],
      ['/my/top-ups', 'customer-top-ups'],
      ['/my/privacy', 'customer-privacy'],
    ] as const) {
      await visit(me, path, name);
    }
    await me.goto(`${base}/my/caller-ids`);
    await me.fill('#cli', '+447700900777');
    await Promise.all([me.waitForURL(/callerIds\.requestedOk/), me.click('form[action="/my/caller-ids"] button')]);
    expect(await me.textContent('main')).toContain('+447700900777');
    await me.goto(`${base}/my/speed-dials`);
    await me.fill('#position', '7');
    await me.fill('#name', 'Mum');
    await me.fill('#number', '020 7946 0018');
    await Promise.all([me.waitForURL(/speedDials\.saved/), me.click('form[action="/my/speed-dials"] button')]);
    expect(await me.textContent('main')).toContain('+442079460018');
    await visit(me, '/my/speed-dials', 'customer-speed-dials');
    await me.goto(`${base}/my/callbacks`);
    await me.fill('#callMe', '07700 900901');
    await me.fill('#connectTo', '+1 212 555 0901');
    await Promise.all([me.waitForURL(/callbacks\.requested/), me.click('form[action="/my/callbacks"] button')]);
    expect(await me.textContent('main')).toContain('+12125550901');
    await visit(me, '/my/callbacks', 'customer-callbacks');
    for (const [path, name] of [
      ['/console/cli-requests', 'console-cli-requests'],
      ['/console/calls', 'console-calls'],
      ['/console/access-sessions', 'console-access-sessions'],
      ['/console/tariffs', 'console-tariffs'],
      ['/console/routing', 'console-routing'],
    ] as const) {
      await visit(op, path, name);
    }
    await op.goto(`${base}/console/cli-requests`);
    await Promise.all([op.waitForURL(/m=console\.decided/), op.click('form[action$="/approve"] button')]);
    expect((await h.accounts.listClis(a.account.id)).map((c) => c.cli)).toEqual(['+447700900777']);
    await op.goto(`${base}/console/tariffs`);
    await op.fill('#tid', 'web-demo');
    await op.fill('#tname', 'Web demo');
    await op.setInputFiles('#tfile', { name: 'rates.csv', mimeType: 'text/csv', buffer: Buffer.from('prefix,price_per_minute\n44,not-a-number\n') });
    await op.click('form[enctype] button');
    await op.waitForSelector('p.error');
    expect(await op.textContent('main')).toContain('Line');
    await screenshot(op, 'console-tariff-errors');
    expect(axeReport).toEqual(Object.fromEntries(Object.keys(axeReport).map((k) => [k, []])));
    expect(cspErrors).toEqual([]);
  });

  it('the recordings page turns recording on and plays a recording in its audio element (the browser reads the file by byte ranges)', async () => {
    await me.goto(`${base}/my/recordings`);
    await Promise.all([me.waitForURL(/recordings\.consentOn/), me.click('form[action="/my/recordings/consent"] button')]);
    expect(await h.s.store.recordingConsent(a.account.id)).toBe(true);
    // two seconds of a 440 Hz tone, as a recording of one of Alice's calls
    const samples = Buffer.alloc(32_000 * 2);
    for (let i = 0; i < samples.length / 4; i++) {
      const v = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 8000));
      samples.writeInt16LE(v, i * 4);
      samples.writeInt16LE(v, i * 4 + 2);
    }
    const wav = buildWav('pcm16', samples);
    wav.writeUInt16LE(2, 22); // two channels
    wav.writeUInt32LE(32_000, 28);
    wav.writeUInt16LE(4, 32);
    const key = recordingKey(new Date(), 'a0000000-0000-4000-8000-000000000001');
    await h.ctx.recordingStore.put(key, wav);
    await h.ctx.recordings.add({
      callId: 'web-rec-1',
      callStart: new Date(),
      accountId: a.account.id,
      storageKey: key,
      sizeBytes: wav.length,
      durationMs: 2000,
      sha256: 'b'.repeat(64),
    });
    await visit(me, '/my/recordings', 'customer-recordings');
    expect(await audioDuration(me)).toBeCloseTo(2, 1);
    expect(axeReport['customer-recordings']).toEqual([]);
    expect(cspErrors).toEqual([]);
    // every read the browser made is in the audit log, with the byte range it asked for
    const played = await h.s.pool.query("select detail from audit_log where action = 'recording.play' and subject_account_id = $1", [a.account.id]);
    expect(played.rows.length).toBeGreaterThan(0);
    expect(played.rows.some((r: { detail: { range?: string } }) => r.detail.range?.startsWith('0-'))).toBe(true);
  });

  it("the operator console finds the call's recording by call id and Chromium plays it through the console (each read audited under the key)", async () => {
    await visit(op, '/console/recordings?callId=web-rec-1', 'console-recordings');
    const [rec] = await h.ctx.recordings.ofCall('web-rec-1');
    expect(await op.getAttribute('audio', 'src')).toBe(`/console/recordings/${rec!.id}/audio`);
    expect(await audioDuration(op)).toBeCloseTo(2, 1);
    expect(axeReport['console-recordings']).toEqual([]);
    expect(cspErrors).toEqual([]);
    const keyId = (await h.ctx.keys.verify(h.keys.admin))!.id;
    const played = await h.s.pool.query("select detail from audit_log where action = 'recording.play' and actor = $1 and subject_account_id = $2", [
      `apikey:${keyId}`,
      a.account.id,
    ]);
    expect(played.rows.length).toBeGreaterThan(0);
  });

  it('logging out ends the session', async () => {
    await me.goto(`${base}/my`);
    await Promise.all([me.waitForURL(/\/my\/login/), me.click('form[action="/my/logout"] button')]);
    const r = await me.context().request.get(`${base}/my`, { maxRedirects: 0 });
    expect(r.status()).toBe(303);
  });
});
