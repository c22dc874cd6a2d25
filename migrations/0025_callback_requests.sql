-- Callback requests (docs/architecture.md › Callback): the platform calls the customer (leg A,
-- call_me) and, once answered, connects them to connect_to (leg B). Both numbers are E.164 digits
-- (no '+') as the account's dialling plan reads them. Requested from self-care or by an operator;
-- handed to one SIP app process through a Redis stream (src/accounts/callback-queue.ts), which
-- takes the row from 'queued' to 'placing' exactly once. Each leg's CDR is linked by its call id.
-- Personal data: exported, and deleted by erasure.
create table callback_requests (
  id            uuid primary key default gen_random_uuid(),
  account_id    bigint not null references accounts(id),
  call_me       text not null check (call_me ~ '^[1-9][0-9]{6,14}$'),
  connect_to    text not null check (connect_to ~ '^[1-9][0-9]{6,14}$'),
  origin        text not null check (origin in ('self-care', 'operator', 'caller-id')),
  status        text not null default 'queued'
                check (status in ('queued', 'placing', 'calling-a', 'calling-b', 'connected', 'completed', 'failed')),
  reason        text,
  placed_by     text,
  leg_a_call_id text,
  leg_b_call_id text,
  created_at    timestamptz not null default now(),
  updated_at    timestamptz not null default now()
);
create index callback_requests_account on callback_requests (account_id, created_at desc);
