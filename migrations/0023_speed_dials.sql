-- Speed dials (docs/architecture.md › Speed dials): up to 99 per account, each a name and the
-- number it stands for, kept as E.164 digits (no '+') as the account's dialling plan reads it.
-- Dialled as <SPEED_DIAL_PREFIX><n> from a device, or * n # at the access number after login;
-- the call is rated and routed as the number. Personal data: exported, and deleted by erasure.
create table speed_dials (
  account_id  bigint not null references accounts(id),
  position    smallint not null check (position between 1 and 99),
  name        text not null check (length(name) between 1 and 40),
  number      text not null check (number ~ '^[1-9][0-9]{6,14}$'),
  updated_at  timestamptz not null default now(),
  primary key (account_id, position)
);
