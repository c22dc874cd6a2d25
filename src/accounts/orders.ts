/**
 * Online orders (migrations/0021_orders.sql): a visitor orders a calling account and pays for it
 * through the payment provider's checkout.
 *
 *   awaiting_email ──code──▶ awaiting_payment ──provider: paid──▶ paid ──▶ completed
 *        │                        │     │                                   (account opened,
 *        └──── expiry job ────────┴──▶ expired                              credited once,
 *                                 │                                         welcome mail)
 *                                 └──provider: failed/expired──▶ failed
 *                  provider: paid, amount or currency not the order's ──▶ flagged (nothing credited)
 *
 * - The order's status token (`ot_`…) and e-mail code (`ev_`…, the e-mail verification's code,
 *   in its mail) are random, 256 bits, stored only as SHA-256. The code is tried at most
 *   MAX_CODE_ATTEMPTS times.
 * - A provider event is acted on once: its id is the primary key of payment_events, inserted in
 *   the same transaction that moves the order. An order that reached `paid` and whose completion
 *   was interrupted is completed by the next delivery of any of its events (completion is
 *   idempotent: the account is opened under the order's row lock, the credit is keyed
 *   `order-<id>`, the welcome mail by account number).
 * - The credit is the normal top-up (BalanceStore.topUp: Redis, stream, ledger) with an audit row.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { BalanceStore } from '../billing/balance/balance-store.ts';
import { AppError } from '../errors.ts';
import type { AccountProvisioning } from './account-ports.ts';
import { microsToMinorUnits } from './payments/minor-units.ts';
import type { CheckoutProvider, PaymentEvent } from './payments/payment-provider.ts';
import { looksLikeCardNumber } from './payments/payment-provider.ts';

export type OrderStatus = 'awaiting_email' | 'awaiting_payment' | 'paid' | 'completed' | 'failed' | 'expired' | 'flagged';

export interface OrderSettings {
  currency: string;
  minAmount: number;
  maxAmount: number;
  expiryMinutes: number;
}

export interface NewOrder {
  name: string;
  email: string;
  country: string;
  amount: number;
  paymentMethod: string;
}

export interface OrderView {
  id: string;
  status: OrderStatus;
  amount: number;
  currency: string;
  paymentMethod: string;
  createdAt: Date;
  expiresAt: Date;
  accountNumber: string | null;
}

export interface OrderDeps {
  pool: pg.Pool;
  accounts: Pick<AccountProvisioning, 'createCustomer' | 'createAccount'>;
  balances: Pick<BalanceStore, 'topUp'>;
  /** The provider's checkout; without one, orders cannot be placed. */
  checkout: CheckoutProvider | undefined;
  settings: OrderSettings;
  /** Mails the e-mail code (the email_verification mail) with a link to the order page. */
  sendCode(m: { to: string; token: string; expiresAt: Date; link: string }): Promise<void>;
  /** An absolute link to a path of the service's pages. */
  link(path: string): string;
  /** Queues the welcome mail (one-time password link, never a password). */
  welcome(accountId: number): Promise<void>;
  audit(e: { actor: string; action: string; customerId?: number; accountId?: number; detail?: Record<string, unknown> }): Promise<void>;
  log: Logger;
}

export const MAX_CODE_ATTEMPTS = 5;
/** Stripe's shortest checkout lifetime is 30 minutes; one more for the request's own time. */
const CHECKOUT_MIN_MINUTES = 31;
const ORDER_ID = /^ord_[A-Za-z0-9_-]{22}$/;
const STATUS_TOKEN = /^ot_[A-Za-z0-9_-]{43}$/;
const CODE = /^ev_[A-Za-z0-9_-]{43}$/;
const EMAIL = /^[^@\s]{1,64}@[^@\s]{1,190}$/;
const sha = (s: string): string => createHash('sha256').update(s).digest('hex');
const sameHash = (a: string, b: string): boolean => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

