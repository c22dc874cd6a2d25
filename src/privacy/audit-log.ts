import type pg from 'pg';

/**
 * The audit log: who accessed or changed which person's data, when. Details name fields and
 * counts, never the personal values themselves (an audit row must not become a copy of the data).
 */
export interface AuditEntry {
  actor: string; // 'apikey:<id>', 'customer:<id>', 'cli', 'retention', 'auto-topup'
  action: string; // 'customer.read', 'cdrs.list', 'customer.erase', ...
  customerId?: number | null;
  accountId?: number | null;
  detail?: Record<string, unknown>;
}

type Queryable = Pick<pg.Pool, 'query'> | pg.PoolClient;

export class AuditLog {
  constructor(private readonly db: Queryable) {}

  async write(e: AuditEntry, db: Queryable = this.db): Promise<void> {
    await db.query('insert into audit_log (actor, action, subject_customer_id, subject_account_id, detail) values ($1, $2, $3, $4, $5)', [
      e.actor,
      e.action,
      e.customerId ?? null,
      e.accountId ?? null,
      JSON.stringify(e.detail ?? {}),
    ]);
  }

  /** Who accessed or changed a customer's data (the customer or any of its accounts), newest first, at most 1000 entries. */
  async historyOf(customerId: number): Promise<{ at: Date; actor: string; action: string; accountId: number | null; detail: Record<string, unknown> }[]> {
    const { rows } = await this.db.query(
      `select at, actor, action, subject_account_id as "accountId", detail from audit_log
        where subject_customer_id = $1 or subject_account_id in (select id from accounts where customer_id = $1) order by id desc limit 1000`,
      [customerId],
    );
    return rows as { at: Date; actor: string; action: string; accountId: number | null; detail: Record<string, unknown> }[];
  }

  /** One row per subject, in one statement (list and search routes touching many people). */
  async writeMany(
    actor: string,
    action: string,
    subjects: { customerId: number | null; accountId: number | null }[],
    detail: Record<string, unknown> = {},
  ): Promise<void> {
    if (subjects.length === 0) return;
    await this.db.query(
      `insert into audit_log (actor, action, subject_customer_id, subject_account_id, detail)
       select $1, $2, c, a, $5 from unnest($3::bigint[], $4::bigint[]) as u(c, a)`,
      [actor, action, subjects.map((s) => s.customerId), subjects.map((s) => s.accountId), JSON.stringify(detail)],
    );
  }
}
