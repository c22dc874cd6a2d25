/**
 * Operator commands. Exit codes: 0 done, 1 failed or (reconcile) a difference found, 2 bad usage
 * or configuration. --json prints machine-readable output.
 */
import { readFile } from 'node:fs/promises';
import { Redis } from 'ioredis';
import { BalanceStore } from '../billing/balance/balance-store.ts';
import { TariffRepository } from '../billing/tariff-repository.ts';
import { ConfigError, describeSettings, loadConfig } from '../config/config.ts';
import { migrate } from '../db/migrate.ts';
import { createPool } from '../db/pool.ts';
import { LedgerWriter } from '../ledger/ledger-writer.ts';
import { PostgresLedgerSink } from '../ledger/postgres-ledger-sink.ts';
import { rebuildBalances, reconcile } from '../ledger/reconcile.ts';
import { createLogger } from '../observability/logger.ts';

const USAGE = `usage: softswitch <command> [--json]
  migrate                                   apply pending database migrations
  reconcile                                 write pending ledger events, then compare Redis and Postgres balances (exit 1 on any difference)
  rebuild-balances                          rebuild live balances in Redis from Postgres (keeps open reservations)
  import-tariff <id> <name> <CUR> <file>    replace a tariff's rates with a CSV (all or nothing)
  export-tariff <id>                        print a tariff as CSV
  settings                                  list the environment variables the service reads`;

async function main(argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  const args = argv.filter((a) => a !== '--json');
  const [command, ...rest] = args;
  const out = (human: string, data: unknown) => process.stdout.write(json ? `${JSON.stringify(data)}\n` : `${human}\n`);
  if (!command || command === 'help' || command === '--help') { process.stdout.write(`${USAGE}\n`); return command ? 0 : 2; }
  if (command === 'settings') { out(describeSettings().map((s) => `${s.env.padEnd(28)} ${s.default ?? '(required)'}  ${s.doc}`).join('\n'), describeSettings()); return 0; }

  const config = loadConfig();
  const log = createLogger(json ? 'silent' : 'warn');
  const pool = createPool(config.databaseUrl, config.databaseSchema, 4);
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 2 });
  const store = new BalanceStore(redis, { namespace: config.redisNamespace, shards: config.redisShards });
  try {
    switch (command) {
      case 'migrate': {
        const applied = await migrate(pool, config.databaseSchema);
        out(applied.length ? `applied: ${applied.join(', ')}` : 'up to date', { applied });
        return 0;
      }
      case 'reconcile': {
        const writer = new LedgerWriter(redis.duplicate(), new PostgresLedgerSink(pool), {
          streams: store.keys.allStreams(), deadLetterStream: `${config.redisNamespace}:deadletter`, consumer: 'reconcile', logger: log,
        });
        const written = await writer.drain();
        const r = await reconcile(pool, redis, store);
        out(r.differences.length === 0
          ? `${r.checked} accounts checked, ${written} pending events written first; Redis and Postgres agree`
          : `${r.differences.length} of ${r.checked} accounts differ:\n${r.differences.map((d) => `  account ${d.accountId}: redis ${d.redis} postgres ${d.postgres} unwritten ${d.unwritten}`).join('\n')}`,
        { ...r, written });
        return r.differences.length === 0 ? 0 : 1;
      }
      case 'rebuild-balances': {
        const n = await rebuildBalances(pool, redis, store);
        out(`${n} accounts rebuilt`, { rebuilt: n });
        return 0;
      }
      case 'import-tariff': {
        const [id, name, currency, file] = rest;
        if (!id || !name || !currency || !file) { process.stderr.write(`${USAGE}\n`); return 2; }
        const r = await new TariffRepository(pool).importCsv(id, name, currency, await readFile(file, 'utf8'));
        if ('errors' in r) {
          out(r.errors.map((e) => `line ${e.line}, column ${e.column}: ${e.message}`).join('\n'), r);
          return 1;
        }
        out(`${r.imported} rates imported into tariff ${id}`, r);
        return 0;
      }
      case 'export-tariff': {
        const [id] = rest;
        if (!id) { process.stderr.write(`${USAGE}\n`); return 2; }
        process.stdout.write(await new TariffRepository(pool).exportCsv(id));
        return 0;
      }
      default:
        process.stderr.write(`unknown command ${command}\n${USAGE}\n`);
        return 2;
    }
  } finally {
    redis.disconnect();
    await pool.end();
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code), (err: Error) => {
  process.stderr.write(`${err instanceof ConfigError ? '' : 'error: '}${err.message}\n`);
  process.exit(err instanceof ConfigError ? 2 : 1);
});
