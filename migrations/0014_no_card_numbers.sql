-- No payment card number is ever stored (docs/security.md, docs/privacy.md). The API and the CLI
-- refuse them first (src/common/card-number.ts); these checks hold the rule for every writer.
-- card_number_in() is the same test as containsCardNumber(): 13-19 digits written together or in
-- groups split by single spaces or dashes, first digit 1-6, Luhn check digit right, not a
-- telephone number's first group after a '+'.

create function luhn_valid(d text) returns boolean language plpgsql immutable strict parallel safe as $$
declare
  s int := 0;
  dbl boolean := false;
  x int;
begin
  if d !~ '^[0-9]+$' then return false; end if;
  for i in reverse length(d) .. 1 loop
    x := ascii(substr(d, i, 1)) - 48;
    if dbl then
      x := x * 2;
      if x > 9 then x := x - 9; end if;
    end if;
    s := s + x;
    dbl := not dbl;
  end loop;
  return s % 10 = 0;
end $$;

create function card_number_in(t text) returns boolean language plpgsql immutable strict parallel safe as $$
declare
  n int := length(t);
  i int := 1;
  g text;
  groups text[];
  after_plus boolean;
  digits text;
begin
  if t !~ '[0-9]{4}' and t !~ '[0-9][ -][0-9]' then return false; end if; -- no long run: the common case
  while i <= n loop
    if substr(t, i, 1) !~ '^[0-9]$' then
      i := i + 1;
      continue;
    end if;
    after_plus := i > 1 and substr(t, i - 1, 1) = '+';
    groups := '{}';
    loop
      g := substring(substr(t, i) from '^[0-9]+');
      groups := groups || g;
      i := i + length(g);
      if substr(t, i, 1) in (' ', '-') and substr(t, i + 1, 1) ~ '^[0-9]$' then
        i := i + 1;
      else
        exit;
      end if;
    end loop;
    for f in (case when after_plus then 2 else 1 end) .. coalesce(array_length(groups, 1), 0) loop
      digits := '';
      for k in f .. array_length(groups, 1) loop
        digits := digits || groups[k];
        exit when length(digits) > 19;
        if length(digits) >= 13 and substr(digits, 1, 1) between '1' and '6' and luhn_valid(digits) then
          return true;
        end if;
      end loop;
    end loop;
  end loop;
  return false;
end $$;

-- What was stored before this rule: references and tokens go, reasons and contact data keep
-- their words with the number cut out.
create function cut_card_numbers(t text) returns text language plpgsql immutable strict as $$
begin
  while card_number_in(t) loop
    t := regexp_replace(t, '[0-9][0-9 -]{11,}[0-9]', '[card number removed]');
  end loop;
  return t;
end $$;

update topups set provider_reference = null where card_number_in(provider_reference);
update auto_topup_charges set provider_reference = null where card_number_in(provider_reference);
update auto_topups set payment_token = null, enabled = false where card_number_in(payment_token);
update ledger_entries set reason = cut_card_numbers(reason) where card_number_in(reason);
update customers set name = cut_card_numbers(name) where card_number_in(name);
update customers set address_line1 = cut_card_numbers(address_line1) where card_number_in(address_line1);
update customers set address_line2 = cut_card_numbers(address_line2) where card_number_in(address_line2);
update customers set city = cut_card_numbers(city) where card_number_in(city);
update customers set postal_code = cut_card_numbers(postal_code) where card_number_in(postal_code);

alter table topups add constraint topups_no_card_number check (not card_number_in(provider_reference));
alter table auto_topup_charges add constraint auto_topup_charges_no_card_number check (not card_number_in(provider_reference));
alter table auto_topups add constraint auto_topups_no_card_number check (not card_number_in(payment_token));
alter table ledger_entries add constraint ledger_entries_no_card_number check (not card_number_in(reason));
alter table customers add constraint customers_no_card_number check (
  not card_number_in(name) and not card_number_in(address_line1) and not card_number_in(address_line2)
  and not card_number_in(city) and not card_number_in(postal_code));
