/**
 * Vouchers: batches created once with codes shown once and stored hashed; redemption credits
 * exactly once (parallel redemptions over real HTTP: one wins); unknown, used, expired, withdrawn
 * and other-currency codes get the very same answer; attempts are throttled per account and per
 * address; a code never looks like a card number.
 */
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newVoucherCode, normaliseVoucherCode } from '../../src/accounts/vouchers.ts';
import { containsCardNumber, luhnValid } from '../../src/common/card-number.ts';
import { body, expectProblem, harness, selfCareSession } from './api-harness.ts';
import type { Harness } from './api-harness.ts';

let h: Harness;
let base: string;
beforeAll(async () => {
  h = await harness('apivoucher', {
    vouchers: { key: 'test-voucher-key-0123456789-abcdefghijklmnop', maxPerAccount: 10, maxPerSource: 1000, windowSeconds: 3600 },
  });
  await h.app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await h?.close();
});

const inAMonth = () => new Date(Date.now() + 30 * 86400_000).toISOString();

async function createBatch(o: { count?: number; value?: number; currency?: string; name?: string } = {}) {
  const r = await h.call('POST', '/v1/voucher-batches', {
    key: h.keys.billing,
    body: { name: o.name ?? 'Shop batch', count: o.count ?? 3, value: o.value ?? 5_000_000, currency: o.currency ?? 'GBP', expiresAt: inAMonth() },
  });
  expect(r.statusCode).toBe(201);
  expect(r.headers['content-type']).toBe('text/csv; charset=utf-8');
  const [header, ...lines] = r.body.trim().split('\n');
  expect(header).toBe('code,value_micros,currency,expires_at,batch');
  const batchId = Number(String(r.headers.location).split('/').pop());
  return { batchId, codes: lines.map((l) => l.split(',')[0]!) };
}

let ipN = 0;
async function session(credit = 0) {
  const c = await h.customerWithAccount({ credit });
  await h.s.pool.query('update customers set email_verified_at = now() where id = $1', [c.customerId]); // receipts go to verified addresses
  const r = await h.app.inject({ method: 'POST', url: '/v1/self/login', payload: { username: c.account.username, password: 'correct horse battery' } });
  return { ...c, token: body(r).token as string, ip: `198.51.100.${++ipN}` };
}

function redeem(me: { token: string; ip: string }, code: string) {
  return h.app.inject({ method: 'POST', url: '/v1/self/vouchers', headers: { authorization: `Bearer ${me.token}` }, payload: { code }, remoteAddress: me.ip });
}

describe('voucher codes', () => {
  it('are 20 digits, start with 9, carry a Luhn check digit, and never read as a card number (even written in groups)', () => {
    for (let i = 0; i < 2000; i++) {
      const c = newVoucherCode();
      expect(c).toMatch(/^9[0-9]{19}$/);
      expect(luhnValid(c)).toBe(true);
      expect(containsCardNumber(c)).toBe(false);
      expect(normaliseVoucherCode(c.replace(/(\d{4})(?=\d)/g, '$1 '))).toBe(c);
    }
    const c = newVoucherCode();
    const typo = c.slice(0, 10) + ((Number(c[10]) + 1) % 10) + c.slice(11);
    expect(normaliseVoucherCode(typo)).toBeUndefined();
  });
});

