import type pg from 'pg';
import { limitsOf } from '../accounts/account-service.ts';
import type { AccountLookup } from '../accounts/account-ports.ts';
import type { BalanceStore } from '../billing/balance/balance-store.ts';
import { AppError } from '../errors.ts';
import { AuditLog } from './audit-log.ts';
import { eraseMailsOf } from '../mail/outbox.ts';

/**
 * Right to erasure. In one transaction: contact data overwritten (name 'erased', everything
 * else null), the customer's accounts closed and stripped of username and password, PINs,
 * caller IDs, caller-ID requests, SIP credentials, personal numbers, auto top-up tokens and
 * consents deleted, call recordings (files and records) and the recording consent's evidence
 * deleted, payment references dropped, the mails to them (queued or sent) stripped of address,
 * subject and bodies (queued ones are never sent). Call records and access-number sessions are kept
 * (the law requires them for their retention period) but unlinked: account, device, caller ID and
 * source address cleared, call and event ids replaced by random ones, and the ledger's call
 * entries stop naming their calls, so no join leads from a kept record to the person
 * (docs/privacy.md); they go when their retention ends. Then the
 * live store learns the accounts are closed and their self-care sessions are ended.
 * Idempotent: erasing an erased customer changes nothing more.
 */
export interface ErasureResult {
  customerId: number;
  alreadyErased: boolean;
  accountsClosed: number;
  callRecordsUnlinked: number;
  /** Call recordings deleted, file and record. */
  recordingsDeleted: number;
}

