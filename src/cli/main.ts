/**
 * Operator commands. Exit codes: 0 done, 1 failed or (reconcile) a difference found, 2 bad usage
 * or configuration. --json prints machine-readable output.
 */
import { readFile } from 'node:fs/promises';
import { Redis } from 'ioredis';
import { AccountService } from '../accounts/account-service.ts';
import { ApiKeyStore } from '../accounts/api-keys.ts';
import type { Scope } from '../accounts/api-keys.ts';
import { AutoTopUp } from '../accounts/auto-topup.ts';
import { TestPaymentProvider } from '../accounts/payments/test-payment-provider.ts';
import { apiSettingsOf } from '../api/api-main.ts';
import { runRetention } from '../privacy/retention-jobs.ts';
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
  api-key create <name> <scope,...>         create an API key (scopes: read, billing, admin); the key is printed once
  api-key revoke <id>                       revoke an API key
  api-key list                              list API keys (never their secrets)
  retention [cdrs|contacts|payments]... [--now=ISO]
                                            run the retention jobs (all by default); idempotent
  auto-topup                                charge and credit accounts below their auto top-up threshold once
  settings                                  list the environment variables the service reads`;

async function main(argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  const nowArg = argv.find((a) => a.startsWith('--now='))?.slice(6);
  const args = argv.filter((a) => a !== '--json' && !a.startsWith('--now='));
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
      case 'api-key': {
        const keys = new ApiKeyStore(pool);
        const [sub, a1, a2] = rest;
        if (sub === 'create' && a1 && a2) {
          const { key, info } = await keys.create(a1, a2.split(',') as Scope[], 'cli');
          out(`API key ${info.id} (${info.scopes.join(', ')}) created; it is shown only now:\n${key}`, { key, ...info });
          return 0;
        }
        if (sub === 'revoke' && a1) {
          const info = await keys.revoke(a1);
          out(`API key ${info.id} revoked at ${info.revokedAt?.toISOString()}`, info);
          return 0;
        }
        if (sub === 'list') {
          const all = await keys.list();
          out(all.map((k) => `${k.id}  ${k.name.padEnd(24)} ${k.scopes.join(',').padEnd(18)} ${k.revokedAt ? `revoked ${k.revokedAt.toISOString()}` : 'active'}`).join('\n'), all);
          return 0;
        }
        process.stderr.write(`${USAGE}\n`);
        return 2;
      }
      case 'retention': {
        const jobs = rest.length ? rest : ['cdrs', 'contacts', 'payments'];
        const now = nowArg ? new Date(nowArg) : new Date();
        if (Number.isNaN(now.getTime()) || jobs.some((j) => !['cdrs', 'contacts', 'payments'].includes(j))) { process.stderr.write(`${USAGE}\n`); return 2; }
        const accounts = new AccountService(pool, store, config.pinPepper);
        const r = await runRetention({ pool, log, accounts, balances: store, policy: apiSettingsOf(config).retention }, now, jobs, 'cli');
        out([
          `call-record partitions dropped: ${r.droppedPartitions.join(', ') || 'none'}`,
          `closed customers erased: ${r.erasedCustomers.length}`,
          `payment references dropped: ${r.paymentReferences.topUps} top-ups, ${r.paymentReferences.tokens} saved tokens`,
        ].join('\n'), r);
        return 0;
      }
      case 'auto-topup': {
        const r = await new AutoTopUp(pool, store, new TestPaymentProvider(), log).run();
        out(`${r.checked} accounts checked, ${r.charged} charged, ${r.failed} failed`, r);
        return r.failed ? 1 : 0;
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
