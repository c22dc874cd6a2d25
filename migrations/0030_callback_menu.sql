-- The menu callback (docs/architecture.md › Callback, "menu"): the platform calls the customer
-- (leg A, call_me) and, once answered, puts them in the access-number menu already logged in as
-- the account, instead of connecting them to one number. Such a request has no connect_to; every
-- call placed from the menu is a leg B with its own CDR (call ids callback-<id>-b, -b2, -b3, …),
-- leg_b_call_id naming the latest.
alter table callback_requests alter column connect_to drop not null;
