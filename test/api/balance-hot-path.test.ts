// The live-balance route's hot path: API key, rate limit and the durable balance beside the live
// one come from this process's caches, so a repeated read costs no Postgres query; the caches'
// windows are bounded (API_KEY_CACHE_MS, DURABLE_BALANCE_CACHE_MS) and a revocation through the
// API takes effect at once in the process that made it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { harness } from './api-harness.ts';
import type { Harness } from './api-harness.ts';

let h: Harness;
let queries = 0;
beforeAll(async () => {
  h = await harness('hotpath', { apiKeyCacheMs: 60_000, durableBalanceCacheMs: 60_000 });
  const pool = h.s.pool as unknown as { query: (...a: unknown[]) => unknown };
  const original = pool.query.bind(h.s.pool);
  pool.query = (...a: unknown[]) => {
    queries++;
    return original(...a);
  };
});
afterAll(async () => {
  await h.close();
});

const body = (r: { body: string }) => JSON.parse(r.body) as Record<string, unknown>;

describe('live-balance hot path', () => {
  it('answers repeated reads with no Postgres query while the key and the durable balance are cached', async () => {
    const c = await h.customerWithAccount({ credit: 700_000 });
    expect((await h.call('GET', `/v1/accounts/${c.account.id}/balance`, { key: h.keys.read })).statusCode).toBe(200);
    const before = queries;
    for (let i = 0; i < 50; i++) {
      const r = await h.call('GET', `/v1/accounts/${c.account.id}/balance`, { key: h.keys.read });
      expect(r.statusCode).toBe(200);
      expect(body(r)).toMatchObject({ balance: 700_000, available: 700_000 });
    }
    expect(queries - before).toBe(0);
  });

  it('a key revoked through the API is refused at once by this process, cache or not', async () => {
    const { key, info } = await h.ctx.keys.create('short-lived', ['read'], 'test');
    const c = await h.customerWithAccount({ credit: 1_000 });
    expect((await h.call('GET', `/v1/accounts/${c.account.id}/balance`, { key })).statusCode).toBe(200);
    expect((await h.call('DELETE', `/v1/api-keys/${info.id}`)).statusCode).toBe(200);
    expect((await h.call('GET', `/v1/accounts/${c.account.id}/balance`, { key })).statusCode).toBe(401);
  });

  it('the durable balance is at most DURABLE_BALANCE_CACHE_MS old', async () => {
    const short = await harness('hotpathttl', { durableBalanceCacheMs: 300 });
    try {
      const c = await short.customerWithAccount({ credit: 1_000 });
      expect(body(await short.call('GET', `/v1/accounts/${c.account.id}/balance`)).durableBalance).toBe(0);
      await short.s.pool.query('update accounts set balance = 1000 where id = $1', [c.account.id]);
      expect(body(await short.call('GET', `/v1/accounts/${c.account.id}/balance`)).durableBalance).toBe(0); // still cached
      await new Promise((r) => setTimeout(r, 400));
      expect(body(await short.call('GET', `/v1/accounts/${c.account.id}/balance`)).durableBalance).toBe(1_000);
    } finally {
      await short.close();
    }
  });

  it('caches the durable balance for 5 s by default', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgres://x@127.0.0.1/x',
      REDIS_URL: 'redis://127.0.0.1:6379',
      PIN_PEPPER: 'p'.repeat(40),
      DRACHTIO_SECRET: 'secret-secret',
      SIP_NONCE_KEY: 'n'.repeat(32),
    });
    expect(config.durableBalanceCacheMs).toBe(5_000);
  });
});
