-- Call recording at the customer's express wish (docs/privacy.md › Call recording): per account,
-- off until the account holder turns it on in self-care. recording_consent_at is when the current
-- state was set. Every change is also appended to recording_consent_events (who, what, when) as
-- evidence; the SIP app reads the flag from the account's live-balance hash in Redis, which every
-- change updates in step (src/accounts/recording-consent.ts).
alter table accounts add column recording_consent boolean not null default false;
alter table accounts add column recording_consent_at timestamptz;

create table recording_consent_events (
  id          bigserial primary key,
  account_id  bigint not null references accounts(id) on delete cascade,
  action      text not null check (action in ('opt_in', 'opt_out')),
  actor       text not null,
  at          timestamptz not null default now()
);
create index recording_consent_events_account on recording_consent_events (account_id, at);
