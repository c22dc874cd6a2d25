-- Online orders: a visitor orders an account, verifies the e-mail address, pays through the
-- payment provider's checkout; the provider's signed confirmation opens the account and credits it
-- once. Only SHA-256 hashes of the status token and the e-mail code are stored. No card data: the
-- provider's checkout page collects it; we keep its session id and payment reference (dropped by
-- the retention job after PAYMENT_REFERENCE_RETENTION_MONTHS).
create table orders (
  id                 text primary key check (id ~ '^ord_[A-Za-z0-9_-]{22}$'),
  status             text not null check (status in ('awaiting_email', 'awaiting_payment', 'paid', 'completed', 'failed', 'expired', 'flagged')),
  status_token_hash  text not null check (status_token_hash ~ '^[0-9a-f]{64}$'),
  name               text,
  email              text check (email is null or email ~ '^[^@\s]+@[^@\s]+$'),
  country            text check (country is null or country ~ '^[A-Z]{2}$'),
  amount             bigint not null check (amount > 0),
  currency           text not null check (currency ~ '^[A-Z]{3}$'),
  payment_method     text not null,
  provider           text not null,
  email_code_hash    text,
  email_attempts     integer not null default 0,
  email_verified_at  timestamptz,
  checkout_id        text,
  checkout_url       text,
  provider_reference text,
  customer_id        bigint references customers(id) on delete set null,
  account_id         bigint references accounts(id) on delete set null,
  problem            text,
  created_at         timestamptz not null default now(),
  updated_at         timestamptz not null default now(),
  expires_at         timestamptz not null,
  paid_at            timestamptz,
  completed_at       timestamptz
);
create index orders_expiry on orders (expires_at) where status in ('awaiting_email', 'awaiting_payment');
create index orders_created on orders (created_at);

-- Every provider event we acted on, once: the provider's event id is the idempotency key (a
-- webhook delivered twice is recorded once and acted on once).
create table payment_events (
  provider     text not null,
  event_id     text not null,
  order_id     text references orders(id) on delete set null,
  type         text not null,
  outcome      text not null,
  received_at  timestamptz not null default now(),
  primary key (provider, event_id)
);
create index payment_events_received on payment_events (received_at);
