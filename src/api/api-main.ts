/**
 * The account API as its own process (so HTTP load never slows call handling):
 *   node --import tsx src/api/api-main.ts
 * It reads the same environment as the rest of the service (src/config/config.ts), listens on
 * API_HOST:API_PORT, applies pending migrations, and runs the auto top-up check every
 * AUTO_TOPUP_INTERVAL_MS. SIGINT/SIGTERM close it gracefully.
 */
import { AccountService } from '../accounts/account-service.ts';
import { autoTopUpLimitsOf } from '../accounts/auto-topup.ts';
import { paymentProviderFor } from '../accounts/payments/payment-providers.ts';
import { BalanceStore } from '../billing/balance/balance-store.ts';
import { connectRedis } from '../common/redis-connection.ts';
import { TariffRepository } from '../billing/tariff-repository.ts';
import { isEntryModule, runAppProcess } from '../common/process-lifecycle.ts';
import type { Config } from '../config/config.ts';
import { migrate } from '../db/migrate.ts';
import { createPool } from '../db/pool.ts';
import { createLogger } from '../observability/logger.ts';
import { retentionPolicyOf } from '../privacy/retention.ts';
import { buildApi } from './api-app.ts';
import type { ApiSettings } from './api-context.ts';

export function apiSettingsOf(config: Config): ApiSettings {
  return {
    namespace: config.redisNamespace, realm: config.sipRealm, rateLimit: config.apiRateLimit, apiKeyCacheMs: config.apiKeyCacheMs,
    durableBalanceCacheMs: config.durableBalanceCacheMs, trustProxy: config.apiTrustProxy,
    session: { ttlSeconds: config.sessionTtlSeconds, maxFailures: config.loginMaxFailures, maxFailuresPerSource: config.loginMaxFailuresPerSource, windowSeconds: config.loginWindowSeconds },
    retention: retentionPolicyOf(config), autoTopUp: autoTopUpLimitsOf(config),
  };
}

export async function startApi(config: Config) {
  const log = createLogger(config.logLevel, 'softswitch-api');
  const pool = createPool(config.databaseUrl, config.databaseSchema, 16);
  pool.on('error', (err) => log.warn({ err: err.message }, 'idle Postgres connection failed'));
  await migrate(pool, config.databaseSchema);
  const redis = await connectRedis(config.redisUrl, 'softswitch-api');
  const balances = new BalanceStore(redis, { namespace: config.redisNamespace, shards: config.redisShards });
  const accounts = new AccountService(pool, balances, config.pinPepper, { pinLength: config.pinLength });
  const { app, ctx } = await buildApi({
    log, pool, redis, balances, accounts, tariffs: new TariffRepository(pool, undefined, { maxCallSeconds: config.maxCallSeconds }), payments: paymentProviderFor(config), settings: apiSettingsOf(config),
  });
  await app.listen({ host: config.apiHost, port: config.apiPort });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.apiPort;
  log.info({ host: config.apiHost, port }, 'account API listening');

  let autoTimer: NodeJS.Timeout | undefined;
  const autoTopUps = async () => {
    try {
      const r = await ctx.autoTopUp.run();
      if (r.charged || r.failed) log.info(r, 'auto top-up run');
    } catch (err) {
      log.error({ err }, 'auto top-up run failed');
    }
    autoTimer = setTimeout(() => void autoTopUps(), config.autoTopUpIntervalMs);
  };
  if (config.autoTopUpIntervalMs > 0 && config.paymentProvider !== 'none') autoTimer = setTimeout(() => void autoTopUps(), config.autoTopUpIntervalMs);

  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= (async () => {
    if (autoTimer) clearTimeout(autoTimer);
    await app.close();
    redis.disconnect();
    await pool.end();
  })());
  return { app, port, log, stop };
}

if (isEntryModule(import.meta.url)) {
  runAppProcess({ name: 'account API', start: startApi, signalMessage: 'account API shutting down' });
}