describe('voucher batches and redemption', () => {
  it('a batch is shown once as CSV and stored only as keyed hashes; operators list and withdraw it', async () => {
    const { batchId, codes } = await createBatch({ count: 5 });
    expect(codes).toHaveLength(5);
    expect(new Set(codes).size).toBe(5);
    for (const c of codes) expect(normaliseVoucherCode(c)).toBe(c);
    // no table holds a code in clear
    const dump = await h.s.pool.query("select string_agg(t::text, ' ') as all from (select * from vouchers union all select null, null, null, null) t");
    const batches = await h.s.pool.query('select * from voucher_batches');
    const audit = await h.s.pool.query('select detail::text from audit_log');
    for (const c of codes) {
      expect(String(dump.rows[0].all)).not.toContain(c);
      expect(JSON.stringify(batches.rows)).not.toContain(c);
      expect(JSON.stringify(audit.rows)).not.toContain(c);
    }
    const list = body(await h.call('GET', '/v1/voucher-batches', { key: h.keys.read }));
    expect(list.items).toContainEqual(expect.objectContaining({ id: batchId, count: 5, value: 5_000_000, currency: 'GBP', redeemed: 0, disabledAt: null }));
    expect(JSON.stringify(list)).not.toContain(codes[0]);
    expectProblem(expect, await h.call('POST', '/v1/voucher-batches', { key: h.keys.read, body: {} }), 403, 'FORBIDDEN');
    expectProblem(
      expect,
      await h.call('POST', '/v1/voucher-batches', { key: h.keys.billing, body: { name: 'x', count: 0, value: 1, currency: 'GBP', expiresAt: inAMonth() } }),
      400,
      'VALIDATION_FAILED',
    );
    expectProblem(
      expect,
      await h.call('POST', '/v1/voucher-batches', {
        key: h.keys.billing,
        body: { name: 'x', count: 1, value: 1, currency: 'GBP', expiresAt: new Date(Date.now() - 1000).toISOString() },
      }),
      400,
      'VALIDATION_FAILED',
    );
  });

  it('a redemption credits the account once (a top-up: balance event and ledger), is in the audit log, and mails a receipt', async () => {
    const { batchId, codes } = await createBatch({ value: 7_500_000 });
    const me = await session(1_000_000);
    const r = await redeem(me, codes[0]!.replace(/(\d{5})(?=\d)/g, '$1-'));
    expect(r.statusCode).toBe(200);
    expect(body(r)).toEqual({ amount: 7_500_000, currency: 'GBP', balanceAfter: 8_500_000 });
    expect((await h.s.store.get(me.account.id))?.balance).toBe(8_500_000);
    expectProblem(expect, await redeem(me, codes[0]!), 422, 'VOUCHER_NOT_REDEEMABLE');
    expect((await h.s.store.get(me.account.id))?.balance).toBe(8_500_000);
    const audit = await h.s.pool.query("select action, detail from audit_log where subject_account_id = $1 and action like 'voucher.%' order by id", [
      me.account.id,
    ]);
    expect(audit.rows).toEqual([
      { action: 'voucher.redeem', detail: { batchId, amount: 7_500_000 } },
      { action: 'voucher.refused', detail: {} },
    ]);
    const mails = await h.s.pool.query("select subject from mail_outbox where customer_id = $1 and template = 'topup_receipt'", [me.customerId]);
    expect(mails.rows).toEqual([{ subject: `Receipt: 7.50 GBP added to account ${me.account.number}` }]);
    expect((await h.ctx.vouchers.batch(batchId)).redeemed).toBe(1);
  });

  it('unknown, used, expired, withdrawn and other-currency codes get the very same answer, and credit nothing', async () => {
    const used = await createBatch({ count: 1 });
    const expired = await createBatch({ count: 1 });
    await h.s.pool.query("update voucher_batches set expires_at = now() - interval '1 second' where id = $1", [expired.batchId]);
    const withdrawn = await createBatch({ count: 1 });
    expect(body(await h.call('POST', `/v1/voucher-batches/${withdrawn.batchId}/disable`, { key: h.keys.billing })).disabledAt).toEqual(expect.any(String));
    const euro = await createBatch({ count: 1, currency: 'EUR' });
    const other = await session();
    expect((await redeem(other, used.codes[0]!)).statusCode).toBe(200);
    const me = await session(2_000_000);
    let unknown = newVoucherCode();
    while ([used, expired, withdrawn, euro].some((b) => b.codes.includes(unknown))) unknown = newVoucherCode();
    const answers = [];
    for (const code of [unknown, used.codes[0]!, expired.codes[0]!, withdrawn.codes[0]!, euro.codes[0]!]) {
      const r = await redeem(me, code);
      answers.push({ status: r.statusCode, type: r.headers['content-type'], body: r.body });
    }
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
    expectProblem(expect, await redeem(me, unknown), 422, 'VOUCHER_NOT_REDEEMABLE');
    expect((await h.s.store.get(me.account.id))?.balance).toBe(2_000_000);
    // a typo is told apart: it says nothing about any code
    expectProblem(expect, await redeem(me, unknown.slice(0, 19) + ((Number(unknown[19]) + 1) % 10)), 400, 'INVALID_VOUCHER_CODE');
    expectProblem(expect, await redeem(me, '4111111111111111'), 400, 'VALIDATION_FAILED');
  });

  it('attempts are throttled per account, before the code is looked up (a good code too), and per address', async () => {
    const { codes } = await createBatch({ count: 1 });
    const me = await session();
    for (let i = 0; i < 10; i++) expect((await redeem(me, newVoucherCode())).statusCode).toBe(422);
    expectProblem(expect, await redeem(me, codes[0]!), 429, 'VOUCHER_THROTTLED');
    expect((await h.s.store.get(me.account.id))?.balance).toBe(0);
    // per address: many accounts from one address share its budget
    const h2 = await harness('apivouchersrc', {
      vouchers: { key: 'test-voucher-key-0123456789-abcdefghijklmnop', maxPerAccount: 100, maxPerSource: 4, windowSeconds: 3600 },
    });
    try {
      const tries = [];
      for (let i = 0; i < 3; i++) {
        const c = await h2.customerWithAccount();
        const t = body(
          await h2.app.inject({ method: 'POST', url: '/v1/self/login', payload: { username: c.account.username, password: 'correct horse battery' } }),
        ).token as string;
        for (let j = 0; j < 2; j++)
          tries.push(
            (
              await h2.app.inject({
                method: 'POST',
                url: '/v1/self/vouchers',
                headers: { authorization: `Bearer ${t}` },
                payload: { code: newVoucherCode() },
                remoteAddress: '192.0.2.77',
              })
            ).statusCode,
          );
      }
      expect(tries).toEqual([422, 422, 422, 422, 429, 429]);
    } finally {
      await h2.close();
    }
  });

  it('parallel redemptions of one code over real HTTP: exactly one wins, and only its account is credited', async () => {
    const { codes } = await createBatch({ count: 1, value: 3_000_000 });
    const people = [];
    for (let i = 0; i < 12; i++) people.push(await session(0));
    const results = await Promise.all(
      people.map((p) =>
        fetch(`${base}/v1/self/vouchers`, {
          method: 'POST',
          headers: { authorization: `Bearer ${p.token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ code: codes[0] }),
        }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> })),
      ),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, ...Array<number>(11).fill(422)]);
    const balances = await Promise.all(people.map(async (p) => (await h.s.store.get(p.account.id))?.balance));
    expect(balances.filter((b) => b === 3_000_000)).toHaveLength(1);
    expect(balances.filter((b) => b === 0)).toHaveLength(11);
    const { rows } = await h.s.pool.query(
      'select count(*)::int as n from vouchers where redeemed_at is not null and code_hash in (select code_hash from vouchers v join voucher_batches b on b.id = v.batch_id where b.value = 3000000)',
    );
    expect(rows[0].n).toBe(1);
  });
});

describe('the self-care page', () => {
  const form = 'application/x-www-form-urlencoded';
  it('redeems a code from the top-ups page (CSRF-protected form) and tells refusals and typos apart from success', async () => {
    const { codes } = await createBatch({ count: 1, value: 2_000_000 });
    const c = await h.customerWithAccount({ username: 'webvoucher' });
    const cookie = await selfCareSession(h, 'webvoucher');
    const page = await h.app.inject({ method: 'GET', url: '/my/top-ups', headers: { cookie } });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('action="/my/voucher"');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!;
    const post = (code: string, token = csrf) =>
      h.app.inject({
        method: 'POST',
        url: '/my/voucher',
        headers: { 'content-type': form, cookie },
        payload: `_csrf=${token}&code=${encodeURIComponent(code)}`,
      });
    const forged = await post(codes[0]!, 'forged');
    expect(forged.statusCode).toBe(403);
    expect((await h.s.store.get(c.account.id))?.balance).toBe(0);
    expect((await post(codes[0]!.replace(/(\d{4})(?=\d)/g, '$1 '))).headers.location).toBe('/my/top-ups?m=topups.voucherOk');
    expect((await h.s.store.get(c.account.id))?.balance).toBe(2_000_000);
    expect((await post(codes[0]!)).headers.location).toBe('/my/top-ups?e=topups.voucherRefused');
    expect((await post('9123')).headers.location).toBe('/my/top-ups?e=topups.voucherTypo');
    const shown = await h.app.inject({ method: 'GET', url: '/my/top-ups?e=topups.voucherRefused', headers: { cookie } });
    expect(shown.body).toContain('This voucher cannot be redeemed');
  });
});
