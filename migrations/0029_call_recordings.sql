-- Call recordings (docs/privacy.md › Call recording): one row per recorded call of an account that
-- consented (migration 0028), written by the SIP app when the recording is closed. The file is in
-- the recording store under storage_key (RECORDINGS_DIR); the row is linked to the call's CDR by
-- its primary key (call_id, call_start = cdrs.start_time). Deleted with the file by the retention
-- job (RECORDING_RETENTION_DAYS) and by erasure; listed in the customer's data export.
create table call_recordings (
  id           uuid primary key default gen_random_uuid(),
  call_id      text not null,
  call_start   timestamptz not null,
  account_id   bigint not null references accounts(id),
  storage_key  text not null unique,
  size_bytes   bigint not null check (size_bytes >= 0),
  duration_ms  bigint not null check (duration_ms >= 0),
  sha256       text not null check (sha256 ~ '^[0-9a-f]{64}$'),
  created_at   timestamptz not null default now()
);
create index call_recordings_account on call_recordings (account_id, created_at desc);
create index call_recordings_call on call_recordings (call_id);
create index call_recordings_created on call_recordings (created_at);

-- Listening to customers' recordings is an operator scope of its own (admin keys hold every scope).
alter table api_keys drop constraint api_keys_scopes_check;
alter table api_keys add constraint api_keys_scopes_check
  check (cardinality(scopes) > 0 and scopes <@ array['read', 'billing', 'admin', 'recordings']::text[]);
