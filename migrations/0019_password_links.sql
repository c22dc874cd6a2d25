-- One-time links to choose a self-care password (the welcome mail's link: a mail never carries a
-- password). Only the token's SHA-256 is stored; a link works once and until it expires.
create table password_links (
  token_hash  text primary key check (token_hash ~ '^[0-9a-f]{64}$'),
  account_id  bigint not null references accounts(id) on delete cascade,
  expires_at  timestamptz not null,
  used_at     timestamptz,
  created_at  timestamptz not null default now()
);
create index password_links_account on password_links (account_id);
