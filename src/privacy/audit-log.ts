import type pg from 'pg';

/**
 * The audit log: who accessed or changed which person's data, when. Details name fields and
 * counts, never the personal values themselves (an audit row must not become a copy of the data).
 */
export interface AuditEntry {
  actor: string; // 'apikey:<id>', 'customer:<id>', 'cli:<operator>', 'retention', 'auto-topup'
  action: string; // 'customer.read', 'cdrs.list', 'customer.erase', ...
  customerId?: number | null;
  accountId?: number | null;
  detail?: Record<string, unknown>;
}

type Queryable = Pick<pg.Pool, 'query'> | pg.PoolClient;

export interface AuditRow {
  id: number;
  at: Date;
  actor: string;
  action: string;
  accountId: number | null;
  detail: Record<string, unknown>;
}

/**
 * The CLI's actor in the audit log: the operator's name (`SOFTSWITCH_OPERATOR`, letters, digits and
 * `._@-`) when given, else the login of who ran the command (the invoking user under sudo).
 */
export function cliActor(who: { operator: string; sudoUser: string; login: string }): string {
  if (/^[A-Za-z0-9._@-]{1,64}$/.test(who.operator)) return `cli:${who.operator}`;
  return `cli:${who.sudoUser !== '' ? who.sudoUser : who.login}`;
}

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

  /**
   * Who accessed or changed a customer's data (the customer or any of its accounts), newest first:
   * entries at or after `from` and before `to`, `limit` at a time, after the entry `before` (the
   * last id of the previous page).
   */
  async historyOf(customerId: number, q: { from?: Date; to?: Date; before?: number; limit?: number } = {}): Promise<AuditRow[]> {
    const { rows } = await this.db.query(
      `select id, at, actor, action, subject_account_id as "accountId", detail from audit_log
        where (subject_customer_id = $1 or subject_account_id in (select id from accounts where customer_id = $1))
          and ($2::timestamptz is null or at >= $2) and ($3::timestamptz is null or at < $3) and ($4::bigint is null or id < $4)
        order by id desc limit $5`,
      [customerId, q.from ?? null, q.to ?? null, q.before ?? null, q.limit ?? 1000],
    );
    return rows.map((r: AuditRow) => ({ ...r, id: Number(r.id) }));
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
