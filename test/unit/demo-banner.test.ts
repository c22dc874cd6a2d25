import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { callCost, parseTariffCsv, Tariff } from '../../src/billing/rating/index.ts';
import { bannerLines, carrierCommand, deviceCommand, FIRST_CALL, whenAnswering } from '../../src/demo/demo-banner.ts';
import { DEMO } from '../../src/demo/demo-seed.ts';
import { readDialled } from '../../src/sip/call/dialled-number.ts';

const settings = { apiHost: '127.0.0.1', apiPort: 8081, httpHost: '127.0.0.1', httpPort: 8080, sipRealm: 'softswitch.local', sip: '127.0.0.1:5060' };
const created = { created: true, accountId: 7, pin: '123456789012', password: 'pw', sipPassword: "s'ip", apiKey: 'k-1' };

describe('the npm start banner: a first call that works as printed', () => {
  it('dials a destination the demo tariff rates, and says what the CDR will hold', () => {
    const parsed = parseTariffCsv(readFileSync(new URL('../../src/demo/demo-tariff.csv', import.meta.url), 'utf8'));
    if (!parsed.ok) throw new Error('demo tariff');
    const dialled = readDialled(FIRST_CALL.dialled, 'GB');
    expect(dialled).toEqual({ ok: true, destination: FIRST_CALL.dialled });
    const rate = new Tariff(DEMO.tariffId, parsed.rates).lookup(FIRST_CALL.dialled, new Date());
    expect(rate?.prefix).toBe(FIRST_CALL.ratePrefix);
    expect(callCost(rate!, FIRST_CALL.talkMs / 1000)).toBe(FIRST_CALL.cost);
  });

  it('gives the carrier command, the device command with the SIP password quoted for the shell, and the CDR request', () => {
    const text = bannerLines(created, settings).join('\n');
    expect(text).toContain(carrierCommand());
    expect(carrierCommand()).toBe('sipp -sn uas -aa -i 127.0.0.2 -p 5080');
    expect(deviceCommand('127.0.0.1:5060', "s'ip")).toContain(`-ap 's'\\''ip'`);
    expect(text).toContain(deviceCommand('127.0.0.1:5060', "s'ip"));
    expect(text).toContain(`'http://127.0.0.1:8081/v1/cdrs?accountId=7'`);
    expect(text).toContain(`cost ${FIRST_CALL.cost}`);
    expect(text).toMatch(/health \(port 8080\): curl -s http:\/\/127\.0\.0\.1:8080\/ready/);
  });

  it('points at the order page when the test payment provider is on (npm start), and not otherwise', () => {
    const text = bannerLines(created, { ...settings, paymentProvider: 'test' }).join('\n');
    expect(text).toContain(
      'order a demo account: http://127.0.0.1:8081/order (test payment provider: nobody is charged; the welcome mail lands in .data/mail)',
    );
    expect(bannerLines(created, { ...settings, paymentProvider: 'none' }).join('\n')).not.toContain('/order');
  });

  it('the device command names a scenario that exists', () => {
    const file = /-sf (\S+)/.exec(deviceCommand('127.0.0.1:5060', 'x'))![1]!;
    expect(() => readFileSync(new URL(`../../${file}`, import.meta.url))).not.toThrow();
  });

  it('waits for the API: resolves once it answers, false when it never does', async () => {
    const server = createServer((_req, res) => res.end('ok'));
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const p = (probe.address() as AddressInfo).port;
        probe.close(() => resolve(p));
      });
    });
    const started = Date.now();
    const waiting = whenAnswering(`http://127.0.0.1:${port}/health`, 10_000, 50);
    setTimeout(() => server.listen(port, '127.0.0.1'), 600);
    expect(await waiting).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(550);
    await new Promise((r) => server.close(r));
    expect(await whenAnswering(`http://127.0.0.1:${port}/health`, 300, 50)).toBe(false);
  });
});
