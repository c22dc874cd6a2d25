// A ledger writer in a process of its own, so a test can SIGKILL it mid-batch.
import pino from 'pino';
import { createRedis } from '../../src/common/redis-connection.ts';
import { BalanceKeys } from '../../src/billing/balance/keys.ts';
import { createPool } from '../../src/db/pool.ts';
import { LedgerWriter } from '../../src/ledger/ledger-writer.ts';
import { PostgresLedgerSink } from '../../src/ledger/postgres-ledger-sink.ts';

const env = process.env;
const keys = new BalanceKeys(env.NAMESPACE!, Number(env.SHARDS));
const pool = createPool(env.DATABASE_URL!, env.SCHEMA!, 2);
const redis = createRedis({ redisUrl: env.REDIS_URL!, redisClusterNodes: env.REDIS_CLUSTER_NODES ?? '' }, 'softswitch-test-ledger-child');
const writer = new LedgerWriter(redis, new PostgresLedgerSink(pool), {
  streams: keys.allStreams(),
  deadLetterStream: `${env.NAMESPACE}:deadletter`,
  consumer: env.CONSUMER!,
  batchSize: Number(env.BATCH ?? 1000),
  logger: pino({ level: 'silent' }),
});
writer.start();
process.stdout.write('started\n');
