import type pg from 'pg';
import { RefreshingCache } from '../common/refreshing-cache.ts';
import type { NotifyChange } from '../common/change-notices.ts';
import { AppError } from '../errors.ts';
import { MAX_MICROS } from './money.ts';
import { parseTariffCsv, Tariff, tariffToCsv } from './rating/index.ts';
import type { Rate, TariffCsvError } from './rating/index.ts';

interface RateRow {
  prefix: string;
  description: string;
  price_per_minute: number;
  connection_fee: number;
  minimum_seconds: number;
  initial_increment: number;
  subsequent_increment: number;
  effective_from: Date;
  effective_until: Date | null;
  connection_fee_policy: 'answered' | 'always';
}

const toRate = (r: RateRow): Rate => ({
  prefix: r.prefix,
  description: r.description,
  pricePerMinute: r.price_per_minute,
  connectionFee: r.connection_fee,
  minimumSeconds: r.minimum_seconds,
  initialIncrement: r.initial_increment,
  subsequentIncrement: r.subsequent_increment,
  effectiveFrom: r.effective_from,
  effectiveUntil: r.effective_until,
  connectionFeePolicy: r.connection_fee_policy,
});

/** MAX_CALL_SECONDS's default (src/config/config.ts). */
const DEFAULT_MAX_CALL_SECONDS = 14_400;

/** Tariffs (rate decks) in Postgres: all-or-nothing CSV import, export, and loading for lookup. */
export class TariffRepository {
  private readonly cache: RefreshingCache<string, Tariff>;

  private readonly maxCallSeconds: number;
  /** Pushes a re-import to the SIP app processes (common/change-notices.ts); must not throw. */
  private readonly notify: NotifyChange;

  /** `maxCallSeconds` (MAX_CALL_SECONDS): every imported rate must be able to price a call this long. */
  constructor(
    private readonly pool: pg.Pool,
    cacheMs = 30_000,
    opts: { maxCallSeconds?: number; notify?: NotifyChange } = {},
  ) {
    this.maxCallSeconds = opts.maxCallSeconds ?? DEFAULT_MAX_CALL_SECONDS;
    this.notify = opts.notify ?? (() => Promise.resolve());
    this.cache = new RefreshingCache(async (id) => new Tariff(id, await this.rates(id)), { ttlMs: cacheMs, maxEntries: 1_000 });
  }

