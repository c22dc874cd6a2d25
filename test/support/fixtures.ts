import { AccountService } from '../../src/accounts/account-service.ts';
import type { Account, NewAccount } from '../../src/accounts/account-service.ts';
import type { CdrRecord } from '../../src/billing/balance/balance-store.ts';
import type { TestServices } from './services.ts';
import { TEST_PEPPER } from './services.ts';

export function accountsOf(s: TestServices): AccountService {
  return new AccountService(s.pool, s.store, TEST_PEPPER);
}

/** A customer with one account, funded by a real top-up (so the ledger explains the balance). */
export async function fundedAccount(s: TestServices, credit: number, opts: Partial<NewAccount> = {}): Promise<Account> {
  const svc = accountsOf(s);
  const customerId = await svc.createCustomer({ name: 'Test Customer' });
  const account = await svc.createAccount({ customerId, currency: 'GBP', maxConcurrentCalls: 1000, ...opts });
  if (credit > 0) {
    const r = await s.store.topUp(account.id, `opening-${account.id}`, credit, 'test', `ref-${account.id}`);
    if (!r.ok) throw new Error(`top-up failed: ${r.reason}`);
  }
  return account;
}

export function cdrFor(callId: string, accountId: number | null, cost: number, over: Partial<CdrRecord> = {}): CdrRecord {
  const start = over.startTime ?? Date.UTC(2026, 10, 26, 12, 0, 0);
  return {
    callId,
    accountId,
    kind: 'device',
    cli: '+447700900123',
    sourceIp: '127.0.0.1',
    accessNumber: null,
    device: 'alice',
    dialledNumber: '00441632960001',
    destination: '441632960001',
    startTime: start,
    answerTime: cost > 0 ? start + 2000 : null,
    endTime: start + 62_000,
    durationMs: cost > 0 ? 60_000 : 0,
    billedSeconds: cost > 0 ? 60 : 0,
    ratePrefix: '44',
    pricePerMinute: cost,
    cost,
    currency: 'GBP',
    disposition: cost > 0 ? 'answered' : 'failed',
    sipCode: cost > 0 ? 200 : 486,
    sipReason: cost > 0 ? 'OK' : 'Busy Here',
    carrier: 'test-carrier',
    ...over,
  };
}
