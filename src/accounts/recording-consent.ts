import type pg from 'pg';
import { AppError } from '../errors.ts';
import type { ConsentBy } from './consents.ts';

/**
 * Call recording at the account holder's express wish (docs/privacy.md › Call recording): off
 * until the holder turns it on in self-care or through the API. An operator may turn it off for
 * them, never on. The state is on the account row; every change is appended to
 * recording_consent_events (who, what, when) as evidence and pushed to the live-balance hash in
 * Redis (`sync`: the account service's push of the account's limits), where the SIP app reads it
 * as it connects a call.
 */
export interface RecordingConsentState {
  accountId: number;
  recording: boolean;
  /** When the current state was set (null: never changed, off). */
  since: Date | null;
}

export interface RecordingConsentEvent {
  action: 'opt_in' | 'opt_out';
  actor: string;
  at: Date;
}

export class RecordingConsents {
  constructor(
    private readonly pool: pg.Pool,
    /** Pushes the account's row (its recording flag included) to the live-balance hash in Redis. */
    private readonly sync: (accountId: number) => Promise<unknown>,
  ) {}

  async of(accountId: number): Promise<RecordingConsentState> {
    const { rows } = await this.pool.query<{ recording: boolean; since: Date | null }>(
      'select recording_consent as recording, recording_consent_at as since from accounts where id = $1',
      [accountId],
    );
    const r = rows[0];
    if (!r) throw new AppError('UNKNOWN_ACCOUNT');
    return { accountId, recording: r.recording, since: r.since };
  }

  async set(accountId: number, recording: boolean, actor: string, by: ConsentBy): Promise<RecordingConsentState> {
    if (recording && by !== 'person') throw new AppError('CONSENT_BY_PERSON_ONLY', 'only the account holder can turn call recording on');
    const { rows } = await this.pool.query<{ status: string; restricted: boolean; erased: boolean }>(
      `select a.status, c.restricted_at is not null as restricted, c.erased_at is not null as erased
         from accounts a join customers c on c.id = a.customer_id where a.id = $1`,
      [accountId],
    );
    const c = rows[0];
    if (!c) throw new AppError('UNKNOWN_ACCOUNT');
    if (recording && c.erased) throw new AppError('CUSTOMER_ERASED');
    if (recording && c.restricted) throw new AppError('VALIDATION_FAILED', 'processing is restricted: lift the restriction before turning call recording on');
    if (recording && c.status === 'closed') throw new AppError('VALIDATION_FAILED', 'the account is closed');
    await this.pool.query(
      `with e as (insert into recording_consent_events (account_id, action, actor) values ($1, $2, $3))
       update accounts set recording_consent = $4, recording_consent_at = now(), updated_at = now() where id = $1`,
      [accountId, recording ? 'opt_in' : 'opt_out', actor, recording],
    );
    await this.sync(accountId);
    return this.of(accountId);
  }

  /** Turns recording off on every account of a customer that has it on (restriction of processing); how many. */
  async offForCustomer(customerId: number, actor: string): Promise<number> {
    const { rows } = await this.pool.query<{ id: number }>('select id from accounts where customer_id = $1 and recording_consent order by id', [customerId]);
    for (const { id } of rows) await this.set(id, false, actor, 'operator');
    return rows.length;
  }

  /** The account's consent history, newest first (evidence for the holder and for operators). */
  async history(accountId: number, limit = 100): Promise<RecordingConsentEvent[]> {
    const { rows } = await this.pool.query<RecordingConsentEvent>(
      'select action, actor, at from recording_consent_events where account_id = $1 order by id desc limit $2',
      [accountId, limit],
    );
    return rows;
  }
}
