import type pg from 'pg';
import type { AccountProvisioning } from '../accounts/account-ports.ts';
import { AppError } from '../errors.ts';
import { AuditLog } from './audit-log.ts';

/**
 * Right to restriction: processing paused. While restricted_at is set the customer receives no
 * marketing (Consents.recipients skips them, opt-ins are refused) and no call is recorded (the
 * recording consent of each account is turned off; turning it on is refused). When the customer chooses,
 * their active accounts are suspended too; lifting the restriction resumes exactly the accounts
 * it suspended. Both directions are idempotent.
 */
/**
 * While processing is restricted, an operator reads the customer's personal data only for one of
 * these purposes, stated with the read (API header `X-Purpose`) and kept in the audit trail: the
 * customer's own request, a legal claim (a billing dispute), a request the law obliges us to answer.
 */
export const PURPOSES = ['customer_request', 'legal_claim', 'lawful_request'] as const;
export type Purpose = (typeof PURPOSES)[number];

export interface RestrictionState {
  customerId: number;
  restrictedAt: Date | null;
  suspendedAccountIds: number[];
}

export class Restriction {
  constructor(
    private readonly pool: pg.Pool,
    private readonly accounts: Pick<AccountProvisioning, 'get' | 'setStatus'>,
    /** Processing that stops with the restriction (call recording: turned off for each account, as an opt-out by `actor`). */
    private readonly onRestrict?: (customerId: number, actor: string) => Promise<unknown>,
  ) {}

  async restrict(customerId: number, suspendAccounts: boolean, actor: string): Promise<RestrictionState> {
    const c = await this.state(customerId);
    if (c.erased) throw new AppError('CUSTOMER_ERASED');
    const suspended = [...c.suspendedAccountIds];
    if (suspendAccounts) {
      const { rows } = await this.pool.query<{ id: number }>("select id from accounts where customer_id = $1 and status = 'active' order by id", [customerId]);
      for (const { id } of rows) {
        await this.accounts.setStatus(id, 'suspended');
        suspended.push(id);
      }
    }
    const { rows } = await this.pool.query<{ restrictedAt: Date }>(
      'update customers set restricted_at = coalesce(restricted_at, now()), restriction_suspended = $2, updated_at = now() where id = $1 returning restricted_at as "restrictedAt"',
      [customerId, suspended],
    );
    await this.onRestrict?.(customerId, actor);
    await new AuditLog(this.pool).write({ actor, action: 'customer.restrict', customerId, detail: { suspendAccounts, suspended: suspended.length } });
    return { customerId, restrictedAt: rows[0]!.restrictedAt, suspendedAccountIds: suspended };
  }

  async lift(customerId: number, actor: string): Promise<RestrictionState> {
    const c = await this.state(customerId);
    for (const id of c.suspendedAccountIds) {
      const a = await this.accounts.get(id);
      if (a.status === 'suspended') await this.accounts.setStatus(id, 'active');
    }
    await this.pool.query("update customers set restricted_at = null, restriction_suspended = '{}', updated_at = now() where id = $1", [customerId]);
    await new AuditLog(this.pool).write({ actor, action: 'customer.restriction_lifted', customerId, detail: { resumed: c.suspendedAccountIds.length } });
    return { customerId, restrictedAt: null, suspendedAccountIds: [] };
  }

  async get(customerId: number): Promise<RestrictionState> {
    const c = await this.state(customerId);
    return { customerId, restrictedAt: c.restrictedAt, suspendedAccountIds: c.suspendedAccountIds };
  }

  private async state(customerId: number): Promise<{ restrictedAt: Date | null; suspendedAccountIds: number[]; erased: boolean }> {
    const { rows } = await this.pool.query<{ restrictedAt: Date | null; suspendedAccountIds: number[]; erased: boolean }>(
      'select restricted_at as "restrictedAt", restriction_suspended as "suspendedAccountIds", erased_at is not null as erased from customers where id = $1',
      [customerId],
    );
    if (!rows[0]) throw new AppError('UNKNOWN_CUSTOMER');
    return rows[0];
  }
}
