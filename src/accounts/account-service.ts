import { randomInt } from 'node:crypto';
import type pg from 'pg';
import type { BalanceStore, AccountLimits } from '../billing/balance/balance-store.ts';
import { assertMicros } from '../billing/money.ts';
import { AppError } from '../errors.ts';
import { isE164 } from './e164.ts';
import { generatePin, hashPassword, isValidPin, pinHmac, sipHa1 } from './secrets.ts';

export type AccountKind = 'calling_account' | 'chatpin';
export type AccountStatus = 'active' | 'suspended' | 'closed';

export interface Account {
  id: number;
  number: string;
  customerId: number;
  kind: AccountKind;
  status: AccountStatus;
  currency: string;
  tariffId: string | null;
  maxConcurrentCalls: number;
  dailySpendCap: number | null;
  creditFloor: number;
  balance: number;            // durable (Postgres) balance; the live one is in the BalanceStore
  country: string;
  username: string | null;
}

export interface NewCustomer {
  name: string;
  email?: string | null;
  addressLine1?: string | null;
  addressLine2?: string | null;
  city?: string | null;
  postalCode?: string | null;
  country?: string | null;
  phoneNumbers?: string[];
}

export interface NewAccount {
  customerId: number;
  kind?: AccountKind;
  currency: string;
  tariffId?: string | null;
  maxConcurrentCalls?: number;
  dailySpendCap?: number | null;
  creditFloor?: number;
  country?: string;
  username?: string | null;
  password?: string | null;
  number?: string;
}

const ROW = `id, number, customer_id as "customerId", kind, status, currency, tariff_id as "tariffId",
  max_concurrent_calls as "maxConcurrentCalls", daily_spend_cap as "dailySpendCap", credit_floor as "creditFloor",
  balance, country, username`;

/**
 * Accounts, customers and their credentials in Postgres; every change to an account's limits or
 * status is pushed to the live balance store so authorisation sees it at once.
 */
export class AccountService {
  constructor(private readonly pool: pg.Pool, private readonly balances: BalanceStore, private readonly pinPepper: string) {}

  async createCustomer(c: NewCustomer): Promise<number> {
    if (typeof c.name !== 'string' || c.name.trim().length === 0 || c.name.length > 200) throw new AppError('VALIDATION_FAILED', 'name must be 1-200 characters');
    if (c.email != null && !/^[^@\s]+@[^@\s]+$/.test(c.email)) throw new AppError('VALIDATION_FAILED', 'email is not valid');
    for (const p of c.phoneNumbers ?? []) if (!isE164(p)) throw new AppError('INVALID_CLI', `phone number ${p} is not E.164`);
    const { rows } = await this.pool.query<{ id: number }>(
      `insert into customers (name, email, address_line1, address_line2, city, postal_code, country, phone_numbers)
       values ($1, $2, $3, $4, $5, $6, $7, $8) returning id`,
      [c.name.trim(), c.email ?? null, c.addressLine1 ?? null, c.addressLine2 ?? null, c.city ?? null, c.postalCode ?? null, c.country ?? null, c.phoneNumbers ?? []],
    );
    return rows[0]!.id;
  }

  async createAccount(a: NewAccount): Promise<Account> {
    if (!/^[A-Z]{3}$/.test(a.currency)) throw new AppError('VALIDATION_FAILED', 'currency must be an ISO 4217 code');
    const floor = assertMicros(a.creditFloor ?? 0, 'creditFloor');
    const cap = a.dailySpendCap == null ? null : assertMicros(a.dailySpendCap, 'dailySpendCap', { nonNegative: true });
    const maxCalls = a.maxConcurrentCalls ?? 2;
    if (!Number.isInteger(maxCalls) || maxCalls < 0 || maxCalls > 1000) throw new AppError('VALIDATION_FAILED', 'maxConcurrentCalls must be 0-1000');
    if (a.password != null && a.password.length < 10) throw new AppError('VALIDATION_FAILED', 'password must be at least 10 characters');
    const passwordHash = a.password ? await hashPassword(a.password) : null;
    const number = a.number ?? String(randomInt(10_000_000, 99_999_999)) + String(randomInt(0, 10));
    let account: Account;
    try {
      const { rows } = await this.pool.query<Account>(
        `insert into accounts (number, customer_id, kind, currency, tariff_id, max_concurrent_calls, daily_spend_cap, credit_floor, country, username, password_hash)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) returning ${ROW}`,
        [number, a.customerId, a.kind ?? 'calling_account', a.currency, a.tariffId ?? null, maxCalls, cap, floor, a.country ?? 'GB', a.username ?? null, passwordHash],
      );
      account = rows[0]!;
    } catch (err) {
      throw translatePg(err);
    }
    await this.balances.syncAccount(limitsOf(account));
    return account;
  }

