import type pg from 'pg';
import { AppError } from '../errors.ts';

/**
 * Marketing consent per e-mail list. The current state is in marketing_consents; every change is
 * also appended to consent_events (who, what, when) as evidence. Opting out is always possible;
 * opting in is refused while processing is restricted or after erasure, and is the person's own
 * act: an operator may record an opt-out for a customer, never an opt-in.
 */

/** Who changes a consent: the person themselves (self-care) or an operator on their behalf. */
export type ConsentBy = 'person' | 'operator';
export const LISTS = ['customer', 'potential_customer'] as const;
export type MarketingList = (typeof LISTS)[number];

export interface ConsentState {
  list: MarketingList;
  optedIn: boolean;
  consentedAt: Date | null;
  optedOutAt: Date | null;
}

export class Consents {
  constructor(private readonly pool: pg.Pool) {}

  async of(customerId: number): Promise<ConsentState[]> {
    const { rows } = await this.pool.query<{ list: MarketingList; consentedAt: Date | null; optedOutAt: Date | null }>(
      'select list, consented_at as "consentedAt", opted_out_at as "optedOutAt" from marketing_consents where customer_id = $1',
      [customerId],
    );
    return LISTS.map((list) => {
      const r = rows.find((x) => x.list === list);
      const consentedAt = r?.consentedAt ?? null,
        optedOutAt = r?.optedOutAt ?? null;
      return { list, optedIn: consentedAt !== null && (optedOutAt === null || optedOutAt < consentedAt), consentedAt, optedOutAt };
    });
  }

  async set(customerId: number, list: MarketingList, optIn: boolean, actor: string, by: ConsentBy): Promise<ConsentState[]> {
    if (!LISTS.includes(list)) throw new AppError('VALIDATION_FAILED', `list must be one of ${LISTS.join(', ')}`);
    if (optIn && by !== 'person') throw new AppError('CONSENT_BY_PERSON_ONLY');
    const { rows } = await this.pool.query<{ restricted: boolean; erased: boolean }>(
      'select restricted_at is not null as restricted, erased_at is not null as erased from customers where id = $1',
      [customerId],
    );
    const c = rows[0];
    if (!c) throw new AppError('UNKNOWN_CUSTOMER');
    if (optIn && c.erased) throw new AppError('CUSTOMER_ERASED');
    if (optIn && c.restricted) throw new AppError('VALIDATION_FAILED', 'processing is restricted: lift the restriction before opting in');
    await this.pool.query(
      `with e as (insert into consent_events (customer_id, list, action, actor) values ($1, $2, $3, $4))
       insert into marketing_consents (customer_id, list, consented_at, opted_out_at)
       values ($1, $2, case when $5 then now() end, case when not $5 then now() end)
       on conflict (customer_id, list) do update set
         consented_at = case when $5 then now() else marketing_consents.consented_at end,
         opted_out_at = case when not $5 then now() else marketing_consents.opted_out_at end`,
      [customerId, list, optIn ? 'opt_in' : 'opt_out', actor, optIn],
    );
    return this.of(customerId);
  }

  /** Who may be e-mailed on a list now: opted in, not opted out since, address verified, not restricted, not erased. */
  async recipients(list: MarketingList): Promise<{ customerId: number; email: string }[]> {
    const { rows } = await this.pool.query<{ customerId: number; email: string }>(
      `select c.id as "customerId", c.email from marketing_consents m join customers c on c.id = m.customer_id
        where m.list = $1 and m.consented_at is not null and (m.opted_out_at is null or m.opted_out_at < m.consented_at)
          and c.email is not null and c.email_verified_at is not null and c.restricted_at is null and c.erased_at is null order by c.id`,
      [list],
    );
    return rows;
  }
}
