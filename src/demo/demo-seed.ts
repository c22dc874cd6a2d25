import { readFile } from 'node:fs/promises';
import type pg from 'pg';
import type { AccountProvisioning, CallerIds, PinCredentials, SipCredentials } from '../accounts/account-ports.ts';
import type { ApiKeyStore } from '../accounts/api-keys.ts';
import type { BalanceStore } from '../billing/balance/balance-store.ts';
import type { TariffRepository } from '../billing/tariff-repository.ts';

export const DEMO = {
  tariffId: 'demo',
  accountNumber: '100000001',
  username: 'demo',
  cli: '+447700900001',
  sipUsername: 'demo1000',
  credit: 10_000_000, // 10.00 GBP in micro-units
  accessNumber: '+442071230000',
  // a local test carrier: run one with `sipp -sn uas -aa -i 127.0.0.2 -p 5080`; calls from 127.0.0.2 count as carrier calls
  carrier: { id: 'demo-carrier', address: '127.0.0.2', port: 5080 },
} as const;

export interface DemoResult {
  created: boolean;
  accountId: number;
  pin?: string; // only when just created: shown once, never stored or logged
  password?: string;
  sipPassword?: string;
  apiKey?: string; // an operator key with billing scope, for trying the API; shown once
}

/**
 * The demo data set: a tariff, a customer with a funded calling account, a PIN, a registered
 * caller ID and SIP credentials. Created once; later starts find it and change nothing.
 */
export async function seedDemo(
  pool: pg.Pool,
  accounts: AccountProvisioning & Pick<PinCredentials, 'issuePin'> & Pick<CallerIds, 'addCli'> & Pick<SipCredentials, 'setSipPassword'>,
  tariffs: TariffRepository,
  balances: BalanceStore,
  apiKeys: ApiKeyStore,
  secrets: { password: string; sipPassword: string; pin: string; realm: string },
): Promise<DemoResult> {
  const { rows } = await pool.query<{ id: number }>('select id from accounts where number = $1', [DEMO.accountNumber]);
  if (rows[0]) return { created: false, accountId: rows[0].id };
  const csv = await readFile(new URL('./demo-tariff.csv', import.meta.url), 'utf8');
  const imported = await tariffs.importCsv(DEMO.tariffId, 'Demo tariff', 'GBP', csv);
  if ('errors' in imported) throw new Error(`demo tariff invalid: ${JSON.stringify(imported.errors)}`);
  const customerId = await accounts.createCustomer({ name: 'Demo Customer', email: 'demo@example.invalid', country: 'GB', phoneNumbers: [DEMO.cli] });
  const account = await accounts.createAccount({
    customerId,
    currency: 'GBP',
    tariffId: DEMO.tariffId,
    number: DEMO.accountNumber,
    username: DEMO.username,
    password: secrets.password,
    maxConcurrentCalls: 2,
    dailySpendCap: 5_000_000,
  });
  const pin = await accounts.issuePin(account.id, secrets.pin);
  await accounts.addCli(account.id, DEMO.cli, true);
  await accounts.setSipPassword(account.id, DEMO.sipUsername, secrets.realm, secrets.sipPassword);
  const top = await balances.topUp(account.id, `demo-opening-${account.id}`, DEMO.credit, 'demo', 'opening-credit');
  if (!top.ok) throw new Error(`demo top-up failed: ${top.reason}`);
  await pool.query(`insert into carriers (id, name) values ($1, 'Demo carrier (local sipp)') on conflict do nothing`, [DEMO.carrier.id]);
  await pool.query(`insert into carrier_prefixes (carrier_id, prefix) values ($1, '') on conflict do nothing`, [DEMO.carrier.id]);
  await pool.query(`insert into gateways (carrier_id, address, port, transport) values ($1, $2, $3, 'udp')`, [
    DEMO.carrier.id,
    DEMO.carrier.address,
    DEMO.carrier.port,
  ]);
  await pool.query(`insert into carrier_addresses (carrier_id, network) values ($1, $2) on conflict do nothing`, [
    DEMO.carrier.id,
    `${DEMO.carrier.address}/32`,
  ]);
  await pool.query(`insert into access_numbers (number, language, description) values ($1, 'en', 'Demo access number') on conflict do nothing`, [
    DEMO.accessNumber,
  ]);
  const { key } = await apiKeys.create('demo', ['billing'], 'demo-seed');
  return { created: true, accountId: account.id, pin, password: secrets.password, sipPassword: secrets.sipPassword, apiKey: key };
}