interface Row {
  id: string;
  status: OrderStatus;
  name: string | null;
  email: string | null;
  country: string | null;
  amount: string;
  currency: string;
  paymentMethod: string;
  provider: string;
  checkoutId: string | null;
  checkoutUrl: string | null;
  providerReference: string | null;
  customerId: string | null;
  accountId: string | null;
  createdAt: Date;
  expiresAt: Date;
  accountNumber: string | null;
}

const COLUMNS = `o.id, o.status, o.name, o.email, o.country, o.amount, o.currency, o.payment_method as "paymentMethod", o.provider,
  o.checkout_id as "checkoutId", o.checkout_url as "checkoutUrl", o.provider_reference as "providerReference", o.customer_id as "customerId", o.account_id as "accountId",
  o.created_at as "createdAt", o.expires_at as "expiresAt", a.number as "accountNumber"`;

const view = (r: Row): OrderView => ({
  id: r.id,
  status: r.status,
  amount: Number(r.amount),
  currency: r.currency,
  paymentMethod: r.paymentMethod,
  createdAt: r.createdAt,
  expiresAt: r.expiresAt,
  accountNumber: r.accountNumber,
});

export type EventOutcome = 'completed' | 'duplicate' | 'flagged' | 'failed' | 'ignored' | 'unknown_order' | 'already_paid';

export class Orders {
  constructor(private readonly d: OrderDeps) {}

  get available(): boolean {
    return this.d.checkout !== undefined;
  }

  get methods(): readonly string[] {
    return this.d.checkout?.methods ?? [];
  }

  get settings(): OrderSettings {
    return this.d.settings;
  }

  /** A new order: checked, stored, and the e-mail code mailed. Answers the order id and its status token (shown once). */
  async create(o: NewOrder): Promise<OrderView & { statusToken: string }> {
    const checkout = this.d.checkout;
    if (!checkout) throw new AppError('ORDERS_UNAVAILABLE');
    const name = o.name.trim();
    const email = o.email.trim();
    if (name.length === 0 || name.length > 200) throw new AppError('VALIDATION_FAILED', 'name must be 1-200 characters');
    if (!EMAIL.test(email)) throw new AppError('VALIDATION_FAILED', 'email is not a valid address');
    if (!/^[A-Z]{2}$/.test(o.country)) throw new AppError('VALIDATION_FAILED', 'country must be an ISO 3166 alpha-2 code (GB, US…)');
    if (looksLikeCardNumber(name)) throw new AppError('CARD_NUMBER_REFUSED');
    if (!checkout.methods.includes(o.paymentMethod)) throw new AppError('VALIDATION_FAILED', `paymentMethod must be one of ${checkout.methods.join(', ')}`);
    const s = this.d.settings;
    if (!Number.isSafeInteger(o.amount) || o.amount < s.minAmount || o.amount > s.maxAmount)
      throw new AppError('INVALID_AMOUNT', `amount must be between ${s.minAmount} and ${s.maxAmount} micro-units of ${s.currency}`);
    try {
      microsToMinorUnits(o.amount, s.currency);
    } catch (err) {
      throw new AppError('INVALID_AMOUNT', (err as Error).message);
    }
    const id = `ord_${randomBytes(16).toString('base64url')}`;
    const statusToken = `ot_${randomBytes(32).toString('base64url')}`;
    const code = `ev_${randomBytes(32).toString('base64url')}`;
    const { rows } = await this.d.pool.query<{ expiresAt: Date }>(
      `insert into orders (id, status, status_token_hash, name, email, country, amount, currency, payment_method, provider, email_code_hash, expires_at)
       values ($1, 'awaiting_email', $2, $3, $4, $5, $6, $7, $8, $9, $10, now() + make_interval(mins => $11)) returning expires_at as "expiresAt"`,
      [id, sha(statusToken), name, email, o.country, o.amount, s.currency, o.paymentMethod, checkout.name, sha(code), s.expiryMinutes],
    );
    const expiresAt = rows[0]!.expiresAt;
    await this.d.sendCode({ to: email, token: code, expiresAt, link: this.d.link(`/order/${id}`) });
    this.d.log.info({ orderId: id, amount: o.amount, currency: s.currency }, 'order placed');
    return { ...(await this.status(id, statusToken)), statusToken };
  }

