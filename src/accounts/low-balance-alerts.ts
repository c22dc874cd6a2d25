/**
 * Low-balance warnings (migrations/0017_mail_outbox.sql, low_balance_alerts). A customer sets a
 * threshold per account; run() compares each live balance with it and, on a crossing downwards,
 * queues one warning: the flip of `below` is one conditional UPDATE, so processes running the
 * check at once warn once. A balance back at or above the threshold re-arms the warning.
 */
import type pg from 'pg';
import type { BalanceStore } from '../billing/balance/balance-store.ts';
import { assertMicros } from '../billing/money.ts';
import { AppError } from '../errors.ts';
import type { AccountNotices } from './account-notices.ts';

export class LowBalanceAlerts {
  constructor(
    private readonly pool: pg.Pool,
    private readonly balances: Pick<BalanceStore, 'get'>,
    private readonly notices: Pick<AccountNotices, 'lowBalance'>,
  ) {}

  async get(accountId: number): Promise<{ threshold: number | null }> {
    const { rows } = await this.pool.query<{ threshold: string }>('select threshold from low_balance_alerts where account_id = $1', [accountId]);
    return { threshold: rows[0] ? Number(rows[0].threshold) : null };
  }

  /** Sets (or, with null, removes) the account's threshold; a new threshold starts un-crossed. */
  async set(accountId: number, threshold: number | null): Promise<{ threshold: number | null }> {
    if (threshold === null) {
      await this.pool.query('delete from low_balance_alerts where account_id = $1', [accountId]);
      return { threshold: null };
    }
    try {
      assertMicros(threshold, 'threshold', { positive: true });
    } catch (err) {
      throw new AppError('INVALID_AMOUNT', (err as Error).message);
    }
    await this.pool.query(
      `insert into low_balance_alerts (account_id, threshold) values ($1, $2)
       on conflict (account_id) do update set threshold = excluded.threshold, below = false, updated_at = now()`,
      [accountId, threshold],
    );
    return { threshold };
  }

  /** Checks every account with a threshold once; returns how many warnings were queued. */
  async run(): Promise<{ checked: number; warned: number }> {
    const { rows } = await this.pool.query<{ accountId: string; threshold: string; below: boolean }>(
      'select account_id as "accountId", threshold, below from low_balance_alerts order by account_id',
    );
    let warned = 0;
    for (const r of rows) {
      const accountId = Number(r.accountId);
      const threshold = Number(r.threshold);
      const live = await this.balances.get(accountId);
      if (!live || live.status === 'closed') continue;
      if (live.available < threshold && !r.below) {
        const { rows: flipped } = await this.pool.query<{ crossings: number }>(
          `update low_balance_alerts set below = true, crossings = crossings + 1, updated_at = now()
            where account_id = $1 and not below and threshold = $2 returning crossings`,
          [accountId, threshold],
        );
        if (flipped[0]) {
          await this.notices.lowBalance(accountId, flipped[0].crossings, live.available, threshold);
          warned++;
        }
      } else if (live.available >= threshold && r.below) {
        await this.pool.query('update low_balance_alerts set below = false, updated_at = now() where account_id = $1 and below', [accountId]);
      }
    }
    return { checked: rows.length, warned };
  }
}
