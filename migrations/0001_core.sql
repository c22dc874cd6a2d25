-- Core schema: customers, accounts, credentials, tariffs, money, call records, audit.
-- Money columns are BIGINT micro-units (1e-6 of the account currency). No floating point.
-- Written without schema qualification: applied into whatever schema search_path names.

create table customers (
  id                 bigserial primary key,
  name               text not null check (length(name) between 1 and 200),
  address_line1      text,
  address_line2      text,
  city               text,
  postal_code        text,
  country            char(2),
  phone_numbers      text[] not null default '{}',
  email              text check (email is null or email ~ '^[^@\s]+@[^@\s]+$'),
  email_verified_at  timestamptz,
  restricted_at      timestamptz,          -- processing restricted at the customer's request
  erased_at          timestamptz,          -- personal data erased (row kept as a tombstone)
  closed_at          timestamptz,
  created_at         timestamptz not null default now(),
  updated_at         timestamptz not null default now()
);
create unique index customers_email_key on customers (lower(email)) where email is not null;

-- Marketing consent per e-mail list; an opt-out is a timestamp, never a deleted row.
create table marketing_consents (
  customer_id   bigint not null references customers(id) on delete cascade,
  list          text not null check (list in ('customer', 'potential_customer')),
  consented_at  timestamptz,
  opted_out_at  timestamptz,
  primary key (customer_id, list)
);

create table tariffs (
  id          text primary key check (id ~ '^[A-Za-z0-9_.-]{1,64}$'),
  name        text not null,
  currency    char(3) not null check (currency ~ '^[A-Z]{3}$'),
  created_at  timestamptz not null default now()
);

create table rates (
  id                     bigserial primary key,
  tariff_id              text not null references tariffs(id) on delete cascade,
  prefix                 text not null check (prefix ~ '^[0-9]{1,15}$'),
  description            text not null default '',
  price_per_minute       bigint not null check (price_per_minute >= 0),
  connection_fee         bigint not null default 0 check (connection_fee >= 0),
  minimum_seconds        integer not null default 0 check (minimum_seconds >= 0),
  initial_increment      integer not null check (initial_increment >= 1),
  subsequent_increment   integer not null check (subsequent_increment >= 1),
  effective_from         timestamptz not null,
  effective_until        timestamptz,
  connection_fee_policy  text not null default 'answered' check (connection_fee_policy in ('answered', 'always')),
  check (effective_until is null or effective_until > effective_from)
);
create index rates_tariff_prefix on rates (tariff_id, prefix);

create table accounts (
  id                    bigserial primary key,
  number                text not null unique check (number ~ '^[0-9]{6,16}$'),
  customer_id           bigint not null references customers(id),
  kind                  text not null check (kind in ('calling_account', 'chatpin')),
  status                text not null default 'active' check (status in ('active', 'suspended', 'closed')),
  currency              char(3) not null check (currency ~ '^[A-Z]{3}$'),
  tariff_id             text references tariffs(id),
  max_concurrent_calls  integer not null default 2 check (max_concurrent_calls >= 0),
  daily_spend_cap       bigint check (daily_spend_cap is null or daily_spend_cap >= 0),
  credit_floor          bigint not null default 0,   -- balance may not go below this (negative = credit line)
  balance               bigint not null default 0,   -- durable balance, kept by the ledger writer
  country               char(2) not null default 'GB',
  username              text unique check (username is null or username ~ '^[A-Za-z0-9_.@-]{3,64}$'),
  password_hash         text,                          -- scrypt, self-describing
  created_at            timestamptz not null default now(),
  updated_at            timestamptz not null default now(),
  closed_at             timestamptz
);
create index accounts_customer on accounts (customer_id);

-- PINs: only a keyed hash (HMAC-SHA256 with a server-side pepper); failure counters live in Redis.
create table pins (
  id           bigserial primary key,
  account_id   bigint not null references accounts(id),
  pin_hmac     bytea not null,
  key_version  smallint not null default 1,
  created_at   timestamptz not null default now(),
  rotated_at   timestamptz,
  revoked_at   timestamptz
);
create unique index pins_active_hmac on pins (pin_hmac) where revoked_at is null;
create index pins_account on pins (account_id);