  /** The orderer's view of the order (the status token is the only credential). */
  async status(id: string, statusToken: string): Promise<OrderView> {
    return view(await this.find(id, statusToken));
  }

  /** The orderer enters the code from the mail: the address is theirs, the order can be paid. */
  async verifyEmail(id: string, statusToken: string, code: string): Promise<OrderView> {
    await this.find(id, statusToken);
    if (!CODE.test(code)) throw new AppError('VERIFICATION_FAILED');
    const { rows } = await this.d.pool.query<{ codeHash: string | null; attempts: number }>(
      `update orders set email_attempts = email_attempts + 1, updated_at = now()
        where id = $1 and status = 'awaiting_email' and expires_at > now() returning email_code_hash as "codeHash", email_attempts as attempts`,
      [id],
    );
    const r = rows[0];
    if (!r) throw new AppError('ORDER_STATE');
    if (r.attempts > MAX_CODE_ATTEMPTS || !r.codeHash || !sameHash(r.codeHash, sha(code))) throw new AppError('VERIFICATION_FAILED');
    const done = await this.d.pool.query(
      `update orders set status = 'awaiting_payment', email_verified_at = now(), email_code_hash = null, updated_at = now()
        where id = $1 and status = 'awaiting_email'`,
      [id],
    );
    if (done.rowCount !== 1) throw new AppError('ORDER_STATE');
    return this.status(id, statusToken);
  }

  /** Opens (or reopens: the same checkout, by idempotency key) the provider's checkout; answers the page to send the payer to. */
  async checkout(id: string, statusToken: string): Promise<{ url: string }> {
    const checkout = this.d.checkout;
    if (!checkout) throw new AppError('ORDERS_UNAVAILABLE');
    const o = await this.find(id, statusToken);
    if (o.status !== 'awaiting_payment' || o.expiresAt.getTime() <= Date.now() || o.provider !== checkout.name || !o.email) throw new AppError('ORDER_STATE');
    if (o.checkoutUrl) return { url: o.checkoutUrl }; // pressed again: the same checkout
    // a checkout must stay open at least 30 minutes (Stripe's minimum): the order waits as long
    const { rows } = await this.d.pool.query<{ expiresAt: Date }>(
      `update orders set expires_at = greatest(expires_at, now() + interval '${CHECKOUT_MIN_MINUTES} minutes'), updated_at = now()
        where id = $1 returning expires_at as "expiresAt"`,
      [id],
    );
    const expiresAt = rows[0]!.expiresAt;
    let c;
    try {
      c = await checkout.createCheckout({
        orderId: id,
        amount: Number(o.amount),
        currency: o.currency,
        email: o.email,
        description: `Prepaid calling credit (order ${id.slice(4, 12)})`,
        successUrl: this.d.link(`/order/${id}?m=order.returned`),
        cancelUrl: this.d.link(`/order/${id}?m=order.cancelled`),
        expiresAt,
        idempotencyKey: `order-${id}-checkout`,
      });
    } catch (err) {
      this.d.log.error({ orderId: id, err: (err as Error).message }, 'the payment provider did not open a checkout');
      throw new AppError('PAYMENT_PROVIDER_FAILED');
    }
    await this.d.pool.query('update orders set checkout_id = $2, checkout_url = $3, updated_at = now() where id = $1', [id, c.id, c.url]);
    return { url: c.url };
  }

