-- Erasure leaves no path back (docs/privacy.md). Customers erased before this rule kept call
-- records whose caller ID, source address and ids could be joined back through the ledger
-- (ledger_entries.reference = cdrs.call_id, event ids embedding account and call). This function
-- does for them what erasure now does at once; it is run here, and may be run again (idempotent).
create function unlink_erased_calls() returns integer language plpgsql as $$
declare
  n integer;
begin
  with legacy as (
    select l.event_id, l.reference from ledger_entries l
      join accounts a on a.id = l.account_id
      join customers c on c.id = a.customer_id
     where c.erased_at is not null and l.kind = 'call' and l.event_id not like 'erased-%'
  ), scrubbed as (
    update cdrs d set call_id = 'erased-' || gen_random_uuid(), event_id = 'erased-' || gen_random_uuid(),
                      account_id = null, device = null, cli = null, source_ip = null
      from legacy where d.event_id = legacy.event_id or d.call_id = legacy.reference
    returning 1
  )
  select count(*) into n from scrubbed;
  update ledger_entries l set event_id = 'erased-' || gen_random_uuid(), reference = null
    from accounts a join customers c on c.id = a.customer_id
   where a.id = l.account_id and c.erased_at is not null and l.kind = 'call' and l.event_id not like 'erased-%';
  return n;
end $$;

select unlink_erased_calls();
