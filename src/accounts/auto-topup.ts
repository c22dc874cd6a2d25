import type pg from 'pg';
import type { Logger } from 'pino';
import type { BalanceStore } from '../billing/balance/balance-store.ts';
import { assertMicros } from '../billing/money.ts';
import { AppError } from '../errors.ts';
import { looksLikeCardNumber } from './payments/payment-provider.ts';
import type { PaymentProvider } from './payments/payment-provider.ts';

/**
 * Auto top-up: when an account's available credit falls below its threshold, charge the saved
 * payment-provider token and credit the amount. Each charge has an idempotency key
 * (`auto-<account>-<n>`) used both with the provider and for the top-up, so a crash between the
 * two is repaired by the next run without charging twice.
 */
export interface AutoTopUpSettings {
  enabled: boolean; threshold: number; amount: number; provider: string; hasPaymentToken: boolean;
  tokenSetAt: Date | null; lastChargeAt: Date | null; lastResult: string | null;
}

const ROW = `enabled, threshold, amount, provider, payment_token is not null as "hasPaymentToken", token_set_at as "tokenSetAt",
  last_charge_at as "lastChargeAt", last_result as "lastResult"`;

export class AutoTopUp {
  constructor(private readonly pool: pg.Pool, private readonly balances: BalanceStore, private readonly provider: PaymentProvider, private readonly log?: Logger) {}

  async get(accountId: number): Promise<AutoTopUpSettings> {
    const { rows } = await this.pool.query<AutoTopUpSettings>(`select ${ROW} from auto_topups where account_id = $1`, [accountId]);
    return rows[0] ?? { enabled: false, threshold: 0, amount: 0, provider: this.provider.name, hasPaymentToken: false, tokenSetAt: null, lastChargeAt: null, lastResult: null };
  }

  async set(accountId: number, s: { enabled: boolean; threshold: number; amount: number; paymentToken?: string }): Promise<AutoTopUpSettings> {
    assertMicrosOr400(s.threshold, 'threshold', false);
    assertMicrosOr400(s.amount, 'amount', true);
    if (s.paymentToken !== undefined) {
      if (looksLikeCardNumber(s.paymentToken) || !(await this.provider.validToken(s.paymentToken))) throw new AppError('INVALID_PAYMENT_TOKEN');
    }
    const current = await this.get(accountId);
    if (s.enabled && s.paymentToken === undefined && !current.hasPaymentToken) throw new AppError('VALIDATION_FAILED', 'a paymentToken is needed to enable auto top-up');
    const { rows } = await this.pool.query<AutoTopUpSettings>(
      `insert into auto_topups (account_id, enabled, threshold, amount, provider, payment_token, token_set_at)
       values ($1, $2, $3, $4, $5, $6, case when $6::text is not null then now() end)
       on conflict (account_id) do update set enabled = excluded.enabled, threshold = excluded.threshold, amount = excluded.amount,
         provider = excluded.provider, updated_at = now(),
         payment_token = coalesce(excluded.payment_token, auto_topups.payment_token),
         token_set_at = coalesce(excluded.token_set_at, auto_topups.token_set_at)
       returning ${ROW}`,
      [accountId, s.enabled, s.threshold, s.amount, this.provider.name, s.paymentToken ?? null]);
    return rows[0]!;
  }

  /** Checks every enabled account once; returns what was charged. Safe to run from several processes. */
  async run(): Promise<{ checked: number; charged: number; failed: number }> {
    const { rows } = await this.pool.query<{ accountId: number }>('select account_id as "accountId" from auto_topups where enabled and payment_token is not null order by account_id');
    let charged = 0, failed = 0;
    for (const { accountId } of rows) {
      const r = await this.checkOne(accountId).catch((err: Error) => { this.log?.error({ err, accountId }, 'auto top-up failed'); return 'failed' as const; });
      if (r === 'charged') charged++;
      else if (r === 'failed') failed++;
    }
    return { checked: rows.length, charged, failed };
  }

  private async checkOne(accountId: number): Promise<'charged' | 'failed' | 'skipped'> {
    const live = await this.balances.get(accountId);
    if (!live || live.status === 'closed') return 'skipped';
    const client = await this.pool.connect();
    try {
      await client.query('begin');
      const { rows } = await client.query<{ threshold: number; amount: number; token: string; charges: number; currency: string }>(
        `select t.threshold, t.amount, t.payment_token as token, t.charges, a.currency from auto_topups t join accounts a on a.id = t.account_id
          where t.account_id = $1 and t.enabled and t.payment_token is not null for update of t skip locked`, [accountId]);
      const s = rows[0];
      if (!s || live.available >= s.threshold) { await client.query('commit'); return 'skipped'; }
      const key = `auto-${accountId}-${s.charges + 1}`;
      const charge = await this.provider.charge(s.token, s.amount, s.currency, key);
      if (!charge.ok) {
        await client.query(`update auto_topups set last_result = $2, enabled = $3, updated_at = now() where account_id = $1`,
          [accountId, `failed: ${charge.reason}`, charge.reason === 'unavailable']);
        await client.query('commit');
        this.log?.info({ accountId, reason: charge.reason }, 'auto top-up charge refused; auto top-up disabled');
        return 'failed';
      }
      const credit = await this.balances.topUp(accountId, key, s.amount, this.provider.name, charge.reference);
      const result = credit.ok ? 'charged' : `failed: ${credit.reason}`;
      await client.query('update auto_topups set charges = charges + 1, last_charge_at = now(), last_result = $2, updated_at = now() where account_id = $1', [accountId, result]);
      await client.query('commit');
      this.log?.info({ accountId, amount: s.amount }, 'auto top-up charged');
      return credit.ok ? 'charged' : 'failed';
    } catch (err) {
      await client.query('rollback').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }
}

function assertMicrosOr400(v: number, what: string, positive: boolean): void {
  try { assertMicros(v, what, positive ? { positive: true } : { nonNegative: true }); } catch (err) { throw new AppError('INVALID_AMOUNT', (err as Error).message); }
}
