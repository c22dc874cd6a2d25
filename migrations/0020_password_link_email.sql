-- The welcome mail's one-time link proves the mailbox it was sent to: the link keeps a hash of that
-- address, and using it verifies the customer's address when it is still the same one.
alter table password_links add column if not exists email_sha256 text;
