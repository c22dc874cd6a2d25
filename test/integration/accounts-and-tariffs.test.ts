import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountService } from '../../src/accounts/account-service.ts';
import { TariffRepository } from '../../src/billing/tariff-repository.ts';
import { migrate } from '../../src/db/migrate.ts';
import { AppError } from '../../src/errors.ts';
import { accountsOf, fundedAccount } from '../support/fixtures.ts';
import { setupServices } from '../support/services.ts';
import type { TestServices } from '../support/services.ts';

let s: TestServices;
beforeAll(async () => {
  s = await setupServices('accounts');
});
afterAll(async () => {
  await s.teardown();
});

const HEADER =
  'prefix,description,price_per_minute,connection_fee,minimum_seconds,initial_increment,subsequent_increment,effective_from,effective_until,connection_fee_policy';

async function snapshot() {
  const { rows } = await s.pool.query(`select (select count(*) from pins)::int as pins, (select count(*) from authorised_clis)::int as clis,
    (select count(*) from rates)::int as rates, (select count(*) from accounts)::int as accounts, (select count(*) from customers)::int as customers`);
  return rows[0];
}

describe('accounts: bad input is refused with a clear error and changes nothing', () => {
  it('a PIN shorter than 6 digits', async () => {
    const a = await fundedAccount(s, 0);
    const before = await snapshot();
    await expect(accountsOf(s).issuePin(a.id, '12345')).rejects.toMatchObject({ code: 'INVALID_PIN' });
    expect(await snapshot()).toEqual(before);
  });

  it('an unknown account', async () => {
    const before = await snapshot();
    await expect(accountsOf(s).issuePin(424242, '583920')).rejects.toMatchObject({ code: 'UNKNOWN_ACCOUNT' });
    await expect(accountsOf(s).addCli(424242, '+447700900999')).rejects.toMatchObject({ code: 'UNKNOWN_ACCOUNT' });
    expect(await snapshot()).toEqual(before);
  });

  it('a caller ID that is not E.164, or registered to another account', async () => {
    const a = await fundedAccount(s, 0);
    const b = await fundedAccount(s, 0);
    await accountsOf(s).addCli(a.id, '+447700900111');
    const before = await snapshot();
    await expect(accountsOf(s).addCli(b.id, '07700900111')).rejects.toMatchObject({ code: 'INVALID_CLI' });
    await expect(accountsOf(s).addCli(b.id, '+447700900111')).rejects.toMatchObject({ code: 'CLI_TAKEN' });
    expect(await snapshot()).toEqual(before);
    expect(await accountsOf(s).findAccountByCli('+447700900111')).toBe(a.id);
  });

  it('an account with an unknown tariff, a bad currency or a non-integer limit', async () => {
    const svc = accountsOf(s);
    const customerId = await svc.createCustomer({ name: 'Bad Input' });
    const before = await snapshot();
    await expect(svc.createAccount({ customerId, currency: 'GBP', tariffId: 'nope' })).rejects.toMatchObject({ code: 'UNKNOWN_TARIFF' });
    await expect(svc.createAccount({ customerId, currency: 'gbp' })).rejects.toBeInstanceOf(AppError);
    await expect(svc.createAccount({ customerId, currency: 'GBP', creditFloor: 0.5 })).rejects.toThrow(RangeError);
    await expect(svc.createAccount({ customerId, currency: 'GBP', country: 'gb' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(await snapshot()).toEqual(before);
  });

  it("an account's country (its dialling plan) defaults to the configured one", async () => {
    const svc = new AccountService(s.pool, s.store, 'p'.repeat(32), { defaultCountry: 'ES' });
    const customerId = await svc.createCustomer({ name: 'Country Default' });
    expect((await svc.createAccount({ customerId, currency: 'EUR' })).country).toBe('ES');
    expect((await svc.createAccount({ customerId, currency: 'EUR', country: 'IT' })).country).toBe('IT');
  });
});

describe('PINs', () => {
  it('are found by their keyed hash, never stored in clear, and rotation revokes the old one', async () => {
    const a = await fundedAccount(s, 0);
    const svc = accountsOf(s);
    const pin = await svc.issuePin(a.id, '73920184');
    expect(await svc.findAccountByPin(pin)).toBe(a.id);
    const { rows } = await s.pool.query(`select encode(pin_hmac, 'hex') as h from pins where account_id = $1`, [a.id]);
    expect(JSON.stringify(rows)).not.toContain('73920184');
    const next = await svc.issuePin(a.id);
    expect(next).toMatch(/^[1-9][0-9]{11}$/);
    expect(await svc.findAccountByPin('73920184')).toBeUndefined();
    expect(await svc.findAccountByPin(next)).toBe(a.id);
  });

  it('a PIN in use elsewhere is refused without saying whose', async () => {
    const a = await fundedAccount(s, 0);
    const b = await fundedAccount(s, 0);
    await accountsOf(s).issuePin(a.id, '55501234');
    await expect(accountsOf(s).issuePin(b.id, '55501234')).rejects.toMatchObject({ code: 'PIN_TAKEN', message: 'that PIN is not available' });
  });
});

describe('tariffs', () => {
  it('imports all or nothing, names line and column, and exports what it imported', async () => {
    const repo = new TariffRepository(s.pool);
    const good = `${HEADER}\n44,UK,0.015,0,0,60,60,2026-01-01T00:00:00.000Z,,answered\n447,UK mobile,0.05,0.01,0,60,1,2026-01-01T00:00:00.000Z,,answered\n`;
    expect(await repo.importCsv('t1', 'Tariff 1', 'GBP', good)).toEqual({ imported: 2 });
    const before = await snapshot();
    const bad = `${HEADER}\n44,UK,0.015,0,0,60,60,2026-01-01T00:00:00.000Z,,answered\n33,FR,-1,0,0,60,60,2026-01-01T00:00:00.000Z,,answered\n`;
    const r = await repo.importCsv('t1', 'Tariff 1', 'GBP', bad);
    expect(r).toMatchObject({ errors: [{ line: 3, column: 'price_per_minute' }] });
    expect(await snapshot()).toEqual(before);
    const csv = await repo.exportCsv('t1');
    expect(await repo.importCsv('t2', 'Copy', 'GBP', csv)).toEqual({ imported: 2 });
    expect(await repo.exportCsv('t2')).toBe(csv);
    const tariff = await repo.load('t1');
    expect(tariff.lookup('447700900123', new Date('2026-06-01'))?.pricePerMinute).toBe(50_000);
    expect(tariff.lookup('33123456789', new Date('2026-06-01'))).toBeUndefined();
    await expect(repo.exportCsv('nope')).rejects.toMatchObject({ code: 'UNKNOWN_TARIFF' });
  });
});

describe('tariff limits', () => {
  it('a rate whose cost for a call of MAX_CALL_SECONDS cannot be computed is refused, with its row and why; nothing is imported', async () => {
    const repo = new TariffRepository(s.pool, 30_000, { maxCallSeconds: 14_400 });
    const before = await snapshot();
    const r = await repo.importCsv(
      'limits',
      'Limits',
      'GBP',
      [
        HEADER,
        '44,UK,0.015,0,0,60,60,2026-01-01T00:00:00.000Z,,answered',
        '999,Never ratable,9007199254.740991,0,0,1,1,2026-01-01T00:00:00.000Z,,answered',
        '998,Fee beyond the largest amount,0.6,1000000000,0,1,1,2026-01-01T00:00:00.000Z,,answered',
        '997,Minimum beyond reason,0.6,0,9007199254740991,1,1,2026-01-01T00:00:00.000Z,,answered',
        '996,Dear,1000000,0,0,1,1,2026-01-01T00:00:00.000Z,,answered',
      ].join('\n'),
    );
    expect(r).toEqual({
      errors: [
        {
          line: 3,
          column: 'price_per_minute',
          message: 'a call of 14400 s (MAX_CALL_SECONDS) cannot be rated: fee 0 + 9007199254.740991/min for 14400 billed seconds overflows the integer range',
        },
        {
          line: 4,
          column: 'price_per_minute',
          message:
            'a call of 14400 s (MAX_CALL_SECONDS) would cost 1000000144, more than the largest amount handled (1000000000): fee 1000000000 + 0.6/min for 14400 billed seconds',
        },
        {
          line: 5,
          column: 'price_per_minute',
          message: 'a call of 14400 s (MAX_CALL_SECONDS) cannot be rated: fee 0 + 0.6/min for 9007199254740991 billed seconds overflows the integer range',
        },
        {
          line: 6,
          column: 'price_per_minute',
          message: 'a call of 14400 s (MAX_CALL_SECONDS) cannot be rated: fee 0 + 1000000/min for 14400 billed seconds overflows the integer range',
        },
      ],
    });
    expect(await snapshot()).toEqual(before);
    // a shorter maximum call makes the dear rate ratable
    expect(
      await new TariffRepository(s.pool, 30_000, { maxCallSeconds: 3600 }).importCsv(
        'limits',
        'Limits',
        'GBP',
        [HEADER, '996,Dear,1000000,0,0,1,1,2026-01-01T00:00:00.000Z,,answered'].join('\n'),
      ),
    ).toEqual({ imported: 1 });
  });
});

describe('tariff currency', () => {
  const row = '44,UK,0.015,0,0,60,60,2026-01-01T00:00:00.000Z,,answered';
  it('a GBP account cannot be given a EUR tariff, at creation or later, and nothing changes', async () => {
    const repo = new TariffRepository(s.pool);
    await repo.importCsv('cur-eur', 'Euro', 'EUR', `${HEADER}\n${row}\n`);
    await repo.importCsv('cur-gbp', 'Sterling', 'GBP', `${HEADER}\n${row}\n`);
    const a = await fundedAccount(s, 0);
    const before = await snapshot();
    await expect(accountsOf(s).updateAccount(a.id, { tariffId: 'cur-eur' })).rejects.toMatchObject({ code: 'TARIFF_CURRENCY_MISMATCH' });
    await expect(accountsOf(s).createAccount({ customerId: a.customerId, currency: 'GBP', tariffId: 'cur-eur' })).rejects.toMatchObject({
      code: 'TARIFF_CURRENCY_MISMATCH',
    });
    expect(await snapshot()).toEqual(before);
    expect((await accountsOf(s).updateAccount(a.id, { tariffId: 'cur-gbp' })).tariffId).toBe('cur-gbp');
    // the database holds the rule too, whoever writes
    await expect(s.pool.query(`update accounts set tariff_id = 'cur-eur' where id = $1`, [a.id])).rejects.toMatchObject({ code: '23503' });
  });

  it('re-importing a tariff in another currency is refused while accounts use it, allowed once none does', async () => {
    const repo = new TariffRepository(s.pool);
    await repo.importCsv('cur-used', 'Used', 'GBP', `${HEADER}\n${row}\n`);
    const a = await fundedAccount(s, 0, { tariffId: 'cur-used' });
    const before = await snapshot();
    const err = await repo
      .importCsv('cur-used', 'Used', 'EUR', `${HEADER}\n${row}\n33,FR,0.02,0,0,60,60,2026-01-01T00:00:00.000Z,,answered\n`)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({
      code: 'TARIFF_CURRENCY_IN_USE',
      message: 'tariff cur-used is priced in GBP and 1 account uses it; it cannot be re-imported in EUR',
    });
    expect(await snapshot()).toEqual(before);
    expect((await s.pool.query(`select currency from tariffs where id = 'cur-used'`)).rows).toEqual([{ currency: 'GBP' }]);
    expect(await repo.importCsv('cur-used', 'Used', 'GBP', `${HEADER}\n${row}\n`)).toEqual({ imported: 1 }); // same currency: fine
    await accountsOf(s).updateAccount(a.id, { tariffId: null });
    expect(await repo.importCsv('cur-used', 'Used', 'EUR', `${HEADER}\n${row}\n`)).toEqual({ imported: 1 });
  });
});

describe('migrations', () => {
  it('are idempotent and create CDR partitions on demand', async () => {
    expect(await migrate(s.pool, s.schema)).toEqual([]);
    const { rows } = await s.pool.query(`select ensure_cdr_partition('2027-02-15T10:00:00Z') as p1, ensure_cdr_partition('2027-02-28T23:59:59Z') as p2`);
    expect(rows[0]).toEqual({ p1: 'cdrs_2027_02', p2: 'cdrs_2027_02' });
    const { rows: parts } = await s.pool.query(
      `select count(*)::int as n from pg_inherits i join pg_class c on c.oid = i.inhrelid
      join pg_namespace n on n.oid = c.relnamespace where n.nspname = $1 and c.relname = 'cdrs_2027_02'`,
      [s.schema],
    );
    expect(parts[0].n).toBe(1);
  });
});
