import { randomInt } from 'node:crypto';
import type pg from 'pg';
import type { BalanceStore, AccountLimits } from '../billing/balance/balance-store.ts';
import { assertMicros } from '../billing/money.ts';
import { timeZoneOfCountry } from '../billing/balance/account-day.ts';
import { AppError } from '../errors.ts';
import { isE164 } from './e164.ts';
import { generatePin, hashPassword, isTrivialPin, isValidPin, pinHmac, sipHa1, verifyPassword } from './secrets.ts';
import { passwordProblem } from './password-policy.ts';
import type { AccountPorts } from './account-ports.ts';

/** A SIP username's digest challenge setting (see setSipDigestAlgorithms). */
export const SIP_DIGEST_SETTINGS = ['auto', 'MD5', 'SHA-256,MD5'] as const;
export type SipDigestSetting = (typeof SIP_DIGEST_SETTINGS)[number];
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
  balance: number; // durable (Postgres) balance; the live one is in the BalanceStore
  country: string;
  username: string | null;
  /** The account holder has asked for their calls to be recorded (docs/privacy.md › Call recording). */
  recordingConsent: boolean;
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
  balance, country, username, recording_consent as "recordingConsent"`;

/**
 * Accounts, customers and their credentials in Postgres; every change to an account's limits or
 * status is pushed to the live balance store so authorisation sees it at once.
 */
export interface AccountServiceOptions {
  /** Digits of a system-assigned PIN (docs/security.md: the PIN space against the wrong-PIN budget). */
  pinLength?: number;
  /** Country (ISO 3166 alpha-2) of accounts created without one: their dialling plan (DEFAULT_ACCOUNT_COUNTRY). */
  defaultCountry?: string;
}

export const DEFAULT_PIN_LENGTH = 12;

export class AccountService implements AccountPorts {
  private readonly pinLength: number;
  private readonly defaultCountry: string;

  constructor(
    private readonly pool: pg.Pool,
    private readonly balances: BalanceStore,
    private readonly pinPepper: string,
    o: AccountServiceOptions = {},
  ) {
    this.pinLength = o.pinLength ?? DEFAULT_PIN_LENGTH;
    this.defaultCountry = o.defaultCountry ?? 'GB';
  }

  async createCustomer(c: NewCustomer): Promise<number> {
    if (typeof c.name !== 'string' || c.name.trim().length === 0 || c.name.length > 200)
      throw new AppError('VALIDATION_FAILED', 'name must be 1-200 characters');
    if (c.email != null && !/^[^@\s]+@[^@\s]+$/.test(c.email)) throw new AppError('VALIDATION_FAILED', 'email is not valid');
    for (const p of c.phoneNumbers ?? []) if (!isE164(p)) throw new AppError('INVALID_CLI', `phone number ${p} is not E.164`);
    const { rows } = await this.pool.query<{ id: number }>(
      `insert into customers (name, email, address_line1, address_line2, city, postal_code, country, phone_numbers)
       values ($1, $2, $3, $4, $5, $6, $7, $8) returning id`,
      [
        c.name.trim(),
        c.email ?? null,
        c.addressLine1 ?? null,
        c.addressLine2 ?? null,
        c.city ?? null,
        c.postalCode ?? null,
        c.country ?? null,
        c.phoneNumbers ?? [],
      ],
    );
    return rows[0]!.id;
  }

  async createAccount(a: NewAccount): Promise<Account> {
    if (!/^[A-Z]{3}$/.test(a.currency)) throw new AppError('VALIDATION_FAILED', 'currency must be an ISO 4217 code');
    if (a.country != null && !/^[A-Z]{2}$/.test(a.country)) throw new AppError('VALIDATION_FAILED', 'country must be an ISO 3166 alpha-2 code (GB, US…)');
    const floor = assertMicros(a.creditFloor ?? 0, 'creditFloor');
    const cap = a.dailySpendCap == null ? null : assertMicros(a.dailySpendCap, 'dailySpendCap', { nonNegative: true });
    const maxCalls = a.maxConcurrentCalls ?? 2;
    if (!Number.isInteger(maxCalls) || maxCalls < 0 || maxCalls > 1000) throw new AppError('VALIDATION_FAILED', 'maxConcurrentCalls must be 0-1000');
    const weak = a.password == null ? undefined : passwordProblem(a.password);
    if (weak) throw new AppError('WEAK_PASSWORD', weak);
    const passwordHash = a.password ? await hashPassword(a.password) : null;
    const number = a.number ?? String(randomInt(10_000_000, 99_999_999)) + String(randomInt(0, 10));
    if (a.tariffId != null) await this.checkTariffCurrency(a.tariffId, a.currency, 'the account');
    let account: Account;
    try {
      const { rows } = await this.pool.query<Account>(
        `insert into accounts (number, customer_id, kind, currency, tariff_id, max_concurrent_calls, daily_spend_cap, credit_floor, country, username, password_hash)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) returning ${ROW}`,
        [
          number,
          a.customerId,
          a.kind ?? 'calling_account',
          a.currency,
          a.tariffId ?? null,
          maxCalls,
          cap,
          floor,
          a.country ?? this.defaultCountry,
          a.username ?? null,
          passwordHash,
        ],
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
       where id = $1 returning ${ROW}`,
      [accountId, status],
    );
    if (!rows[0]) throw new AppError('UNKNOWN_ACCOUNT');
    await this.balances.syncAccount(limitsOf(rows[0]));
    return rows[0];
  }

  /**
   * Issues a new PIN, assigned by the system (revoking the account's previous one and the caller
   * IDs registered at the IVR with it); the PIN is returned once and never stored. A chosen `pin`
   * is for fixtures and demo data only: no HTTP route or CLI command passes one, because an answer
   * to "is this PIN free?" would tell a customer another account's PIN.
   */
  async issuePin(accountId: number, pin?: string): Promise<string> {
    if (pin !== undefined && (!isValidPin(pin) || isTrivialPin(pin))) throw new AppError('INVALID_PIN');
    await this.get(accountId);
    for (let attempt = 0; attempt < 5; attempt++) {
      const candidate = pin ?? this.randomPin();
      const client = await this.pool.connect();
      try {
        await client.query('begin');
        await client.query('update pins set revoked_at = now(), rotated_at = now() where account_id = $1 and revoked_at is null', [accountId]);
        await client.query('insert into pins (account_id, pin_hmac) values ($1, $2)', [accountId, pinHmac(this.pinPepper, candidate)]);
        await revokeIvrClis(client, accountId);
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
    throw new Error('five random PINs in a row were in use: the PIN space is too small for the number of accounts');
  }

  private randomPin(): string {
    for (;;) {
      const p = generatePin(this.pinLength);
      if (!isTrivialPin(p)) return p;
    }
  }

  /**
   * Suspected compromise: the PIN and the caller IDs registered at the IVR are revoked in one
   * transaction (caller IDs an operator approved stay). The API also ends the account's sessions.
   */
  async revokeCredentials(accountId: number): Promise<{ pinRevoked: boolean; callerIdsRevoked: number }> {
    await this.get(accountId);
    const client = await this.pool.connect();
    try {
      await client.query('begin');
      const { rowCount } = await client.query('update pins set revoked_at = now() where account_id = $1 and revoked_at is null', [accountId]);
      const callerIdsRevoked = await revokeIvrClis(client, accountId);
      await client.query('commit');
      return { pinRevoked: (rowCount ?? 0) > 0, callerIdsRevoked };
    } catch (err) {
      await client.query('rollback');
      throw err;
    } finally {
      client.release();
    }
  }

  async findAccountByPin(pin: string): Promise<number | undefined> {
    if (!isValidPin(pin)) return undefined;
    const { rows } = await this.pool.query<{ accountId: number }>('select account_id as "accountId" from pins where pin_hmac = $1 and revoked_at is null', [
      pinHmac(this.pinPepper, pin),
    ]);
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
    // a device password is guessed over SIP from any number of addresses: the same policy as account passwords
    const weak = passwordProblem(password);
    if (weak) throw new AppError('WEAK_PASSWORD', `SIP password: ${weak}`);
    await this.get(accountId);
    const ha1 = sipHa1(username, realm, password);
    await this.pool.query(
      `insert into sip_credentials (account_id, username, realm, ha1_md5, ha1_sha256) values ($1, $2, $3, $4, $5)
       on conflict (username, realm) do update set ha1_md5 = excluded.ha1_md5, ha1_sha256 = excluded.ha1_sha256
       where sip_credentials.account_id = excluded.account_id`,
      [accountId, username, realm, ha1.md5, ha1.sha256],
    );
  }

  /** Changes limits and tariff; the live store sees them at once. Unset fields stay as they are. */
  async updateAccount(
    accountId: number,
    ch: { tariffId?: string | null; maxConcurrentCalls?: number; dailySpendCap?: number | null; creditFloor?: number },
  ): Promise<Account> {
    if (ch.creditFloor !== undefined) assertMicros(ch.creditFloor, 'creditFloor');
    if (ch.dailySpendCap != null) assertMicros(ch.dailySpendCap, 'dailySpendCap', { nonNegative: true });
    if (ch.maxConcurrentCalls !== undefined && (!Number.isInteger(ch.maxConcurrentCalls) || ch.maxConcurrentCalls < 0 || ch.maxConcurrentCalls > 1000)) {
      throw new AppError('VALIDATION_FAILED', 'maxConcurrentCalls must be 0-1000');
    }
    const current = await this.get(accountId);
    if (current.status === 'closed') throw new AppError('ACCOUNT_CLOSED');
    if (ch.tariffId != null) await this.checkTariffCurrency(ch.tariffId, current.currency, `account ${accountId}`);
    let rows: Account[];
    try {
      ({ rows } = await this.pool.query<Account>(
        `update accounts set tariff_id = $2, max_concurrent_calls = $3, daily_spend_cap = $4, credit_floor = $5, updated_at = now()
         where id = $1 returning ${ROW}`,
        [
          accountId,
          ch.tariffId === undefined ? current.tariffId : ch.tariffId,
          ch.maxConcurrentCalls ?? current.maxConcurrentCalls,
          ch.dailySpendCap === undefined ? current.dailySpendCap : ch.dailySpendCap,
          ch.creditFloor ?? current.creditFloor,
        ],
      ));
    } catch (err) {
      throw translatePg(err);
    }
    await this.balances.syncAccount(limitsOf(rows[0]!));
    return rows[0]!;
  }

  /**
   * An account's tariff is priced in the account's currency (there is no conversion rule): a
   * tariff of another currency is refused with TARIFF_CURRENCY_MISMATCH, an unknown one with
   * UNKNOWN_TARIFF. The foreign key accounts (tariff_id, currency) → tariffs holds it in the database too.
   */
  private async checkTariffCurrency(tariffId: string, currency: string, whose: string): Promise<void> {
    const { rows } = await this.pool.query<{ currency: string }>('select currency from tariffs where id = $1', [tariffId]);
    const tariff = rows[0];
    if (tariff === undefined) throw new AppError('UNKNOWN_TARIFF', `no tariff ${tariffId}`);
    if (tariff.currency !== currency)
      throw new AppError('TARIFF_CURRENCY_MISMATCH', `tariff ${tariffId} is priced in ${tariff.currency}; ${whose} is in ${currency}`);
  }

  /** Revokes the account's PIN (if any) and the caller IDs registered at the IVR with it; returns whether a PIN was active. */
  async revokePin(accountId: number): Promise<boolean> {
    return (await this.revokeCredentials(accountId)).pinRevoked;
  }

  /** Metadata of the account's PINs (never the PIN or its hash). */
  async pinHistory(accountId: number): Promise<{ createdAt: Date; revokedAt: Date | null }[]> {
    const { rows } = await this.pool.query<{ createdAt: Date; revokedAt: Date | null }>(
      'select created_at as "createdAt", revoked_at as "revokedAt" from pins where account_id = $1 order by id',
      [accountId],
    );
    return rows;
  }

  /** Looks at this account's PIN only: another account's PIN and a free one take the same path (no row either way). */
  async pinMatches(accountId: number, pin: string): Promise<boolean> {
    if (!isValidPin(pin)) return false;
    const { rowCount } = await this.pool.query('select 1 from pins where account_id = $1 and pin_hmac = $2 and revoked_at is null', [
      accountId,
      pinHmac(this.pinPepper, pin),
    ]);
    return (rowCount ?? 0) > 0;
  }

  async listClis(accountId: number): Promise<{ cli: string; verifiedAt: Date | null; createdAt: Date }[]> {
    const { rows } = await this.pool.query<{ cli: string; verifiedAt: Date | null; createdAt: Date }>(
      'select cli, verified_at as "verifiedAt", created_at as "createdAt" from authorised_clis where account_id = $1 order by created_at, cli',
      [accountId],
    );
    return rows;
  }

  async removeCli(accountId: number, cli: string): Promise<void> {
    const { rowCount } = await this.pool.query('delete from authorised_clis where account_id = $1 and cli = $2', [accountId, cli]);
    if (!rowCount) throw new AppError('UNKNOWN_CLI');
  }

  async listSipCredentials(accountId: number): Promise<{ username: string; realm: string; createdAt: Date; digestAlgorithms: SipDigestSetting }[]> {
    const { rows } = await this.pool.query<{ username: string; realm: string; createdAt: Date; digestAlgorithms: SipDigestSetting | null }>(
      'select username, realm, created_at as "createdAt", digest_algorithms as "digestAlgorithms" from sip_credentials where account_id = $1 order by username',
      [accountId],
    );
    return rows.map((r) => ({ ...r, digestAlgorithms: r.digestAlgorithms ?? 'auto' }));
  }

  /**
   * The digest challenge of one SIP username's device: 'MD5' (MD5 alone, for a device that fails on
   * SHA-256), 'SHA-256,MD5' (SHA-256 first), or 'auto' (learned from its answers, else by User-Agent).
   */
  async setSipDigestAlgorithms(accountId: number, username: string, setting: SipDigestSetting): Promise<void> {
    if (!SIP_DIGEST_SETTINGS.includes(setting)) throw new AppError('VALIDATION_FAILED', `digestAlgorithms must be one of ${SIP_DIGEST_SETTINGS.join(', ')}`);
    const { rowCount } = await this.pool.query('update sip_credentials set digest_algorithms = $3 where account_id = $1 and username = $2', [
      accountId,
      username,
      setting === 'auto' ? null : setting,
    ]);
    if (!rowCount) throw new AppError('NOT_FOUND', 'no such SIP username on this account');
  }

  async removeSipCredential(accountId: number, username: string): Promise<void> {
    const { rowCount } = await this.pool.query('delete from sip_credentials where account_id = $1 and username = $2', [accountId, username]);
    if (!rowCount) throw new AppError('NOT_FOUND', 'no such SIP username on this account');
  }

  /** Whether a SIP username is free or already this account's (setSipPassword silently keeps other accounts' rows). */
  async sipUsernameOwner(username: string, realm: string): Promise<number | undefined> {
    const { rows } = await this.pool.query<{ accountId: number }>('select account_id as "accountId" from sip_credentials where username = $1 and realm = $2', [
      username,
      realm,
    ]);
    return rows[0]?.accountId;
  }

  /** Self-care login: the account id when username and password match an account that is not closed. */
  async verifyLogin(username: string, password: string): Promise<{ accountId: number; customerId: number } | undefined> {
    const { rows } = await this.pool.query<{ id: number; customerId: number; passwordHash: string | null; status: AccountStatus }>(
      'select id, customer_id as "customerId", password_hash as "passwordHash", status from accounts where username = $1',
      [username],
    );
    const row = rows[0];
    if (!row || !row.passwordHash || row.status === 'closed') {
      await hashPassword(password); // same work either way: no timing hint that the username exists
      return undefined;
    }
    return (await verifyPassword(password, row.passwordHash)) ? { accountId: row.id, customerId: row.customerId } : undefined;
  }

  async passwordMatches(accountId: number, password: string): Promise<boolean> {
    const { rows } = await this.pool.query<{ passwordHash: string | null }>('select password_hash as "passwordHash" from accounts where id = $1', [accountId]);
    const h = rows[0]?.passwordHash;
    return h ? verifyPassword(password, h) : false;
  }

  async setPassword(accountId: number, password: string): Promise<void> {
    const weak = passwordProblem(password);
    if (weak) throw new AppError('WEAK_PASSWORD', weak);
    const { rowCount } = await this.pool.query('update accounts set password_hash = $2, updated_at = now() where id = $1', [
      accountId,
      await hashPassword(password),
    ]);
    if (!rowCount) throw new AppError('UNKNOWN_ACCOUNT');
  }
}

/** Caller IDs registered at the IVR after a PIN login die with that PIN; pending ones are withdrawn. */
async function revokeIvrClis(client: pg.PoolClient, accountId: number): Promise<number> {
  const { rowCount } = await client.query("delete from authorised_clis where account_id = $1 and origin = 'ivr'", [accountId]);
  await client.query(
    `update cli_requests set decision = 'withdrawn', decided_at = now(), decided_by = 'pin-change'
    where account_id = $1 and origin = 'ivr' and decision is null`,
    [accountId],
  );
  return rowCount ?? 0;
}

export function limitsOf(a: Account): AccountLimits {
  return {
    accountId: a.id,
    creditFloor: a.creditFloor,
    maxConcurrentCalls: a.maxConcurrentCalls,
    dailySpendCap: a.dailySpendCap,
    status: a.status,
    timeZone: timeZoneOfCountry(a.country),
    recording: a.recordingConsent,
  };
}

function translatePg(err: unknown): unknown {
  const e = err as { code?: string; constraint?: string };
  if (e.code === '23503' && e.constraint === 'accounts_tariff_currency_fkey')
    return new AppError('TARIFF_CURRENCY_MISMATCH', 'the tariff is priced in another currency than the account');
  if (e.code === '23503') return new AppError(e.constraint?.includes('tariff') ? 'UNKNOWN_TARIFF' : 'UNKNOWN_CUSTOMER');
  if (e.code === '23505') return new AppError('VALIDATION_FAILED', 'account number or username already in use');
  if (e.code === '23514') return new AppError('VALIDATION_FAILED', `constraint ${e.constraint ?? ''} violated`);
  return err;
}