  async get(accountId: number): Promise<Account> {
    const { rows } = await this.pool.query<Account>(`select ${ROW} from accounts where id = $1`, [accountId]);
    if (!rows[0]) throw new AppError('UNKNOWN_ACCOUNT');
    return rows[0];
  }

  async setStatus(accountId: number, status: AccountStatus): Promise<Account> {
    const { rows } = await this.pool.query<Account>(
      `update accounts set status = $2, updated_at = now(), closed_at = case when $2 = 'closed' then now() else closed_at end
       where id = $1 returning ${ROW}`, [accountId, status]);
    if (!rows[0]) throw new AppError('UNKNOWN_ACCOUNT');
    await this.balances.syncAccount(limitsOf(rows[0]));
    return rows[0];
  }

  /** Issues a new PIN (revoking the account's previous one); the PIN is returned once and never stored. */
  async issuePin(accountId: number, pin?: string): Promise<string> {
    if (pin !== undefined && !isValidPin(pin)) throw new AppError('INVALID_PIN');
    await this.get(accountId);
    for (let attempt = 0; attempt < 5; attempt++) {
      const candidate = pin ?? generatePin(8);
      const client = await this.pool.connect();
      try {
        await client.query('begin');
        await client.query('update pins set revoked_at = now(), rotated_at = now() where account_id = $1 and revoked_at is null', [accountId]);
        await client.query('insert into pins (account_id, pin_hmac) values ($1, $2)', [accountId, pinHmac(this.pinPepper, candidate)]);
        await client.query('commit');
        return candidate;
      } catch (err) {
        await client.query('rollback');
        if ((err as { code?: string }).code !== '23505') throw err;
        if (pin !== undefined) throw new AppError('PIN_TAKEN');
      } finally {
        client.release();
      }
    }
    throw new AppError('PIN_TAKEN', 'could not find a free PIN');
  }

  async findAccountByPin(pin: string): Promise<number | undefined> {
    if (!isValidPin(pin)) return undefined;
    const { rows } = await this.pool.query<{ accountId: number }>(
      'select account_id as "accountId" from pins where pin_hmac = $1 and revoked_at is null', [pinHmac(this.pinPepper, pin)]);
    return rows[0]?.accountId;
  }

  async addCli(accountId: number, cli: string, verified = false): Promise<void> {
    if (!isE164(cli)) throw new AppError('INVALID_CLI');
    await this.get(accountId);
    try {
      await this.pool.query('insert into authorised_clis (cli, account_id, verified_at) values ($1, $2, $3)', [cli, accountId, verified ? new Date() : null]);
    } catch (err) {
      if ((err as { code?: string }).code === '23505') throw new AppError('CLI_TAKEN');
      throw err;
    }
  }

  async findAccountByCli(cli: string): Promise<number | undefined> {
    if (!isE164(cli)) return undefined;
    const { rows } = await this.pool.query<{ accountId: number }>('select account_id as "accountId" from authorised_clis where cli = $1', [cli]);
    return rows[0]?.accountId;
  }

  /** Sets a SIP password: only its HA1 digests are stored. */
  async setSipPassword(accountId: number, username: string, realm: string, password: string): Promise<void> {
    if (!/^[A-Za-z0-9_.-]{3,64}$/.test(username)) throw new AppError('VALIDATION_FAILED', 'SIP username must be 3-64 of [A-Za-z0-9_.-]');
    if (password.length < 10) throw new AppError('VALIDATION_FAILED', 'SIP password must be at least 10 characters');
    await this.get(accountId);
    const ha1 = sipHa1(username, realm, password);
    await this.pool.query(
      `insert into sip_credentials (account_id, username, realm, ha1_md5, ha1_sha256) values ($1, $2, $3, $4, $5)
       on conflict (username, realm) do update set ha1_md5 = excluded.ha1_md5, ha1_sha256 = excluded.ha1_sha256
       where sip_credentials.account_id = excluded.account_id`,
      [accountId, username, realm, ha1.md5, ha1.sha256]);
  }
}

export function limitsOf(a: Account): AccountLimits {
  return { accountId: a.id, creditFloor: a.creditFloor, maxConcurrentCalls: a.maxConcurrentCalls, dailySpendCap: a.dailySpendCap, status: a.status };
}

function translatePg(err: unknown): unknown {
  const e = err as { code?: string; constraint?: string };
  if (e.code === '23503') return new AppError(e.constraint?.includes('tariff') ? 'UNKNOWN_TARIFF' : 'UNKNOWN_CUSTOMER');
  if (e.code === '23505') return new AppError('VALIDATION_FAILED', 'account number or username already in use');
  if (e.code === '23514') return new AppError('VALIDATION_FAILED', `constraint ${e.constraint ?? ''} violated`);
  return err;
}