  /**
   * Replaces the tariff's rates with the CSV's, in one transaction. Any error (by line and
   * column, including a rate that cannot price a call of MAX_CALL_SECONDS) and nothing changes.
   */
  async importCsv(tariffId: string, name: string, currency: string, csv: string): Promise<{ imported: number } | { errors: TariffCsvError[] }> {
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(tariffId)) throw new AppError('VALIDATION_FAILED', 'tariff id must be 1-64 of [A-Za-z0-9_.-]');
    if (!/^[A-Z]{3}$/.test(currency)) throw new AppError('VALIDATION_FAILED', 'currency must be an ISO 4217 code');
    const parsed = parseTariffCsv(csv, { maxCallSeconds: this.maxCallSeconds, maxMicros: MAX_MICROS });
    if (!parsed.ok) return { errors: parsed.errors };
    const client = await this.pool.connect();
    try {
      await client.query('begin');
      await this.checkCurrencyChange(client, tariffId, currency);
      await client.query(
        `insert into tariffs (id, name, currency) values ($1, $2, $3)
         on conflict (id) do update set name = excluded.name, currency = excluded.currency`,
        [tariffId, name, currency],
      );
      await client.query('delete from rates where tariff_id = $1', [tariffId]);
      const r = parsed.rates;
      await client.query(
        `insert into rates (tariff_id, prefix, description, price_per_minute, connection_fee, minimum_seconds,
                            initial_increment, subsequent_increment, effective_from, effective_until, connection_fee_policy)
         select $1, * from unnest($2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::int[], $7::int[], $8::int[],
                                  $9::timestamptz[], $10::timestamptz[], $11::text[])`,
        [
          tariffId,
          r.map((x) => x.prefix),
          r.map((x) => x.description),
          r.map((x) => x.pricePerMinute),
          r.map((x) => x.connectionFee),
          r.map((x) => x.minimumSeconds),
          r.map((x) => x.initialIncrement),
          r.map((x) => x.subsequentIncrement),
          r.map((x) => x.effectiveFrom),
          r.map((x) => x.effectiveUntil),
          r.map((x) => x.connectionFeePolicy),
        ],
      );
      await client.query('commit');
    } catch (err) {
      await client.query('rollback');
      // the foreign key accounts (tariff_id, currency) → tariffs: an account took the tariff meanwhile
      if ((err as { code?: string; constraint?: string }).constraint === 'accounts_tariff_currency_fkey') {
        throw new AppError(
          'TARIFF_CURRENCY_IN_USE',
          `tariff ${tariffId} is in use by accounts of another currency than ${currency}; it cannot be re-imported in ${currency}`,
        );
      }
      throw err;
    } finally {
      client.release();
    }
    this.cache.delete(tariffId);
    await this.notify('tariffs', tariffId);
    return { imported: parsed.rates.length };
  }

  /**
   * A tariff's currency may change only while no account uses it: an account's tariff is priced in
   * the account's currency (migrations/0005_tariff_currency.sql holds the same rule). Locks the
   * tariff's row for the rest of the import.
   */
  private async checkCurrencyChange(client: pg.PoolClient, tariffId: string, currency: string): Promise<void> {
    const { rows } = await client.query<{ currency: string; accounts: number }>(
      `select t.currency, (select count(*)::int from accounts a where a.tariff_id = t.id) as accounts
         from tariffs t where t.id = $1 for update`,
      [tariffId],
    );
    const current = rows[0];
    if (current === undefined || current.currency === currency || current.accounts === 0) return;
    const users = current.accounts === 1 ? '1 account uses it' : `${current.accounts} accounts use it`;
    throw new AppError('TARIFF_CURRENCY_IN_USE', `tariff ${tariffId} is priced in ${current.currency} and ${users}; it cannot be re-imported in ${currency}`);
  }

  /** The tariff's currency; UNKNOWN_TARIFF when there is no such tariff. */
  /** Every tariff with its number of rates. */
  async list(): Promise<{ id: string; name: string; currency: string; createdAt: Date; rates: number }[]> {
    const { rows } = await this.pool.query<{ id: string; name: string; currency: string; createdAt: Date; rates: number }>(
      `select t.id, t.name, t.currency, t.created_at as "createdAt", (select count(*)::int from rates r where r.tariff_id = t.id) as rates from tariffs t order by t.id`,
    );
    return rows;
  }

  async currencyOf(tariffId: string): Promise<string> {
    const { rows } = await this.pool.query<{ currency: string }>('select currency from tariffs where id = $1', [tariffId]);
    if (rows[0] === undefined) throw new AppError('UNKNOWN_TARIFF', `no tariff ${tariffId}`);
    return rows[0].currency;
  }

  async rates(tariffId: string): Promise<Rate[]> {
    const { rows: t } = await this.pool.query('select 1 from tariffs where id = $1', [tariffId]);
    if (t.length === 0) throw new AppError('UNKNOWN_TARIFF');
    const { rows } = await this.pool.query<RateRow>(
      `select prefix, description, price_per_minute, connection_fee, minimum_seconds, initial_increment,
              subsequent_increment, effective_from, effective_until, connection_fee_policy
         from rates where tariff_id = $1 order by prefix, effective_from`,
      [tariffId],
    );
    return rows.map(toRate);
  }

  async exportCsv(tariffId: string): Promise<string> {
    return tariffToCsv(await this.rates(tariffId));
  }

  /**
   * The tariff for lookups, cached for a short while (a re-import invalidates it in this
   * process); while Postgres is unreachable the last good copy keeps rating calls.
   */
  load(tariffId: string): Promise<Tariff> {
    return this.cache.get(tariffId);
  }

  /** Drops the cached copy of one tariff, or of all (a change notice from another process). */
  invalidate(tariffId?: string): void {
    if (tariffId === undefined) this.cache.clear();
    else this.cache.delete(tariffId);
  }
}
