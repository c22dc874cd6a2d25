import type pg from 'pg';

export interface LowBalanceAccount {
  id: number;
  number: string;
  balance: string;
  currency: string;
  creditFloor: string;
}

/** Active accounts closest to their credit floor (durable balances), for the operator dashboard. */
export class LowBalances {
  constructor(private readonly pool: pg.Pool) {}

  /** Accounts within one major unit of their floor, lowest headroom first. A table scan: for page loads, not for polling. */
  async list(limit: number): Promise<LowBalanceAccount[]> {
    const { rows } = await this.pool.query<LowBalanceAccount>(
      `select id, number, balance, currency, credit_floor as "creditFloor" from accounts
        where status = 'active' and balance - credit_floor < 1000000 order by balance - credit_floor limit $1`,
      [limit],
    );
    return rows;
  }
}
