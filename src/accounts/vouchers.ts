/**
 * Vouchers: prepaid codes an operator sells in batches and a customer redeems for credit.
 *
 * A code is 20 digits: `9`, 18 random digits (about 60 bits, from the CSPRNG) and a Luhn check
 * digit that catches a typo before any look-up. It begins with 9 so that it never reads as a payment
 * card number (src/common/card-number.ts: card numbers begin with 1-6 and are at most 19 digits),
 * and it is all digits so it can be keyed on a telephone. Only HMAC-SHA256(key, code) is stored;
 * the codes exist in clear once, in the answer that created the batch.
 *
 * Redemption is one transaction: the conditional UPDATE that marks the code redeemed (unused,
 * batch enabled, not expired, same currency as the account) locks it, the credit to the live
 * balance follows under an idempotency key derived from the code, and the commit makes both
 * stand; a credit refused (closed account) rolls the mark back. Two redemptions of one code at the
 * same instant: the second UPDATE waits for the first's row lock and then finds the code redeemed.
 * Every refusal of a well-formed code (unknown, used, expired, disabled, other currency) is the
 * same outcome after the same single statement, so the answer tells a guesser nothing.
 */
import { createHmac, randomInt } from 'node:crypto';
import type pg from 'pg';
import type { BalanceStore } from '../billing/balance/balance-store.ts';
import { assertMicros } from '../billing/money.ts';
import { luhnValid } from '../common/card-number.ts';
import { AppError } from '../errors.ts';

export const VOUCHER_CODE = /^9[0-9]{19}$/;
/** What a customer may type: the 20 digits, optionally in groups split by spaces or dashes. */
export const VOUCHER_INPUT_PATTERN = '^9[0-9 -]{19,38}$';
const MAX_BATCH = 100_000;

export interface VoucherBatch {
  id: number;
  name: string;
  count: number;
  value: number;
  currency: string;
  expiresAt: Date;
  disabledAt: Date | null;
  createdBy: string;
  createdAt: Date;
  redeemed: number;
}

export type Redemption =
  { ok: true; amount: number; currency: string; balanceAfter: number; batchId: number; creditKey: string } | { ok: false; reason: 'not_redeemable' };

/** The key of the voucher code hashes: derived from the PIN pepper, so no new secret to keep, and never equal to it. */
export function voucherKeyOf(pinPepper: string): string {
  return createHmac('sha256', pinPepper).update('voucher codes').digest('hex');
}

/** The Luhn check digit that makes `body` + digit pass. */
function checkDigit(body: string): string {
  for (let d = 0; d <= 9; d++) if (luhnValid(body + d)) return String(d);
  throw new Error('unreachable: one Luhn digit always fits');
}

export function newVoucherCode(): string {
  let body = '9';
  for (let i = 0; i < 18; i++) body += String(randomInt(10));
  return body + checkDigit(body);
}

/** The code as typed, without separators, or undefined when it is not a well-formed code (wrong length, check digit). */
export function normaliseVoucherCode(input: string): string | undefined {
  const code = input.replace(/[ -]/g, '');
  return VOUCHER_CODE.test(code) && luhnValid(code) ? code : undefined;
}

export class Vouchers {
  constructor(
    private readonly pool: pg.Pool,
    private readonly balances: Pick<BalanceStore, 'topUp'>,
    private readonly key: string,
  ) {
    if (key.length < 32) throw new Error('the voucher key must be at least 32 characters');
  }

  private hash(code: string): string {
    return createHmac('sha256', this.key).update(code).digest('hex');
  }

