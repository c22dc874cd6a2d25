/**
 * No card number is stored anywhere: the API refuses it in every free-text and reference field
 * (and a survey of the OpenAPI document keeps it so for fields added later), the money store
 * refuses it from any caller (the CLI among them), and Postgres's checks refuse it from any
 * writer, with the same test as the application's.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { containsCardNumber } from '../../src/common/card-number.ts';
import { body, expectProblem, harness, snapshot } from './api-harness.ts';
import type { Harness } from './api-harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await harness('cardnumbers');
});
afterAll(async () => {
  await h?.close();
});

const PAN = '4111111111111111';
const SPACED = '4111 1111 1111 1111';

function refusedForCard(r: Awaited<ReturnType<Harness['call']>>, field: string): void {
  expectProblem(expect, r, 400, 'CARD_NUMBER_REFUSED');
  expect(String(body(r).detail)).toContain(field);
  expect(String(body(r).detail)).toContain('card number');
}

describe('the API refuses card numbers where a reference or free text goes', () => {
  it('a top-up whose providerReference is a card number is refused and credits nothing (the reproduction)', async () => {
    const c = await h.customerWithAccount({ credit: 1_000_000 });
    const before = await snapshot(h.s);
    const r = await h.call('POST', `/v1/accounts/${c.account.id}/topups`, {
      body: { amount: 5_000_000, providerReference: PAN },
      headers: { 'idempotency-key': 'pan-1' },
    });
    refusedForCard(r, 'providerReference');
    expect(await snapshot(h.s)).toBe(before);
    expect((await h.s.store.get(c.account.id))!.balance).toBe(1_000_000);
    const ok = await h.call('POST', `/v1/accounts/${c.account.id}/topups`, {
      body: { amount: 5_000_000, providerReference: 'ch_3Nq2x' },
      headers: { 'idempotency-key': 'pan-2' },
    });
    expect(ok.statusCode).toBe(201);
  });

  it('an adjustment whose reason quotes a card number is refused', async () => {
    const c = await h.customerWithAccount({ credit: 1_000_000 });
    const r = await h.call('POST', `/v1/accounts/${c.account.id}/adjustments`, {
      body: { adjustmentId: 'adj-pan', amount: 100, reason: `refund to card ${SPACED}` },
    });
    refusedForCard(r, 'reason');
    expect(
      (await h.s.pool.query('select count(*)::int as n from ledger_entries where account_id = $1 and kind = $2', [c.account.id, 'adjust'])).rows[0].n,
    ).toBe(0);
  });

  it('a payment token that wraps a card number is refused', async () => {
    const c = await h.customerWithAccount({ username: 'pantoken_user', password: 'correct horse battery' });
    const login = await h.app.inject({ method: 'POST', url: '/v1/self/login', payload: { username: 'pantoken_user', password: 'correct horse battery' } });
    const token = body(login).token as string;
    const r = await h.app.inject({
      method: 'PUT',
      url: '/v1/self/auto-topup',
      headers: { authorization: `Bearer ${token}` },
      payload: { enabled: true, threshold: 1_000_000, amount: 5_000_000, paymentToken: `tok_test_${PAN}` },
    });
    refusedForCard(r, 'paymentToken');
    expect((await h.s.pool.query('select count(*)::int as n from auto_topups where account_id = $1', [c.account.id])).rows[0].n).toBe(0);
  });

  it("a customer's name or address carrying a card number is refused", async () => {
    const c = await h.customerWithAccount();
    for (const field of ['name', 'addressLine1', 'addressLine2', 'city']) {
      const r = await h.call('PATCH', `/v1/customers/${c.customerId}`, { body: { [field]: `x ${PAN}` } });
      refusedForCard(r, field);
    }
    const phone = await h.call('PATCH', `/v1/customers/${c.customerId}`, { body: { phoneNumbers: ['+441234567890123'.slice(0, 14)] } });
    expect(phone.statusCode).toBe(200); // telephone numbers are not card numbers
  });

  it('survey: every string field of every JSON request body is checked, or is a secret or a number in its own strict format', () => {
    // Fields exempt, and why. Anything else without `noCardNumber` fails here.
    const exempt: Record<string, string> = {
      password: 'a secret: only its hash is stored',
      newPassword: 'a secret: only its hash is stored',
      currentPassword: 'a secret: checked, never stored',
      authPassword: "a carrier's secret for its gateway",
      currentPin: 'a secret: checked, never stored',
      pin: 'a secret: only its keyed hash is stored',
      token: 'a secret (an e-mail verification code): compared by its hash, never stored',
      phoneNumbers: 'E.164, at most 15 digits after a +',
      cli: 'E.164, at most 15 digits after a +',
      prefixes: 'a dialling prefix of at most 15 digits',
      techPrefix: 'a dialling prefix of at most 16 digits, #, *',
      addresses: 'an IP address or network',
    };
    const doc = h.app.swagger() as { paths: Record<string, Record<string, { requestBody?: { content?: Record<string, { schema?: unknown }> } }>> };
    const unchecked: string[] = [];
    const walk = (schema: unknown, path: string, name: string): void => {
      if (schema === null || typeof schema !== 'object') return;
      const s = schema as Record<string, unknown>;
      const types = [s.type].flat();
      // a pattern no card number can pass (country, currency, language codes) needs no check either
      const strict = typeof s.pattern === 'string' && ![PAN, SPACED, '378282246310005'].some((n) => new RegExp(s.pattern as string).test(n));
      if (types.includes('string') && s.noCardNumber !== true && s.enum === undefined && s.format === undefined && !strict && exempt[name] === undefined)
        unchecked.push(path);
      for (const [k, v] of Object.entries((s.properties as Record<string, unknown> | undefined) ?? {})) walk(v, `${path}.${k}`, k);
      if (s.items !== undefined) walk(s.items, `${path}[]`, name);
    };
    for (const [url, ops] of Object.entries(doc.paths)) {
      if (!url.startsWith('/v1/')) continue; // the web pages' forms go through these routes (web-kit.ts)
      for (const [method, op] of Object.entries(ops)) {
        for (const [type, content] of Object.entries(op.requestBody?.content ?? {})) {
          if (type === 'text/csv') continue; // tariff uploads: see docs/security.md (rate descriptions)
          walk(content.schema, `${method.toUpperCase()} ${url}`, '');
        }
      }
    }
    expect(unchecked).toEqual([]);
  });
});

describe('below the API', () => {
  it('the money store refuses a card number from any caller (the CLI top-up among them)', async () => {
    const c = await h.customerWithAccount({ credit: 1_000_000 });
    await expect(h.s.store.topUp(c.account.id, 'cli-pan', 1_000, 'operator', PAN)).rejects.toThrow(/card number/);
    await expect(h.s.store.adjust(c.account.id, 'cli-adj', 1_000, `card ${SPACED}`)).rejects.toThrow(/card number/);
    await expect(h.s.store.topUp(c.account.id, `key-${PAN}`, 1_000, 'operator', 'ref')).rejects.toThrow(/card number/);
    expect((await h.s.store.get(c.account.id))!.balance).toBe(1_000_000);
  });

  it('Postgres refuses a card number from any writer', async () => {
    const c = await h.customerWithAccount();
    const refused = (sql: string, params: unknown[]) => expect(h.s.pool.query(sql, params)).rejects.toThrow(/no_card_number/);
    await refused(
      'insert into topups (idempotency_key, account_id, amount, provider, provider_reference, event_id, created_at) values ($1, $2, 1, $3, $4, $5, now())',
      ['sql-pan', c.account.id, 'x', `ref ${SPACED}`, 'e-sql-pan'],
    );
    await refused(
      "insert into ledger_entries (event_id, account_id, kind, amount, balance_after, reason, occurred_at) values ('sql-pan-l', $1, 'adjust', 1, 1, $2, now())",
      [c.account.id, `card ${PAN}`],
    );
    await refused('update customers set address_line2 = $2 where id = $1', [c.customerId, PAN]);
    await refused("insert into auto_topups (account_id, enabled, threshold, amount, provider, payment_token) values ($1, true, 1, 1, 'test', $2)", [
      c.account.id,
      `tok_test_${PAN}`,
    ]);
  });

  it("property: Postgres's card_number_in() agrees with the application's test", async () => {
    const digitsText = fc.string({ unit: fc.constantFrom('0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ' ', '-', '+', 'a'), maxLength: 40 });
    const samples = fc.sample(digitsText, { numRuns: 600, seed: 4242 });
    // numbers that are cards, so both answers are exercised
    samples.push(PAN, SPACED, '+44 4111 1111 1111 1111', '378282246310005', '+4111111111111111', '4111-1111-1111-1112', '1'.repeat(25));
    const { rows } = await h.s.pool.query<{ t: string; found: boolean }>('select t, card_number_in(t) as found from unnest($1::text[]) as t', [samples]);
    const disagreements = rows.filter((r) => r.found !== containsCardNumber(r.t)).map((r) => r.t);
    expect(disagreements).toEqual([]);
    expect(rows.filter((r) => r.found).length).toBeGreaterThan(3);
  });
});
