/**
 * Operator changes reach call routing at once in every SIP app process: two processes with
 * their routing caches (60 s, so that only the change notice explains a quick change) see a
 * carrier disabled through the routing service on their very next lookup, and a tariff
 * re-import and an access number added likewise. Each process is a Node process of its own.
 */
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Interface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountService } from '../../src/accounts/account-service.ts';
import { TariffRepository } from '../../src/billing/tariff-repository.ts';
import { ChangeNotices, notifier } from '../../src/common/change-notices.ts';
import { RoutingData } from '../../src/provisioning/routing-data.ts';
import { setupServices, TEST_DATABASE_URL, TEST_PEPPER, TEST_REDIS_URL } from '../support/services.ts';
import type { TestServices } from '../support/services.ts';

const UK = '441632960001';
const HEADER =
  'prefix,description,price_per_minute,connection_fee,minimum_seconds,initial_increment,subsequent_increment,effective_from,effective_until,connection_fee_policy';
const buyCsv = (price: string) => [HEADER, `44,UK,${price},0,0,1,1,2020-01-01T00:00:00.000Z,,answered`].join('\n');

class CacheProcess {
  private readonly lines: Interface;
  private readonly waiting: ((v: Record<string, unknown>) => void)[] = [];
  readonly ready: Promise<void>;

  constructor(private readonly child: ChildProcessWithoutNullStreams) {
    this.lines = createInterface({ input: child.stdout });
    let readyFn: () => void = () => undefined;
    this.ready = new Promise((r) => (readyFn = r));
    this.lines.on('line', (l) => {
      const v = JSON.parse(l) as Record<string, unknown>;
      if (v.ready) readyFn();
      else this.waiting.shift()?.(v);
    });
  }

  ask(q: Record<string, unknown>): Promise<Record<string, unknown>> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.child.stdin.write(`${JSON.stringify(q)}\n`);
    });
  }

  stop(): void {
    this.child.stdin.end();
    this.child.kill();
  }
}

let s: TestServices;
let routing: RoutingData;
let tariffs: TariffRepository;
const procs: CacheProcess[] = [];

beforeAll(async () => {
  s = await setupServices('routingchanges');
  const notify = notifier(new ChangeNotices(s.redis, s.namespace), (err) => {
    throw err;
  });
  routing = new RoutingData(s.pool, new AccountService(s.pool, s.store, TEST_PEPPER), notify);
  tariffs = new TariffRepository(s.pool, 60_000, { notify });
  // carrier-b is the cheaper one: least-cost routing tries it first
  await tariffs.importCsv('buy-a', 'Buy A', 'GBP', buyCsv('0.2'));
  await tariffs.importCsv('buy-b', 'Buy B', 'GBP', buyCsv('0.1'));
  await routing.putCarrier('carrier-a', { name: 'A', tariffId: 'buy-a', prefixes: [''] });
  await routing.putCarrier('carrier-b', { name: 'B', tariffId: 'buy-b', prefixes: [''] });
  await routing.addGateway('carrier-a', { address: '192.0.2.1' });
  await routing.addGateway('carrier-b', { address: '192.0.2.2' });
  for (let i = 0; i < 2; i++) {
    const child = spawn(process.execPath, [
      '--import',
      'tsx',
      'test/support/routing-cache-process.ts',
      s.schema,
      s.namespace,
      TEST_DATABASE_URL,
      TEST_REDIS_URL,
    ]);
    procs.push(new CacheProcess(child));
  }
  await Promise.all(procs.map((p) => p.ready));
}, 60_000);

afterAll(async () => {
  for (const p of procs) p.stop();
  await s.teardown();
});

const carriersOf = async (p: CacheProcess) => (await p.ask({ q: 'carriers', destination: UK })).carriers;

describe('operator changes pushed to every SIP app process', () => {
  it('a carrier disabled: the very next lookup in both processes avoids it; enabled again: both use it again', async () => {
    for (const p of procs) expect(await carriersOf(p)).toEqual(['carrier-b', 'carrier-a']);
    await routing.putCarrier('carrier-b', { name: 'B', tariffId: 'buy-b', prefixes: [''], enabled: false });
    // the notice is published before the service returns; give the subscribers the time to read it
    await new Promise((r) => setTimeout(r, 100));
    for (const p of procs) expect(await carriersOf(p)).toEqual(['carrier-a']);
    await routing.putCarrier('carrier-b', { name: 'B', tariffId: 'buy-b', prefixes: [''], enabled: true });
    await new Promise((r) => setTimeout(r, 100));
    for (const p of procs) expect(await carriersOf(p)).toEqual(['carrier-b', 'carrier-a']);
  }, 30_000);

  it('a buy tariff re-imported: both processes order the carriers by the new rates', async () => {
    await tariffs.importCsv('buy-b', 'Buy B', 'GBP', buyCsv('0.3'));
    await new Promise((r) => setTimeout(r, 100));
    for (const p of procs) expect(await carriersOf(p)).toEqual(['carrier-a', 'carrier-b']);
  }, 30_000);

  it('an access number added: both processes know it at once', async () => {
    for (const p of procs) expect((await p.ask({ q: 'access', number: '+441632960100' })).access).toBe(false);
    await routing.putAccessNumber('+441632960100', {});
    await new Promise((r) => setTimeout(r, 100));
    for (const p of procs) expect((await p.ask({ q: 'access', number: '+441632960100' })).access).toBe(true);
  }, 30_000);
});
