import type pg from 'pg';
import { AppError } from '../errors.ts';

/**
 * Right of access and portability: everything held about a customer as one JSON document.
 * Secrets are represented by their existence and dates only (a PIN, password or SIP password is
 * not held in readable form, so there is nothing more to give).
 */
export const EXPORT_FORMAT = 'softswitch-personal-data/1';

export interface PersonalDataExport {
  format: string;
  generatedAt: string;
  customer: Record<string, unknown>;
  accounts: Record<string, unknown>[];
  pins: Record<string, unknown>[];
  callerIds: Record<string, unknown>[];
  callerIdRequests: Record<string, unknown>[];
  devices: Record<string, unknown>[];
  personalNumbers: Record<string, unknown>[];
  speedDials: Record<string, unknown>[];
  callbacks: Record<string, unknown>[];
  /** Call recordings of the customer's accounts (the audio itself: self-care or GET /v1/self/recordings/{id}/audio). */
  callRecordings: Record<string, unknown>[];
  /** Every change of the accounts' call-recording consent. */
  recordingConsentEvents: Record<string, unknown>[];
  autoTopUps: Record<string, unknown>[];
  autoTopUpCharges: Record<string, unknown>[];
  topUps: Record<string, unknown>[];
  /** Online orders of the customer's accounts, or placed with the customer's address. */
  orders: Record<string, unknown>[];
  ledgerEntries: Record<string, unknown>[];
  callRecords: Record<string, unknown>[];
  accessNumberSessions: Record<string, unknown>[];
  consents: Record<string, unknown>[];
  consentEvents: Record<string, unknown>[];
  auditEntries: Record<string, unknown>[];
  /** The live SIP registrations of the customer's devices (from the registrar's store in Redis). */
  registrations: Record<string, unknown>[];
}

/** Where the registrar keeps the live registrations of an address of record `user@realm`. */
export interface RegistrationSource {
  bindingsOf(
    aor: string,
  ): Promise<
    { uri: string; userAgent: string | undefined; expiresAt: number; registeredAt: number; source: { address: string; port: number; transport: string } }[]
  >;
}

const SECTIONS: [keyof PersonalDataExport, string][] = [
  [
    'accounts',
    `select id, number, kind, status, currency, tariff_id as "tariffId", max_concurrent_calls as "maxConcurrentCalls",
      daily_spend_cap as "dailySpendCap", credit_floor as "creditFloor", balance, country, username,
      password_hash is not null as "hasPassword", '+' || callback_destination as "callbackDestination",
      recording_consent as "recordingConsent", recording_consent_at as "recordingConsentAt", created_at as "createdAt", updated_at as "updatedAt", closed_at as "closedAt"
    from accounts where customer_id = $1 order by id`,
  ],
  [
    'pins',
    `select account_id as "accountId", created_at as "createdAt", rotated_at as "rotatedAt", revoked_at as "revokedAt"
    from pins where account_id = any($2) order by id`,
  ],
  [
    'callerIds',
    `select account_id as "accountId", cli, origin, verified_at as "verifiedAt", created_at as "createdAt" from authorised_clis where account_id = any($2) order by cli`,
  ],
  [
    'callerIdRequests',
    `select account_id as "accountId", cli, origin, requested_at as "requestedAt", decision, decided_at as "decidedAt" from cli_requests where account_id = any($2) order by id`,
  ],
  ['devices', `select account_id as "accountId", username, realm, created_at as "createdAt" from sip_credentials where account_id = any($2) order by id`],
  [
    'personalNumbers',
    `select account_id as "accountId", number, sip_username as "sipUsername", created_at as "createdAt" from dids where account_id = any($2) order by number`,
  ],
  [
    'speedDials',
    `select account_id as "accountId", position, name, '+' || number as number, updated_at as "updatedAt" from speed_dials where account_id = any($2) order by account_id, position`,
  ],
  [
    'callRecordings',
    `select id, account_id as "accountId", call_id as "callId", call_start as "callStart", duration_ms as "durationMs", size_bytes as "sizeBytes",
       sha256, created_at as "createdAt", '/v1/self/recordings/' || id || '/audio' as "audio"
       from call_recordings where account_id = any($2) order by created_at`,
  ],
  ['recordingConsentEvents', `select account_id as "accountId", action, actor, at from recording_consent_events where account_id = any($2) order by id`],
  [
    'callbacks',
    `select account_id as "accountId", '+' || call_me as "callMe", '+' || connect_to as "connectTo", connect_to is null as menu, origin, status, reason, created_at as "createdAt"
       from callback_requests where account_id = any($2) order by created_at`,
  ],
  [
    'autoTopUps',
    `select account_id as "accountId", enabled, threshold, amount, provider, payment_token is not null as "hasPaymentToken",
      token_set_at as "tokenSetAt", last_charge_at as "lastChargeAt", last_result as "lastResult" from auto_topups where account_id = any($2)`,
  ],
  [
    'autoTopUpCharges',
    `select account_id as "accountId", amount, result, provider_reference as "providerReference", at
    from auto_topup_charges where account_id = any($2) order by id`,
  ],
  [
    'topUps',
    `select account_id as "accountId", idempotency_key as "idempotencyKey", amount, provider, provider_reference as "providerReference", created_at as "createdAt"
    from topups where account_id = any($2) order by created_at`,
  ],
  [
    'orders',
    `select id, status, name, email, country, amount, currency, payment_method as "paymentMethod", provider, provider_reference as "providerReference",
      account_id as "accountId", created_at as "createdAt", paid_at as "paidAt", completed_at as "completedAt"
    from orders where customer_id = $1 or account_id = any($2)
       or (email is not null and lower(email) = (select lower(email) from customers where id = $1)) order by created_at`,
  ],
  [
    'ledgerEntries',
    `select account_id as "accountId", event_id as "eventId", kind, amount, balance_after as "balanceAfter", reference, reason, occurred_at as "occurredAt"
    from ledger_entries where account_id = any($2) order by occurred_at, event_id`,
  ],
  [
    'callRecords',
    `select call_id as "callId", account_id as "accountId", kind, cli, host(source_ip) as "sourceIp", access_number as "accessNumber", device,
      dialled_number as "dialledNumber", destination, start_time as "startTime", answer_time as "answerTime", end_time as "endTime",
      duration_ms as "durationMs", billed_seconds as "billedSeconds", rate_prefix as "ratePrefix", price_per_minute as "pricePerMinute",
      cost, unrecovered, currency, disposition, sip_code as "sipCode", sip_reason as "sipReason", carrier
    from cdrs where account_id = any($2) order by start_time, call_id`,
  ],
  [
    'accessNumberSessions',
    `select call_id as "callId", account_id as "accountId", access_number as "accessNumber", cli, host(source_ip) as "sourceIp",
      carrier, start_time as "startTime", end_time as "endTime", duration_ms as "durationMs", outcome, pin_attempts as "pinAttempts", calls
    from ivr_sessions where account_id = any($2) order by start_time, call_id`,
  ],
  ['consents', `select list, consented_at as "consentedAt", opted_out_at as "optedOutAt" from marketing_consents where customer_id = $1 order by list`],
  ['consentEvents', `select list, action, actor, at from consent_events where customer_id = $1 order by id`],
  [
    'auditEntries',
    `select at, actor, action, subject_account_id as "accountId", detail from audit_log
    where subject_customer_id = $1 or subject_account_id = any($2) order by id`,
  ],
];