  /**
   * A provider event (verified by the provider adapter): recorded once by its id, then acted on.
   * `paid` with the order's exact amount and currency completes the order; anything else paid
   * flags it and credits nothing.
   */
  async applyEvent(e: PaymentEvent): Promise<EventOutcome> {
    const db = await this.d.pool.connect();
    let outcome: EventOutcome;
    let complete: string | undefined;
    try {
      await db.query('begin');
      const ins = await db.query(
        `insert into payment_events (provider, event_id, type, outcome) values ($1, $2, $3, 'received') on conflict (provider, event_id) do nothing`,
        [e.provider, e.eventId, e.type],
      );
      if (ins.rowCount !== 1) {
        await db.query('commit');
        // acted on before; a completion cut short then is finished now
        if (e.kind === 'paid') await this.complete(e.orderId);
        this.d.log.info({ provider: e.provider, eventId: e.eventId }, 'payment event delivered again: nothing done twice');
        return 'duplicate';
      }
      if (e.kind === 'ignored') {
        outcome = 'ignored';
      } else {
        const { rows } = await db.query<{ status: OrderStatus; amount: string; currency: string }>(
          'select status, amount, currency from orders where id = $1 and provider = $2 for update',
          [e.orderId, e.provider],
        );
        const o = rows[0];
        if (!o) {
          outcome = 'unknown_order';
          this.d.log.warn({ provider: e.provider, eventId: e.eventId, orderId: e.orderId }, 'payment event for an unknown order');
        } else if (e.kind === 'failed') {
          const r = await db.query(
            `update orders set status = 'failed', problem = $2, updated_at = now() where id = $1 and status in ('awaiting_email', 'awaiting_payment')`,
            [e.orderId, e.reason],
          );
          outcome = r.rowCount === 1 ? 'failed' : 'ignored';
        } else if (['paid', 'completed', 'flagged'].includes(o.status)) {
          outcome = 'already_paid';
          this.d.log.error(
            { orderId: e.orderId, eventId: e.eventId, reference: e.reference },
            'a second payment for an order already paid: nothing credited, refund it at the provider',
          );
        } else if (e.amount !== Number(o.amount) || e.currency !== o.currency) {
          outcome = 'flagged';
          await db.query(`update orders set status = 'flagged', problem = $2, provider_reference = $3, checkout_id = $4, updated_at = now() where id = $1`, [
            e.orderId,
            `paid ${e.amount} ${e.currency}, ordered ${o.amount} ${o.currency}`,
            e.reference,
            e.checkoutId,
          ]);
          this.d.log.error(
            { orderId: e.orderId, eventId: e.eventId, paid: e.amount, paidCurrency: e.currency, ordered: Number(o.amount), currency: o.currency },
            'payment does not match the order: order flagged, nothing credited',
          );
        } else {
          // a payment after the order expired (the provider's checkout closes with it, so only at the edge): the money was taken, the order is served
          if (o.status !== 'awaiting_payment') this.d.log.warn({ orderId: e.orderId, status: o.status }, 'payment for an order that was not awaiting payment');
          await db.query(
            `update orders set status = 'paid', paid_at = now(), provider_reference = $2, checkout_id = $3, problem = null, updated_at = now() where id = $1`,
            [e.orderId, e.reference, e.checkoutId],
          );
          outcome = 'completed';
          complete = e.orderId;
        }
        await db.query('update payment_events set order_id = $3 where provider = $1 and event_id = $2', [e.provider, e.eventId, o ? e.orderId : null]);
      }
      await db.query('update payment_events set outcome = $3 where provider = $1 and event_id = $2', [e.provider, e.eventId, outcome]);
      await db.query('commit');
    } catch (err) {
      await db.query('rollback').catch(() => undefined);
      throw err;
    } finally {
      db.release();
    }
    if (complete) await this.complete(complete);
    return outcome;
  }

