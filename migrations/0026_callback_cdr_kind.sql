-- The two legs of a callback (docs/architecture.md › Callback) are recorded as CDRs of kind
-- 'callback': leg A (the customer's phone) and leg B (the number they are connected to), each with
-- its own call id, both linked from callback_requests.leg_a_call_id / leg_b_call_id.
alter table cdrs drop constraint cdrs_kind_check;
alter table cdrs add constraint cdrs_kind_check check (kind in ('device', 'access_number', 'did', 'other', 'callback'));
