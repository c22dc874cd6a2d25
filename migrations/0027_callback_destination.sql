-- The number a call from a registered caller ID to a callback access number is connected to
-- (docs/architecture.md › Callback): E.164 digits without '+', as the account's dialling plan read
-- it when the customer set it; null: no callback by call.
alter table accounts add column callback_destination text check (callback_destination ~ '^[1-9][0-9]{6,14}$');
