-- E-mail verification (docs/privacy.md). A customer's new address waits here until it is
-- confirmed with a single-use token that expires; only the token's SHA-256 is stored. One pending
-- address per customer: a new request replaces the old one (and its token). Erasure deletes the row.
create table email_verifications (
  customer_id  bigint primary key references customers(id) on delete cascade,
  email        text not null,
  token_hash   text not null unique,
  requested_by text not null,
  created_at   timestamptz not null default now(),
  expires_at   timestamptz not null
);
