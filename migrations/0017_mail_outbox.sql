-- The mail outbox (docs/architecture.md › E-mail). A mail is rendered and written here in one
-- insert, keyed by its idempotency key (the same event never queues two mails); the outbox worker
-- claims due rows with a lease, hands them to the SMTP server and records the outcome. A mail the
-- server did not take waits (next_attempt_at, exponential backoff) and is tried again, so a mail
-- server outage delays mail and loses none. Erasure blanks recipient, subject and bodies
-- (docs/privacy.md); the row stays as a count without a person.
create table mail_outbox (
  id               bigserial primary key,
  idempotency_key  text not null unique check (length(idempotency_key) between 1 and 200),
  template         text not null check (template ~ '^[a-z_]{1,40}$'),
  customer_id      bigint references customers(id) on delete set null,
  recipient        text check (recipient is null or recipient ~ '^[^@\s<>,;]+@[^@\s<>,;]+$'),
  subject          text,
  body_text        text,
  body_html        text,
  headers          jsonb not null default '{}',
  status           text not null default 'queued' check (status in ('queued', 'sent', 'failed', 'erased')),
  attempts         integer not null default 0,
  next_attempt_at  timestamptz not null default now(),
  locked_until     timestamptz,
  last_error       text,
  message_id       text,
  created_at       timestamptz not null default now(),
  sent_at          timestamptz
);
create index mail_outbox_due on mail_outbox (next_attempt_at) where status = 'queued';
create index mail_outbox_customer on mail_outbox (customer_id) where customer_id is not null;

-- Low-balance warnings: the customer's threshold per account; `below` records that the live
-- balance is under it and the warning of this crossing was queued (crossings counts them, and
-- names each warning's mail), so one crossing mails once and rising above re-arms it.
create table low_balance_alerts (
  account_id  bigint primary key references accounts(id) on delete cascade,
  threshold   bigint not null check (threshold > 0),
  below       boolean not null default false,
  crossings   integer not null default 0,
  updated_at  timestamptz not null default now()
);
