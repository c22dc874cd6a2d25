import type pg from 'pg';
import type { Logger } from 'pino';
import type { BalanceStore } from '../billing/balance/balance-store.ts';
import { assertMicros } from '../billing/money.ts';
import type { Config } from '../config/config.ts';
import { AppError } from '../errors.ts';
import { looksLikeCardNumber } from './payments/payment-provider.ts';
import type { PaymentProvider } from './payments/payment-provider.ts';
import type { AccountNotices } from './account-notices.ts';

/**
 * Auto top-up: when an account's available credit falls below its threshold, charge the saved
 * payment-provider token and credit the amount. Free credit is what an attacker wants from this, so:
 *
 * - amount and threshold are capped by the operator (AutoTopUpLimits), checked when set and again
 *   before each charge (a limit lowered later still holds);
 * - at most `maxPerDay` is charged per account in any 24 hours (counted from the recorded charges);
 * - each attempt has an idempotency key (`auto-<account>-<n>`) used with the provider and for the
 *   credit, and is recorded once in auto_topup_charges whatever its result; a crash between
 *   charge and credit is repaired by the next run without charging twice;
 * - a decline (or an invalid token) disables auto top-up; the customer is told on the self-care
 *   home page and sees it in the settings (`lastResult`, `recentCharges`); every attempt is counted
 *   in `softswitch_auto_topup_charges_total{result}`. Only 'unavailable' (the provider did not
 *   answer) leaves it on.
 */
export interface AutoTopUpLimits {
  maxAmount: number;
  maxThreshold: number;
  maxPerDay: number;
}

/** The auto top-up limits the settings give (the API and the CLI run the same check with them). */
export function autoTopUpLimitsOf(config: Config): AutoTopUpLimits {
  return { maxAmount: config.autoTopUpMaxAmount, maxThreshold: config.autoTopUpMaxThreshold, maxPerDay: config.autoTopUpMaxPerDay };
}

export interface AutoTopUpSettings {
  enabled: boolean;
  threshold: number;
  amount: number;
  provider: string;
  hasPaymentToken: boolean;
  tokenSetAt: Date | null;
  lastChargeAt: Date | null;
  lastResult: string | null;
  recentCharges: { at: Date; amount: number; result: string }[];
}

const ROW = `enabled, threshold, amount, provider, payment_token is not null as "hasPaymentToken", token_set_at as "tokenSetAt",
  last_charge_at as "lastChargeAt", last_result as "lastResult"`;
const RECENT = 10;

/** What a charge attempt came to, as recorded in auto_topup_charges. */
export type ChargeOutcome = 'charged' | 'declined' | 'invalid_token' | 'unavailable' | 'credit_failed';

export class AutoTopUp {
  private observer: ((result: ChargeOutcome) => void) | undefined;

  constructor(
    private readonly pool: pg.Pool,
    private readonly balances: BalanceStore,
    private readonly provider: PaymentProvider,
    private readonly limits: AutoTopUpLimits,
    private readonly log?: Logger,
    /** The customer's mails: charged, or declined (and so switched off). */
    private readonly notices?: Pick<AccountNotices, 'autoTopUp'>,
  ) {}

  /** Told of every recorded charge attempt (the metrics count them). */
  observe(fn: (result: ChargeOutcome) => void): void {
    this.observer = fn;
  }

  async get(accountId: number): Promise<AutoTopUpSettings> {
    const { rows } = await this.pool.query<Omit<AutoTopUpSettings, 'recentCharges'>>(`select ${ROW} from auto_topups where account_id = $1`, [accountId]);
    const { rows: charges } = await this.pool.query<{ at: Date; amount: string; result: string }>(
      'select at, amount, result from auto_topup_charges where account_id = $1 order by id desc limit $2',
      [accountId, RECENT],
    );
    const recentCharges = charges.map((c) => ({ at: c.at, amount: Number(c.amount), result: c.result }));
    return {
      ...(rows[0] ?? {
        enabled: false,
        threshold: 0,
        amount: 0,
        provider: this.provider.name,
        hasPaymentToken: false,
        tokenSetAt: null,
        lastChargeAt: null,
        lastResult: null,
      }),
      recentCharges,
    };
  }

  async set(accountId: number, s: { enabled: boolean; threshold: number; amount: number; paymentToken?: string }): Promise<AutoTopUpSettings> {
    assertMicrosOr400(s.threshold, 'threshold', false);
    assertMicrosOr400(s.amount, 'amount', true);
    if (s.amount > this.limits.maxAmount) throw new AppError('AUTO_TOPUP_LIMIT', `amount must be at most ${this.limits.maxAmount}`);
    if (s.threshold > this.limits.maxThreshold) throw new AppError('AUTO_TOPUP_LIMIT', `threshold must be at most ${this.limits.maxThreshold}`);
    if (s.paymentToken !== undefined) {
      if (looksLikeCardNumber(s.paymentToken) || !(await this.provider.validToken(s.paymentToken))) throw new AppError('INVALID_PAYMENT_TOKEN');
    }
    const current = await this.get(accountId);
    if (s.enabled && s.paymentToken === undefined && !current.hasPaymentToken)
      throw new AppError('VALIDATION_FAILED', 'a paymentToken is needed to enable auto top-up');
    await this.pool.query(
      `insert into auto_topups (account_id, enabled, threshold, amount, provider, payment_token, token_set_at)
       values ($1, $2, $3, $4, $5, $6, case when $6::text is not null then now() end)
       on conflict (account_id) do update set enabled = excluded.enabled, threshold = excluded.threshold, amount = excluded.amount,
         provider = excluded.provider, updated_at = now(),
         payment_token = coalesce(excluded.payment_token, auto_topups.payment_token),
         token_set_at = coalesce(excluded.token_set_at, auto_topups.token_set_at)`,
      [accountId, s.enabled, s.threshold, s.amount, this.provider.name, s.paymentToken ?? null],
    );
    return this.get(accountId);
  }