-- Caller IDs allowed to call PIN-less; E.164 and unique across all accounts.
create table authorised_clis (
  cli          text primary key check (cli ~ '^\+[1-9][0-9]{6,14}$'),
  account_id   bigint not null references accounts(id),
  verified_at  timestamptz,
  created_at   timestamptz not null default now()
);
create index authorised_clis_account on authorised_clis (account_id);

-- SIP credentials: HA1 only (MD5 and SHA-256 digests), never the password.
create table sip_credentials (
  id           bigserial primary key,
  account_id   bigint not null references accounts(id),
  username     text not null check (username ~ '^[A-Za-z0-9_.-]{3,64}$'),
  realm        text not null,
  ha1_md5      text not null check (ha1_md5 ~ '^[0-9a-f]{32}$'),
  ha1_sha256   text not null check (ha1_sha256 ~ '^[0-9a-f]{64}$'),
  created_at   timestamptz not null default now(),
  unique (username, realm)
);

-- Top-ups: exactly once per idempotency key. Only the provider's reference: no card data anywhere.
create table topups (
  idempotency_key     text primary key check (length(idempotency_key) between 1 and 128),
  account_id          bigint not null references accounts(id),
  amount              bigint not null check (amount > 0),
  provider            text not null,
  provider_reference  text,
  event_id            text not null,
  created_at          timestamptz not null
);
create index topups_account on topups (account_id, created_at);

-- The ledger: one row per balance change, written by the ledger writer from the Redis stream,
-- idempotent on event_id. accounts.balance is the running sum of these amounts.
create table ledger_entries (
  event_id       text primary key,
  account_id     bigint not null references accounts(id),
  kind           text not null check (kind in ('topup', 'adjust', 'call', 'opening')),
  amount         bigint not null,          -- signed change to the balance
  balance_after  bigint not null,          -- Redis balance after the change
  reference      text,                     -- call id, top-up key or adjustment id
  reason         text,
  occurred_at    timestamptz not null,
  written_at     timestamptz not null default now()
);
create index ledger_entries_account on ledger_entries (account_id, occurred_at);

-- Call detail records, partitioned by month of start_time (retention = dropping a partition).
create table cdrs (
  call_id          text not null,
  account_id       bigint,
  event_id         text not null,
  kind             text not null check (kind in ('device', 'access_number', 'did', 'other')),
  cli              text,
  source_ip        inet,
  access_number    text,
  device           text,
  dialled_number   text,
  destination      text,                    -- normalised E.164 digits
  start_time       timestamptz not null,
  answer_time      timestamptz,
  end_time         timestamptz not null,
  duration_ms      bigint not null check (duration_ms >= 0),
  billed_seconds   integer not null check (billed_seconds >= 0),
  rate_prefix      text,
  price_per_minute bigint,
  cost             bigint not null check (cost >= 0),
  unrecovered      bigint not null default 0 check (unrecovered >= 0),
  currency         char(3),
  disposition      text not null,
  sip_code         integer,
  sip_reason       text,
  carrier          text,
  primary key (call_id, start_time)
) partition by range (start_time);
create index cdrs_account_time on cdrs (account_id, start_time);

-- Creates the monthly partition holding `at` if it does not exist. Idempotent and safe to race.
create function ensure_cdr_partition(at timestamptz) returns text language plpgsql as $$
declare
  month_start date := date_trunc('month', at at time zone 'UTC')::date;
  part text := 'cdrs_' || to_char(month_start, 'YYYY_MM');
begin
  if to_regclass(quote_ident(current_schema()) || '.' || part) is null then
    begin
      execute format('create table %I partition of cdrs for values from (%L) to (%L)',
        part, (month_start::timestamp at time zone 'UTC'), ((month_start + interval '1 month')::timestamp at time zone 'UTC'));
    exception when duplicate_table then null;
    end;
  end if;
  return part;
end $$;

-- Who accessed or changed which personal data, when.
create table audit_log (
  id                   bigserial primary key,
  at                   timestamptz not null default now(),
  actor                text not null,
  action               text not null,
  subject_customer_id  bigint,
  subject_account_id   bigint,
  detail               jsonb not null default '{}'
);
create index audit_log_subject on audit_log (subject_customer_id, at);
