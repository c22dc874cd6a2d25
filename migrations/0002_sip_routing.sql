-- SIP routing data: carriers and their gateways, trusted carrier addresses, personal numbers
-- (DIDs), access numbers, and the destination blocklist.

create table carriers (
  id          text primary key check (id ~ '^[A-Za-z0-9_.-]{1,64}$'),
  name        text not null,
  tariff_id   text references tariffs(id),           -- buy rates, for least-cost ordering
  enabled     boolean not null default true,
  created_at  timestamptz not null default now()
);

-- Destinations a carrier terminates ('' = everything).
create table carrier_prefixes (
  carrier_id  text not null references carriers(id) on delete cascade,
  prefix      text not null check (prefix ~ '^[0-9]{0,15}$'),
  primary key (carrier_id, prefix)
);

create table gateways (
  id             bigserial primary key,
  carrier_id     text not null references carriers(id) on delete cascade,
  address        text not null check (length(address) between 1 and 255),
  port           integer not null default 5060 check (port between 1 and 65535),
  transport      text not null default 'udp' check (transport in ('udp', 'tcp')),
  priority       integer not null default 10 check (priority >= 0),
  weight         integer not null default 100 check (weight between 1 and 1000),
  tech_prefix    text not null default '' check (tech_prefix ~ '^[0-9#*]{0,16}$'),
  auth_username  text,                                -- when the carrier challenges us
  auth_password  text,
  enabled        boolean not null default true
);
create index gateways_carrier on gateways (carrier_id);

-- Addresses calls from a carrier may arrive from; anything else is not a carrier.
create table carrier_addresses (
  carrier_id  text not null references carriers(id) on delete cascade,
  network     cidr not null,
  primary key (carrier_id, network)
);

-- Personal numbers: calls to these reach the account's registered devices.
create table dids (
  number      text primary key check (number ~ '^\+[1-9][0-9]{6,14}$'),
  account_id  bigint not null references accounts(id),
  sip_username text,                                  -- which device user to ring (null: all of the account's)
  created_at  timestamptz not null default now()
);

create table access_numbers (
  number      text primary key check (number ~ '^\+[1-9][0-9]{6,14}$'),
  language    text not null default 'en',
  description text not null default ''
);

create table destination_blocklist (
  prefix      text primary key check (prefix ~ '^[0-9]{1,15}$'),
  reason      text not null,
  created_at  timestamptz not null default now()
);
