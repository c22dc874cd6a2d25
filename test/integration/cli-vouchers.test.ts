// The voucher commands of the operator CLI, run as an operator runs them, against this file's own
// Postgres schema and Redis namespace: create (CSV once), list, redeem (once), withdraw.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountService } from '../../src/accounts/account-service.ts';
import { BalanceStore } from '../../src/billing/balance/balance-store.ts';
import { deleteNamespace } from '../support/redis-namespace.ts';
import { cliEnvironment, runCli } from '../support/cli-process.ts';
import { setupServices, TEST_PEPPER } from '../support/services.ts';
import type { TestServices } from '../support/services.ts';

let s: TestServices;
let ns = '';
let store: BalanceStore;
let env: NodeJS.ProcessEnv;

const cli = (args: string[]) => runCli(env, args);

beforeAll(async () => {
  s = await setupServices('clivoucher', { shards: 4 });
  ({ env, namespace: ns } = cliEnvironment(s));
  store = new BalanceStore(s.redis, { namespace: ns, shards: 4 });
}, 60_000);

afterAll(async () => {
  if (!s) return;
  await deleteNamespace(s.redis, ns);
  await s.teardown();
});

describe('softswitch voucher', () => {
  it('creates a batch as CSV, redeems a code once for an account, lists and withdraws the batch', async () => {
    const accounts = new AccountService(s.pool, store, TEST_PEPPER);
    const customerId = await accounts.createCustomer({ name: 'Phone Customer' });
    const account = await accounts.createAccount({ customerId, currency: 'EUR' });
    const created = await cli(['voucher', 'create', 'Kiosk December', '3', '10', 'EUR', '--expires=2099-01-01T00:00:00Z']);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const lines = created.stdout.trim().split('\n');
    expect(lines[0]).toBe('code,value_micros,currency,expires_at,batch');
    expect(lines.slice(1).map((l) => l.split(',').slice(1, 4))).toEqual(Array(3).fill(['10000000', 'EUR', '2099-01-01T00:00:00.000Z']));
    const code = lines[1]!.split(',')[0]!;
    const batchId = lines[1]!.split(',')[4]!;

    const ok = await cli(['voucher', 'redeem', String(account.id), code]);
    expect([ok.code, ok.stdout.trim()]).toEqual([0, `10.00 EUR credited to account ${account.id}; balance 10.00 EUR`]);
    const again = await cli(['voucher', 'redeem', String(account.id), code]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('VOUCHER_NOT_REDEEMABLE');
    expect((await store.get(account.id))?.balance).toBe(10_000_000);

    const list = await cli(['voucher', 'list']);
    expect(list.stdout).toContain(`${batchId}\tKiosk December\t1/3 redeemed\t10.00 EUR`);
    const off = await cli(['voucher', 'disable', batchId]);
    expect(off.stdout.trim()).toBe(`batch ${batchId} withdrawn: its 2 unredeemed codes no longer work`);
    const late = await cli(['voucher', 'redeem', String(account.id), lines[2]!.split(',')[0]!]);
    expect(late.stderr).toContain('VOUCHER_NOT_REDEEMABLE');
    const typo = await cli(['voucher', 'redeem', String(account.id), code.slice(0, 19) + ((Number(code[19]) + 1) % 10)]);
    expect([typo.code, typo.stderr]).toEqual([1, 'error: INVALID_VOUCHER_CODE: that is not a voucher code: 20 digits starting with 9 (check for a typo)\n']);
  }, 120_000);
});
