-- Vouchers (docs/architecture.md › Vouchers, docs/security.md › voucher guessing). An operator
-- creates a batch; its codes are shown once, at creation, and only their keyed hash (HMAC-SHA256
-- with a server-side key) is stored, so a database copy redeems nothing. A code is redeemed at
-- most once: the single UPDATE that marks it redeemed is the only way to credit it.
create table voucher_batches (
  id           bigserial primary key,
  name         text not null check (length(name) between 1 and 100),
  count        integer not null check (count between 1 and 100000),
  value        bigint not null check (value > 0),
  currency     char(3) not null check (currency ~ '^[A-Z]{3}$'),
  expires_at   timestamptz not null,
  disabled_at  timestamptz,
  created_by   text not null,
  created_at   timestamptz not null default now()
);

create table vouchers (
  code_hash            text primary key check (code_hash ~ '^[0-9a-f]{64}$'),
  batch_id             bigint not null references voucher_batches(id),
  redeemed_at          timestamptz,
  redeemed_by_account  bigint references accounts(id),
  check ((redeemed_at is null) = (redeemed_by_account is null))
);
create index vouchers_batch on vouchers (batch_id);
create index vouchers_account on vouchers (redeemed_by_account) where redeemed_by_account is not null;