export async function exportPersonalData(pool: pg.Pool, customerId: number, now = new Date(), registrations?: RegistrationSource): Promise<PersonalDataExport> {
  const { rows: c } = await pool.query<Record<string, unknown>>(
    `select id, name, email, address_line1 as "addressLine1", address_line2 as "addressLine2", city, postal_code as "postalCode", country,
            phone_numbers as "phoneNumbers", email_verified_at as "emailVerifiedAt", restricted_at as "restrictedAt", erased_at as "erasedAt",
            closed_at as "closedAt", created_at as "createdAt", updated_at as "updatedAt"
       from customers where id = $1`,
    [customerId],
  );
  if (!c[0]) throw new AppError('UNKNOWN_CUSTOMER');
  if (c[0].erasedAt !== null) throw new AppError('CUSTOMER_ERASED'); // nothing left to give, and nothing to tie back
  const { rows: ids } = await pool.query<{ id: number }>('select id from accounts where customer_id = $1', [customerId]);
  const accountIds = ids.map((r) => r.id);
  const out: Record<string, unknown> = { format: EXPORT_FORMAT, generatedAt: now.toISOString(), customer: c[0] };
  for (const [key, sql] of SECTIONS) {
    // every section names both parameters, so each query is typed the same way
    const { rows } = await pool.query(`with subject as (select $1::bigint as customer_id, $2::bigint[] as account_ids) ${sql}`, [customerId, accountIds]);
    out[key] = rows;
  }
  // live registrations: contact, User-Agent, where they came from, when they lapse
  const live: Record<string, unknown>[] = [];
  for (const d of out.devices as { username: string; realm: string; accountId: number }[]) {
    const device = `${d.username}@${d.realm}`;
    for (const b of (await registrations?.bindingsOf(device)) ?? []) {
      live.push({
        accountId: d.accountId,
        device,
        contact: b.uri,
        userAgent: b.userAgent ?? null,
        sourceAddress: `${b.source.address}:${b.source.port}`,
        transport: b.source.transport,
        registeredAt: new Date(b.registeredAt).toISOString(),
        expiresAt: new Date(b.expiresAt).toISOString(),
      });
    }
  }
  out.registrations = live;
  return out as unknown as PersonalDataExport;
}
