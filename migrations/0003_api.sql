-- The account API: operator API keys, customer caller-ID requests, auto top-up, consent evidence,
-- restriction of processing.

-- Operator API keys: only a SHA-256 of the (high-entropy) secret is stored.
create table api_keys (
  id            text primary key check (id ~ '^[a-f0-9]{12}$'),
  name          text not null check (length(name) between 1 and 100),
  scopes        text[] not null check (cardinality(scopes) > 0 and scopes <@ array['read', 'billing', 'admin']::text[]),
  secret_hash   bytea not null,
  created_by    text not null,
  created_at    timestamptz not null default now(),
  revoked_at    timestamptz
);

-- Caller IDs a customer asked to use PIN-less; an operator approves (then the CLI is authorised) or rejects.
create table cli_requests (
  id            bigserial primary key,
  account_id    bigint not null references accounts(id),
  cli           text check (cli is null or cli ~ '^\+[1-9][0-9]{6,14}$'),
  requested_at  timestamptz not null default now(),
  decision      text check (decision in ('approved', 'rejected', 'withdrawn')),
  decided_at    timestamptz,
  decided_by    text
);
create unique index cli_requests_pending on cli_requests (account_id, cli) where decision is null;

-- Auto top-up against a payment provider's token. Never a card number: the check refuses digit strings.
create table auto_topups (
  account_id      bigint primary key references accounts(id),
  enabled         boolean not null,
  threshold       bigint not null check (threshold >= 0),
  amount          bigint not null check (amount > 0),
  provider        text not null,
  payment_token   text check (payment_token is null or payment_token !~ '^[0-9 -]{8,}$'),
  token_set_at    timestamptz,
  charges         bigint not null default 0,
  last_charge_at  timestamptz,
  last_result     text,
  updated_at      timestamptz not null default now()
);

-- Evidence of every consent change (marketing_consents holds the current state).
create table consent_events (
  id           bigserial primary key,
  customer_id  bigint not null references customers(id) on delete cascade,
  list         text not null check (list in ('customer', 'potential_customer')),
  action       text not null check (action in ('opt_in', 'opt_out')),
  actor        text not null,
  at           timestamptz not null default now()
);
create index consent_events_customer on consent_events (customer_id, at);

-- Restriction of processing may suspend the customer's accounts; lifting it resumes exactly those.
alter table customers add column restriction_suspended bigint[] not null default '{}';

create index authorised_clis_verified on authorised_clis (account_id) where verified_at is not null;
create index sip_credentials_account on sip_credentials (account_id);
create index audit_log_account on audit_log (subject_account_id, at);
create index topups_created on topups (created_at) where provider_reference is not null;
