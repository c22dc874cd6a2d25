/**
 * Isolation for tests against the real Redis and Postgres: each test file gets its own Postgres
 * schema (migrated) and its own Redis key namespace, so files run in parallel without touching
 * each other. Everything is removed again in teardown().
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type pg from 'pg';
import pino from 'pino';
import { BalanceStore } from '../../src/billing/balance/balance-store.ts';
import { migrate } from '../../src/db/migrate.ts';
import { createPool } from '../../src/db/pool.ts';
import { deleteNamespace } from './redis-namespace.ts';
import { createRedis } from '../../src/common/redis-connection.ts';
import type { RedisClient } from '../../src/common/redis-connection.ts';
import { LocalRedisCluster } from './redis-cluster.ts';

/**
 * The Redis a test file's body runs on: the shared single server, or a Redis Cluster of its own
 * (six local nodes, started by setupServices and stopped by teardown). Files whose behaviour must
 * hold on both run their body once per kind: `describe.each(REDIS_KINDS)`.
 */
export type RedisKind = 'single' | 'cluster';
export const REDIS_KINDS: RedisKind[] = ['single', 'cluster'];

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/softswitch_test';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const TEST_PEPPER = 'test-pepper-0123456789-abcdefghijklmnop';

export interface TestServices {
  id: string;
  schema: string;
  namespace: string;
  pool: pg.Pool;
  redis: RedisClient;
  store: BalanceStore;
  logger: pino.Logger;
  /** The cluster the file runs on (redis: 'cluster'), to kill its nodes. */
  cluster?: LocalRedisCluster;
  newRedis(): RedisClient;
  teardown(): Promise<void>;
}

export async function setupServices(
  label: string,
  opts: { shards?: number; now?: () => number; redisUrl?: string; redis?: RedisKind } = {},
): Promise<TestServices> {
  const redisUrl = opts.redisUrl ?? TEST_REDIS_URL;
  const id = `${label
    .replace(/[^a-z0-9]/gi, '')
    .toLowerCase()
    .slice(0, 20)}_${randomBytes(4).toString('hex')}`;
  const schema = `t_${id}`;
  const namespace = `t:${id}`;
  const pool = createPool(TEST_DATABASE_URL, schema, 8);
  await migrate(pool, schema);
  const extra: RedisClient[] = [];
  let cluster: LocalRedisCluster | undefined;
  if (opts.redis === 'cluster') {
    cluster = new LocalRedisCluster();
    await cluster.start();
  }
  const connect = (): RedisClient => {
    if (!cluster) return new Redis(redisUrl, { maxRetriesPerRequest: 2 });
    const c = createRedis(cluster.target, `softswitch-test-${label}`);
    c.on('error', () => undefined);
    return c;
  };
  const redis: RedisClient = cluster ? connect() : new Redis(redisUrl, { lazyConnect: false, maxRetriesPerRequest: 2 });
  const store = new BalanceStore(redis, { namespace, shards: opts.shards ?? 4, ...(opts.now ? { now: opts.now } : {}) });
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  return {
    id,
    schema,
    namespace,
    pool,
    redis,
    store,
    logger,
    ...(cluster ? { cluster } : {}),
    newRedis() {
      const r = connect();
      extra.push(r);
      return r;
    },
    async teardown() {
      await deleteNamespace(redis, namespace);
      for (const r of extra) r.disconnect();
      redis.disconnect();
      await cluster?.stop();
      await pool.query(`drop schema if exists "${schema}" cascade`);
      await pool.end();
    },
  };
}
