-- An account's tariff is priced in the account's currency: an account cannot be put on a tariff of
-- another currency, and a tariff's currency cannot change while accounts use it. The services
-- check both first and answer with a clear error (TARIFF_CURRENCY_MISMATCH, TARIFF_CURRENCY_IN_USE);
-- this foreign key holds the rule for every writer and every race.
alter table tariffs add constraint tariffs_id_currency_key unique (id, currency);
alter table accounts add constraint accounts_tariff_currency_fkey
  foreign key (tariff_id, currency) references tariffs (id, currency) not valid;

-- Accounts already on a tariff of another currency (possible before this rule) are left as they
-- are and the constraint stays NOT VALID (it still holds every new assignment and every change);
-- it is validated at once when there are none. `select id, currency, tariff_id from accounts a
-- join tariffs t on t.id = a.tariff_id where t.currency <> a.currency` lists them.
do $$
begin
  if not exists (select 1 from accounts a join tariffs t on t.id = a.tariff_id where t.currency <> a.currency) then
    alter table accounts validate constraint accounts_tariff_currency_fkey;
  else
    raise warning 'accounts on a tariff of another currency exist; accounts_tariff_currency_fkey left NOT VALID';
  end if;
end $$;