  /** Checks every enabled account once; returns what was charged. Safe to run from several processes. */
  async run(): Promise<{ checked: number; charged: number; failed: number }> {
    const { rows } = await this.pool.query<{ accountId: number }>(
      'select account_id as "accountId" from auto_topups where enabled and payment_token is not null and provider = $1 order by account_id',
      [this.provider.name],
    );
    let charged = 0,
      failed = 0;
    for (const { accountId } of rows) {
      const r = await this.runOne(accountId).catch((err: Error) => {
        this.log?.error({ err, accountId }, 'auto top-up failed');
        return 'failed' as const;
      });
      if (r === 'charged') charged++;
      else if (r === 'failed') failed++;
    }
    return { checked: rows.length, charged, failed };
  }

  /** One account: charge and credit once if it is below its threshold and within the limits. */
  async runOne(accountId: number): Promise<'charged' | 'failed' | 'skipped' | 'limited'> {
    const live = await this.balances.get(accountId);
    // only an account that may call is charged: a suspended one (by an operator, or by the
    // customer's restriction of processing) or a closed one never touches the stored card
    if (!live || live.status !== 'active') return 'skipped';
    const client = await this.pool.connect();
    try {
      await client.query('begin');
      const { rows } = await client.query<{ threshold: string; amount: string; token: string; charges: string; currency: string; chargedToday: string }>(
        `select t.threshold, t.amount, t.payment_token as token, t.charges, a.currency,
                (select coalesce(sum(c.amount), 0) from auto_topup_charges c
                  where c.account_id = t.account_id and c.result = 'charged' and c.at > now() - interval '24 hours') as "chargedToday"
           from auto_topups t join accounts a on a.id = t.account_id
          where t.account_id = $1 and t.enabled and t.payment_token is not null and t.provider = $2 for update of t skip locked`,
        [accountId, this.provider.name],
      );
      const s = rows[0];
      // re-read under the row lock: a concurrent run may have credited since `live` was read
      const now = s && (await this.balances.get(accountId));
      if (!s || !now || now.available >= Number(s.threshold)) {
        await client.query('commit');
        return 'skipped';
      }
      const amount = Number(s.amount);
      const overDay = Number(s.chargedToday) + amount > this.limits.maxPerDay;
      if (overDay || amount > this.limits.maxAmount || Number(s.threshold) > this.limits.maxThreshold) {
        await client.query('update auto_topups set last_result = $2, updated_at = now() where account_id = $1', [
          accountId,
          overDay ? 'daily limit reached' : "above the operator's limits",
        ]);
        await client.query('commit');
        this.log?.info({ accountId, amount, chargedToday: Number(s.chargedToday) }, "auto top-up held back by the operator's limits");
        return 'limited';
      }
      const key = `auto-${accountId}-${Number(s.charges) + 1}`;
      const charge = await this.provider.charge(s.token, amount, s.currency, key);
      if (!charge.ok) {
        await client.query(
          `insert into auto_topup_charges (account_id, attempt_key, amount, result) values ($1, $2, $3, $4)
          on conflict (attempt_key) do nothing`,
          [accountId, key, amount, charge.reason],
        );
        // the next attempt gets a new key; an unavailable provider is retried, a refusal is not
        await client.query(`update auto_topups set charges = charges + 1, last_result = $2, enabled = $3, updated_at = now() where account_id = $1`, [
          accountId,
          `failed: ${charge.reason}`,
          charge.reason === 'unavailable',
        ]);
        await client.query('commit');
        this.observer?.(charge.reason);
        this.log?.info(
          { accountId, reason: charge.reason },
          charge.reason === 'unavailable' ? 'auto top-up charge not answered' : 'auto top-up charge refused; auto top-up disabled',
        );
        if (charge.reason !== 'unavailable') await this.notices?.autoTopUp(accountId, key, amount, { ok: false, reason: charge.reason.replace('_', ' ') });
        return 'failed';
      }
      const credit = await this.balances.topUp(accountId, key, amount, this.provider.name, charge.reference);
      const result: ChargeOutcome = credit.ok ? 'charged' : 'credit_failed';
      await client.query(
        `insert into auto_topup_charges (account_id, attempt_key, amount, result, provider_reference) values ($1, $2, $3, $4, $5)
        on conflict (attempt_key) do nothing`,
        [accountId, key, amount, result, charge.reference],
      );
      await client.query('update auto_topups set charges = charges + 1, last_charge_at = now(), last_result = $2, updated_at = now() where account_id = $1', [
        accountId,
        credit.ok ? 'charged' : `failed: ${credit.reason}`,
      ]);
      await client.query('commit');
      this.observer?.(result);
      this.log?.info({ accountId, amount }, 'auto top-up charged');
      if (credit.ok) await this.notices?.autoTopUp(accountId, key, amount, { ok: true });
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
  try {
    assertMicros(v, what, positive ? { positive: true } : { nonNegative: true });
  } catch (err) {
    throw new AppError('INVALID_AMOUNT', (err as Error).message);
  }
}