  /**
   * A paid order: the account opened (once, under the row lock), credited once, the welcome mail
   * queued, the order completed. A completion already running holds the row: this one returns at
   * once (`skip locked`) rather than wait holding a pool connection, which the running one needs
   * to open the account (waiting deliveries could otherwise take every connection).
   */
  async complete(id: string): Promise<void> {
    const db = await this.d.pool.connect();
    let o: Row | undefined;
    try {
      await db.query('begin');
      const { rows } = await db.query<Row>(
        `select ${COLUMNS} from orders o left join accounts a on a.id = o.account_id where o.id = $1 and o.status = 'paid' for update of o skip locked`,
        [id],
      );
      o = rows[0];
      if (o && o.accountId === null) {
        const { customerId, accountId } = await this.open(o);
        await db.query('update orders set customer_id = $2, account_id = $3, updated_at = now() where id = $1', [id, customerId, accountId]);
        o = { ...o, customerId: String(customerId), accountId: String(accountId) };
      }
      await db.query('commit');
    } catch (err) {
      await db.query('rollback').catch(() => undefined);
      throw err;
    } finally {
      db.release();
    }
    if (!o) return;
    const accountId = Number(o.accountId);
    const customerId = Number(o.customerId);
    const credit = await this.d.balances.topUp(accountId, `order-${id}`, Number(o.amount), o.provider, o.providerReference ?? '');
    if (!credit.ok) {
      this.d.log.error({ orderId: id, accountId, reason: credit.reason }, 'a paid order could not be credited');
      throw new Error(`order ${id}: credit refused (${credit.reason})`);
    }
    if (!credit.duplicate)
      await this.d.audit({ actor: `order:${id}`, action: 'topup', customerId, accountId, detail: { amount: Number(o.amount), provider: o.provider } });
    await this.d.welcome(accountId);
    await this.d.pool.query(`update orders set status = 'completed', completed_at = now(), updated_at = now() where id = $1 and status = 'paid'`, [id]);
    this.d.log.info({ orderId: id, accountId, amount: Number(o.amount) }, 'order completed: account opened and credited');
  }

  /** Orders not paid in time expire; the personal data of expired and failed orders is blanked then. */
  async expire(): Promise<{ expired: number }> {
    const r = await this.d.pool.query(
      `update orders set status = 'expired', updated_at = now() where status in ('awaiting_email', 'awaiting_payment') and expires_at <= now()`,
    );
    await this.d.pool.query(
      `update orders set name = null, email = null, email_code_hash = null, checkout_url = null, updated_at = now()
        where status in ('expired', 'failed') and expires_at <= now() and (name is not null or email is not null)`,
    );
    if (r.rowCount) this.d.log.info({ expired: r.rowCount }, 'unpaid orders expired');
    return { expired: r.rowCount ?? 0 };
  }

  /** The local test provider's pay page: the same event a webhook would bring. */
  async testProviderEvent(
    id: string,
    statusToken: string,
    outcome: 'paid' | 'failed',
    event: (o: { id: string; amount: number; currency: string }) => PaymentEvent,
  ) {
    const o = await this.find(id, statusToken);
    if (o.provider !== 'test' || this.d.checkout?.name !== 'test') throw new AppError('NOT_FOUND');
    if (o.status !== 'awaiting_payment') throw new AppError('ORDER_STATE');
    return this.applyEvent(event({ id, amount: Number(o.amount), currency: o.currency }));
  }

  private async open(o: Row): Promise<{ customerId: number; accountId: number }> {
    const email = o.email!;
    const existing = await this.d.pool.query<{ id: string }>('select id from customers where lower(email) = lower($1) and erased_at is null', [email]);
    let customerId: number;
    if (existing.rows[0]) {
      customerId = Number(existing.rows[0].id); // the orderer proved the mailbox: the account joins that customer
    } else {
      customerId = await this.d.accounts.createCustomer({ name: o.name!, email, country: o.country });
    }
    // the address was verified by the order's code
    await this.d.pool.query('update customers set email_verified_at = coalesce(email_verified_at, now()) where id = $1 and lower(email) = lower($2)', [
      customerId,
      email,
    ]);
    const a = await this.d.accounts.createAccount({ customerId, currency: o.currency, ...(o.country ? { country: o.country } : {}) });
    await this.d.audit({ actor: `order:${o.id}`, action: 'account.create', customerId, accountId: a.id, detail: { order: o.id } });
    return { customerId, accountId: a.id };
  }

  private async find(id: string, statusToken: string): Promise<Row> {
    if (!ORDER_ID.test(id) || !STATUS_TOKEN.test(statusToken)) throw new AppError('NOT_FOUND');
    const { rows } = await this.d.pool.query<Row & { tokenHash: string }>(
      `select ${COLUMNS}, o.status_token_hash as "tokenHash" from orders o left join accounts a on a.id = o.account_id where o.id = $1`,
      [id],
    );
    const r = rows[0];
    if (!r || !sameHash(r.tokenHash, sha(statusToken))) throw new AppError('NOT_FOUND');
    return r;
  }
}