export async function eraseCustomer(
  deps: {
    pool: pg.Pool;
    accounts: AccountLookup;
    balances: BalanceStore;
    endSessions?: (accountId: number) => Promise<void>;
    /** The SIP registrar's bindings (contact address, User-Agent) of an address of record `user@realm`. */
    registrations?: { forget(aor: string): Promise<void> };
    /** The call recordings' files: deleted in the erasure's transaction (a file that cannot be deleted fails the erasure). */
    recordingStore?: { delete(key: string): Promise<boolean> };
  },
  customerId: number,
  actor: string,
  client?: pg.PoolClient,
): Promise<ErasureResult> {
  const db = client ?? (await deps.pool.connect());
  let result: ErasureResult;
  let accountIds: number[];
  let aors: string[] = [];
  let ivrCallIds: string[] = [];
  let recordingsDeleted = 0;
  try {
    await db.query('begin');
    const { rows } = await db.query<{ erased: boolean }>('select erased_at is not null as erased from customers where id = $1 for update', [customerId]);
    if (!rows[0]) throw new AppError('UNKNOWN_CUSTOMER');
    const { rows: accts } = await db.query<{ id: number; status: string }>('select id, status from accounts where customer_id = $1 for update', [customerId]);
    accountIds = accts.map((a) => a.id);
    const { rows: before } = await db.query<{ email: string | null }>('select email from customers where id = $1', [customerId]);
    await eraseMailsOf(db, customerId, before[0]?.email ?? null); // queued mails never go; sent ones keep no address or body
    // online orders: the account's own and any other order placed with the customer's address
    await db.query(
      `update orders set name = null, email = null, country = null, checkout_id = null, checkout_url = null, provider_reference = null, email_code_hash = null, updated_at = now()
        where customer_id = $1 or lower(email) = (select lower(email) from customers where id = $1)`,
      [customerId],
    );
    await db.query(
      `update customers set name = 'erased', email = null, address_line1 = null, address_line2 = null, city = null, postal_code = null,
         country = null, phone_numbers = '{}', email_verified_at = null, restriction_suspended = '{}',
         erased_at = coalesce(erased_at, now()), closed_at = coalesce(closed_at, now()), updated_at = now() where id = $1`,
      [customerId],
    );
    await db.query(
      `update accounts set status = 'closed', closed_at = coalesce(closed_at, now()), username = null, password_hash = null, callback_destination = null, updated_at = now()
        where customer_id = $1`,
      [customerId],
    );
    const { rows: devices } = await db.query<{ aor: string }>("select username || '@' || realm as aor from sip_credentials where account_id = any($1)", [
      accountIds,
    ]);
    aors = devices.map((d) => d.aor);
    // on-net calls name a subscriber in the other party's call records: the SIP username or account
    // number dialled (dialled_number, destination), the username shown as caller ID (cli), the
    // device that answered (carrier 'on-net:<username>'); those are removed, the calls kept
    const { rows: names } = await db.query<{ name: string }>(
      'select username as name from sip_credentials where account_id = any($1) union select number from accounts where id = any($1)',
      [accountIds],
    );
    const onNetNames = names.map((n) => n.name);
    if (onNetNames.length > 0)
      await db.query(
        `update cdrs set cli = case when kind = 'did' and cli = any($1) then null else cli end,
           dialled_number = case when carrier like 'on-net%' and dialled_number = any($1) then null else dialled_number end,
           destination = case when carrier like 'on-net%' and destination = any($1) then null else destination end,
           carrier = case when carrier = any($2) then 'on-net' else carrier end
         where (kind = 'did' and cli = any($1)) or (carrier like 'on-net%' and (dialled_number = any($1) or destination = any($1))) or carrier = any($2)`,
        [onNetNames, onNetNames.map((n) => `on-net:${n}`)],
      );
    for (const table of [
      'pins',
      'authorised_clis',
      'cli_requests',
      'sip_credentials',
      'dids',
      'auto_topups',
      'low_balance_alerts',
      'password_links',
      'speed_dials',
      'callback_requests',
    ]) {
      await db.query(`delete from ${table} where account_id = any($1)`, [accountIds]);
    }
    await db.query('delete from marketing_consents where customer_id = $1', [customerId]);
    // call recordings: the records, and the files before the transaction commits (a file left
    // behind fails the erasure, which can be run again); the consent's evidence goes too
    const { rows: recs } = await db.query<{ key: string }>('delete from call_recordings where account_id = any($1) returning storage_key as key', [accountIds]);
    if (recs.length > 0 && deps.recordingStore === undefined) throw new Error('call recordings to erase, but no recording store to erase them from');
    for (const r of recs) await deps.recordingStore!.delete(r.key);
    recordingsDeleted = recs.length;
    await db.query('delete from recording_consent_events where account_id = any($1)', [accountIds]);
    await db.query('update accounts set recording_consent = false, recording_consent_at = null where id = any($1)', [accountIds]);
    await db.query('delete from email_verifications where customer_id = $1', [customerId]); // a pending address and its token
    await db.query('update topups set provider_reference = null where account_id = any($1) and provider_reference is not null', [accountIds]);
    await db.query('update auto_topup_charges set provider_reference = null where account_id = any($1) and provider_reference is not null', [accountIds]);
    // a callback's leg A rang the customer's own phone (callback_requests.call_me): that number
    // identifies them, so its record keeps none; leg B (the number they called) is kept like any call
    await db.query(
      `update cdrs set dialled_number = null, destination = null where account_id = any($1) and kind = 'callback' and call_id like 'callback-%-a'`,
      [accountIds],
    );
    // Kept for their legal period, with nothing that leads back: no account, device, caller ID or
    // source address, and new random ids (call ids embed the caller's address; the ledger joined
    // on them). The ledger keeps the money, no longer naming the calls.
    const unlinked = await db.query(
      `update cdrs set call_id = 'erased-' || gen_random_uuid(), event_id = 'erased-' || gen_random_uuid(),
         account_id = null, device = null, cli = null, source_ip = null where account_id = any($1)`,
      [accountIds],
    );
    const { rows: ivr } = await db.query<{ callId: string }>('select call_id as "callId" from ivr_sessions where account_id = any($1)', [accountIds]);
    ivrCallIds = ivr.map((r) => r.callId);
    await db.query(
      `update ivr_sessions set call_id = 'erased-' || gen_random_uuid(), event_id = 'erased-' || gen_random_uuid(),
         account_id = null, cli = null, source_ip = null where account_id = any($1)`,
      [accountIds],
    );
    await db.query(
      `update ledger_entries set event_id = 'erased-' || gen_random_uuid(), reference = null
        where account_id = any($1) and kind = 'call' and event_id not like 'erased-%'`,
      [accountIds],
    );
    result = {
      customerId,
      alreadyErased: rows[0].erased,
      accountsClosed: accts.filter((a) => a.status !== 'closed').length,
      callRecordsUnlinked: unlinked.rowCount ?? 0,
      recordingsDeleted,
    };
    await new AuditLog(db).write({ actor, action: 'customer.erase', customerId, detail: { ...result } });
    await db.query('commit');
  } catch (err) {
    await db.query('rollback').catch(() => undefined);
    throw err;
  } finally {
    if (!client) (db as pg.PoolClient).release();
  }
  for (const aor of aors) await deps.registrations?.forget(aor); // the devices' live registrations go too
  for (const id of accountIds) {
    await deps.balances.syncAccount(limitsOf(await deps.accounts.get(id)));
    // settled calls' hashes name the call (and so often the caller's address): dropped now, not in 7 days
    await deps.balances.forgetCalls(id, ivrCallIds);
    await deps.endSessions?.(id);
  }
  return result;
}