  /** Creates a batch; returns it and its codes (the only time they exist in clear). */
  async createBatch(
    b: { name: string; count: number; value: number; currency: string; expiresAt: Date },
    actor: string,
  ): Promise<{ batch: VoucherBatch; codes: string[] }> {
    if (!Number.isInteger(b.count) || b.count < 1 || b.count > MAX_BATCH) throw new AppError('VALIDATION_FAILED', `count must be 1 to ${MAX_BATCH}`);
    try {
      assertMicros(b.value, 'value', { positive: true });
    } catch (err) {
      throw new AppError('INVALID_AMOUNT', (err as Error).message);
    }
    if (!/^[A-Z]{3}$/.test(b.currency)) throw new AppError('VALIDATION_FAILED', 'currency must be an ISO 4217 code');
    if (!(b.expiresAt.getTime() > Date.now())) throw new AppError('VALIDATION_FAILED', 'expiresAt must be in the future');
    const name = b.name.trim();
    if (name.length < 1 || name.length > 100) throw new AppError('VALIDATION_FAILED', 'name must be 1 to 100 characters');
    const client = await this.pool.connect();
    try {
      await client.query('begin');
      const { rows } = await client.query<{ id: string }>(
        'insert into voucher_batches (name, count, value, currency, expires_at, created_by) values ($1, $2, $3, $4, $5, $6) returning id',
        [name, b.count, b.value, b.currency, b.expiresAt, actor],
      );
      const id = Number(rows[0]!.id);
      const codes: string[] = [];
      const seen = new Set<string>();
      while (codes.length < b.count) {
        const c = newVoucherCode();
        if (!seen.has(c)) {
          seen.add(c);
          codes.push(c);
        }
      }
      for (let i = 0; i < codes.length; i += 1000) {
        const hashes = codes.slice(i, i + 1000).map((c) => this.hash(c));
        // a clash with an earlier batch's code (one in 10^18) is caught by the primary key and the batch is refused whole
        await client.query('insert into vouchers (code_hash, batch_id) select unnest($1::text[]), $2', [hashes, id]);
      }
      await client.query('commit');
      return { batch: await this.batch(id), codes };
    } catch (err) {
      await client.query('rollback').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async batch(id: number): Promise<VoucherBatch> {
    const r = (await this.listBatches([id]))[0];
    if (!r) throw new AppError('NOT_FOUND', 'no such voucher batch');
    return r;
  }

  async listBatches(ids?: number[]): Promise<VoucherBatch[]> {
    const { rows } = await this.pool.query<Omit<VoucherBatch, 'id' | 'value' | 'redeemed'> & { id: string; value: string; redeemed: string }>(
      `select b.id, b.name, b.count, b.value, b.currency, b.expires_at as "expiresAt", b.disabled_at as "disabledAt", b.created_by as "createdBy",
              b.created_at as "createdAt", (select count(*) from vouchers v where v.batch_id = b.id and v.redeemed_at is not null) as redeemed
         from voucher_batches b where $1::bigint[] is null or b.id = any($1) order by b.id desc limit 500`,
      [ids ?? null],
    );
    return rows.map((r) => ({ ...r, id: Number(r.id), value: Number(r.value), redeemed: Number(r.redeemed) }));
  }

  /** Disables a batch: its unredeemed codes stop working at once. */
  async disableBatch(id: number): Promise<VoucherBatch> {
    await this.batch(id);
    await this.pool.query('update voucher_batches set disabled_at = coalesce(disabled_at, now()) where id = $1', [id]);
    return this.batch(id);
  }

  /**
   * Redeems a well-formed code (normaliseVoucherCode) for the account: credits it exactly once.
   * Any code that cannot be redeemed answers `not_redeemable`, whatever the reason.
   */
  async redeem(account: { id: number; currency: string }, code: string): Promise<Redemption> {
    const hash = this.hash(code);
    const client = await this.pool.connect();
    try {
      await client.query('begin');
      const { rows } = await client.query<{ batchId: string; value: string; currency: string }>(
        `update vouchers v set redeemed_at = now(), redeemed_by_account = $2
           from voucher_batches b
          where v.code_hash = $1 and b.id = v.batch_id and v.redeemed_at is null and b.disabled_at is null and b.expires_at > now() and b.currency = $3
          returning b.id as "batchId", b.value, b.currency`,
        [hash, account.id, account.currency],
      );
      const r = rows[0];
      if (!r) {
        await client.query('rollback');
        return { ok: false, reason: 'not_redeemable' };
      }
      const amount = Number(r.value);
      // the credit's key names the code without showing it (base64url, so no long digit run a card-number check would stop)
      const creditKey = `voucher-${Buffer.from(hash, 'hex').toString('base64url')}`;
      const credit = await this.balances.topUp(account.id, creditKey, amount, 'voucher', `voucher-batch-${r.batchId}`);
      if (!credit.ok) {
        await client.query('rollback');
        if (credit.reason === 'account_closed') throw new AppError('ACCOUNT_CLOSED');
        if (credit.reason === 'unknown_account') throw new AppError('UNKNOWN_ACCOUNT');
        throw new Error(`voucher credit refused: ${credit.reason}`);
      }
      await client.query('commit');
      return { ok: true, amount, currency: r.currency, balanceAfter: credit.balanceAfter, batchId: Number(r.batchId), creditKey };
    } catch (err) {
      await client.query('rollback').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }
}
