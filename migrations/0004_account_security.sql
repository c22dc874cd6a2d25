-- Account security: where a caller ID came from (so a PIN change can revoke the ones registered
-- at the IVR), and every auto top-up charge attempt with its result.

alter table cli_requests add column origin text not null default 'self_care' check (origin in ('self_care', 'ivr'));
alter table authorised_clis add column origin text not null default 'operator' check (origin in ('operator', 'self_care', 'ivr'));

-- One row per charge attempt, keyed by the idempotency key sent to the provider.
create table auto_topup_charges (
  id                  bigserial primary key,
  account_id          bigint not null references accounts(id),
  attempt_key         text not null unique,
  amount              bigint not null check (amount > 0),
  result              text not null check (result in ('charged', 'declined', 'invalid_token', 'unavailable', 'credit_failed')),
  provider_reference  text,
  at                  timestamptz not null default now()
);
create index auto_topup_charges_account on auto_topup_charges (account_id, at);
