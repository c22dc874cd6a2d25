import type pg from 'pg';
import { AppError } from '../errors.ts';
import type { Account } from './account-service.ts';
import { isE164 } from './e164.ts';

/** Customers (the people) and the search over accounts, with keyset pagination by id. */
export interface Customer {
  id: number;
  name: string;
  email: string | null;
  addressLine1: string | null;
  addressLine2: string | null;
  city: string | null;
  postalCode: string | null;
  country: string | null;
  phoneNumbers: string[];
  emailVerifiedAt: Date | null;
  /** A new address the customer entered, waiting for its verification (src/accounts/email-verification.ts). */
  pendingEmail: string | null;
  restrictedAt: Date | null;
  erasedAt: Date | null;
  closedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export type CustomerChanges = Partial<Pick<Customer, 'name' | 'email' | 'addressLine1' | 'addressLine2' | 'city' | 'postalCode' | 'country' | 'phoneNumbers'>>;

const CUSTOMER = `id, name, email, address_line1 as "addressLine1", address_line2 as "addressLine2", city,
  postal_code as "postalCode", country, phone_numbers as "phoneNumbers", email_verified_at as "emailVerifiedAt",
  (select v.email from email_verifications v where v.customer_id = customers.id and v.expires_at > now()) as "pendingEmail",
  restricted_at as "restrictedAt", erased_at as "erasedAt", closed_at as "closedAt", created_at as "createdAt", updated_at as "updatedAt"`;

const ACCOUNT = `a.id, a.number, a.customer_id as "customerId", a.kind, a.status, a.currency, a.tariff_id as "tariffId",
  a.max_concurrent_calls as "maxConcurrentCalls", a.daily_spend_cap as "dailySpendCap", a.credit_floor as "creditFloor",
  a.balance, a.country, a.username`;

const COLUMNS: Record<keyof CustomerChanges, string> = {
  name: 'name',
  email: 'email',
  addressLine1: 'address_line1',
  addressLine2: 'address_line2',
  city: 'city',
  postalCode: 'postal_code',
  country: 'country',
  phoneNumbers: 'phone_numbers',
};

export interface AccountSearch {
  number?: string;
  email?: string;
  cli?: string;
  sipUsername?: string;
  customerId?: number;
  after?: number;
  limit: number;
}

export class CustomerDirectory {
  constructor(private readonly pool: pg.Pool) {}

  async get(customerId: number): Promise<Customer> {
    const { rows } = await this.pool.query<Customer>(`select ${CUSTOMER} from customers where id = $1`, [customerId]);
    if (!rows[0]) throw new AppError('UNKNOWN_CUSTOMER');
    return rows[0];
  }

  /** `withoutRestricted`: leave out customers whose processing is restricted (a read with no stated purpose). */
  async search(q: { email?: string; after?: number; limit: number; withoutRestricted?: boolean }): Promise<Customer[]> {
    const { rows } = await this.pool.query<Customer>(
      `select ${CUSTOMER} from customers where id > $1 and ($2::text is null or lower(email) = lower($2))
          and (not $4 or restricted_at is null) order by id limit $3`,
      [q.after ?? 0, q.email ?? null, q.limit, q.withoutRestricted ?? false],
    );
    return rows;
  }

  /** Rectification: changes the given fields; returns the customer and the names of the fields that changed. */
  async update(customerId: number, ch: CustomerChanges): Promise<{ customer: Customer; changed: string[] }> {
    validateChanges(ch);
    const current = await this.get(customerId);
    if (current.erasedAt) throw new AppError('CUSTOMER_ERASED');
    const changed = (Object.keys(ch) as (keyof CustomerChanges)[]).filter((k) => ch[k] !== undefined && JSON.stringify(ch[k]) !== JSON.stringify(current[k]));
    if (changed.length === 0) return { customer: current, changed };
    const sets = changed.map((k, i) => `${COLUMNS[k]} = $${i + 2}`);
    try {
      const { rows } = await this.pool.query<Customer>(
        `update customers set ${sets.join(', ')}, updated_at = now()${changed.includes('email') ? ', email_verified_at = null' : ''} where id = $1 returning ${CUSTOMER}`,
        [customerId, ...changed.map((k) => (k === 'name' ? (ch.name as string).trim() : ch[k]))],
      );
      return { customer: rows[0]!, changed };
    } catch (err) {
      if ((err as { code?: string }).code === '23505') throw new AppError('ALREADY_EXISTS', 'another customer has that e-mail address');
      throw err;
    }
  }

  async accountsOf(customerId: number): Promise<Account[]> {
    const { rows } = await this.pool.query<Account>(`select ${ACCOUNT} from accounts a where a.customer_id = $1 order by a.id`, [customerId]);
    return rows;
  }

  async searchAccounts(q: AccountSearch): Promise<Account[]> {
    const { rows } = await this.pool.query<Account>(
      `select ${ACCOUNT} from accounts a join customers c on c.id = a.customer_id
        where a.id > $1
          and ($2::text is null or a.number = $2)
          and ($3::text is null or lower(c.email) = lower($3))
          and ($4::text is null or exists (select 1 from authorised_clis l where l.account_id = a.id and l.cli = $4))
          and ($5::text is null or exists (select 1 from sip_credentials s where s.account_id = a.id and s.username = $5))
          and ($6::bigint is null or a.customer_id = $6)
        order by a.id limit $7`,
      [q.after ?? 0, q.number ?? null, q.email ?? null, q.cli ?? null, q.sipUsername ?? null, q.customerId ?? null, q.limit],
    );
    return rows;
  }

  /** The customer behind an account. */
  async customerOf(accountId: number): Promise<number> {
    const { rows } = await this.pool.query<{ customerId: number }>('select customer_id as "customerId" from accounts where id = $1', [accountId]);
    if (!rows[0]) throw new AppError('UNKNOWN_ACCOUNT');
    return rows[0].customerId;
  }

  /** Marks the customer closed (the contact-data retention clock starts); accounts are closed by the caller. */
  async markClosed(customerId: number): Promise<void> {
    const { rowCount } = await this.pool.query('update customers set closed_at = coalesce(closed_at, now()), updated_at = now() where id = $1', [customerId]);
    if (!rowCount) throw new AppError('UNKNOWN_CUSTOMER');
  }
}

export function validateChanges(ch: CustomerChanges): void {
  if (ch.name !== undefined && (typeof ch.name !== 'string' || ch.name.trim().length === 0 || ch.name.length > 200))
    throw new AppError('VALIDATION_FAILED', 'name must be 1-200 characters');
  if (ch.email != null && !/^[^@\s]+@[^@\s]+$/.test(ch.email)) throw new AppError('VALIDATION_FAILED', 'email is not valid');
  if (ch.country != null && !/^[A-Z]{2}$/.test(ch.country)) throw new AppError('VALIDATION_FAILED', 'country must be an ISO 3166 alpha-2 code');
  for (const p of ch.phoneNumbers ?? []) if (!isE164(p)) throw new AppError('INVALID_CLI', 'phone numbers must be E.164');
}
