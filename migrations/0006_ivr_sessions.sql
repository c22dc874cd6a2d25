-- Access-number sessions: one row per call a carrier delivered to an access number, whether or not
-- it led to a call (wrong PINs, a lockout, a caller who gave up, or calls placed). The carrier bills
-- us for the whole access leg; these rows let an operator reconcile that invoice. They cost the
-- customer nothing (the calls placed in a session have their own CDRs). Written by the ledger
-- writer from the event streams, exactly once per session (the caller's Call-ID).
create table ivr_sessions (
  call_id        text primary key,
  event_id       text not null,
  account_id     bigint,                   -- the account logged in, if any
  access_number  text not null,
  cli            text,                     -- the caller ID as presented (null when withheld or absent)
  source_ip      inet,
  carrier        text,
  start_time     timestamptz not null,     -- the access leg answered
  end_time       timestamptz not null,
  duration_ms    bigint not null check (duration_ms >= 0),
  outcome        text not null check (outcome in ('calls_placed', 'pin_refused', 'locked', 'caller_hung_up', 'no_destination', 'refused', 'ended')),
  pin_attempts   integer not null check (pin_attempts >= 0),
  calls          integer not null check (calls >= 0)
);
create index ivr_sessions_start on ivr_sessions (start_time);
create index ivr_sessions_access_number on ivr_sessions (access_number, start_time);
create index ivr_sessions_account on ivr_sessions (account_id, start_time) where account_id is not null;
