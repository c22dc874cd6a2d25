/**
 * The account API as its own process (so HTTP load never slows call handling):
 *   node --import tsx src/api/api-main.ts
 * It reads the same environment as the rest of the service (src/config/config.ts), listens on
 * API_HOST:API_PORT, applies pending migrations, and runs the auto top-up check every
 * AUTO_TOPUP_INTERVAL_MS. SIGINT/SIGTERM close it gracefully.
 */
import cluster from 'node:cluster';
import { AccountService } from '../accounts/account-service.ts';
import { autoTopUpLimitsOf } from '../accounts/auto-topup.ts';
import { checkoutProviderFor, paymentProviderFor } from '../accounts/payments/payment-providers.ts';
import { BalanceStore } from '../billing/balance/balance-store.ts';
import { connectRedis } from '../common/redis-connection.ts';
import { ChangeNotices, notifier } from '../common/change-notices.ts';
import { TariffRepository } from '../billing/tariff-repository.ts';
import { isEntryModule, runAppProcess } from '../common/process-lifecycle.ts';
import { loadConfig, type Config } from '../config/config.ts';
import { migrate } from '../db/migrate.ts';
import { createPool } from '../db/pool.ts';
import { createLogger } from '../observability/logger.ts';
import { retentionPolicyOf } from '../privacy/retention.ts';
import { RETENTION_JOBS, runRetention } from '../privacy/retention-jobs.ts';
import { RetentionScheduler } from '../privacy/retention-scheduler.ts';
import { realClock } from '../common/clock.ts';
import { mailSettingsOf } from '../mail/mail-settings.ts';
import { voucherKeyOf } from '../accounts/vouchers.ts';
import { OutboxWorker } from '../mail/outbox-worker.ts';
import { SmtpTransport } from '../mail/smtp-transport.ts';
import { buildApi } from './api-app.ts';
import type { ApiSettings } from './api-context.ts';

export function apiSettingsOf(config: Config): ApiSettings {
  return {
    namespace: config.redisNamespace,
    realm: config.sipRealm,
    rateLimit: config.apiRateLimit,
    apiKeyCacheMs: config.apiKeyCacheMs,
    durableBalanceCacheMs: config.durableBalanceCacheMs,
    trustProxy: config.apiTrustProxy,
    session: {
      ttlSeconds: config.sessionTtlSeconds,
      maxFailures: config.loginMaxFailures,
      maxFailuresPerSource: config.loginMaxFailuresPerSource,
      windowSeconds: config.loginWindowSeconds,
    },
    retention: retentionPolicyOf(config),
    recordings: { dir: config.recordingsDir },
    retentionIntervalHours: config.retentionIntervalHours,
    autoTopUp: autoTopUpLimitsOf(config),
    mail: { linkBaseUrl: mailSettingsOf(config).linkBaseUrl, retry: mailSettingsOf(config).retry, sending: mailSettingsOf(config).sending },
    vouchers: {
      key: voucherKeyOf(config.pinPepper),
      maxPerAccount: config.voucherMaxAttempts,
      maxPerSource: config.voucherMaxAttemptsPerSource,
      windowSeconds: config.voucherWindowSeconds,
    },
    orders: {
      currency: config.orderCurrency,
      minAmount: config.orderMinAmount,
      maxAmount: config.orderMaxAmount,
      expiryMinutes: config.orderExpiryMinutes,
      maxPerSource: config.orderMaxPerSource,
      windowSeconds: config.orderWindowSeconds,
    },
    callbacks: {
      enabled: config.callbackEnabled,
      maxPerHour: config.callbackMaxPerHour,
      maxPerNumberPerHour: config.callbackMaxPerNumberPerHour,
      accessNumbers: config.callbackAccessNumbers
        .split(',')
        .map((n) => n.trim())
        .filter((n) => n !== ''),
    },
  };
}

export async function startApi(config: Config) {
  const log = createLogger(config.logLevel, 'softswitch-api', { personalData: config.logPersonalData === 'full' ? 'full' : 'mask' });
  const pool = createPool(config.databaseUrl, config.databaseSchema, 16);
  pool.on('error', (err) => log.warn({ err: err.message }, 'idle Postgres connection failed'));
  await migrate(pool, config.databaseSchema);
  const redis = await connectRedis(config, 'softswitch-api');
  const balances = new BalanceStore(redis, { namespace: config.redisNamespace, shards: config.redisShards });
  const accounts = new AccountService(pool, balances, config.pinPepper, { pinLength: config.pinLength, defaultCountry: config.defaultAccountCountry });
  const payments = paymentProviderFor(config);
  const { app, ctx } = await buildApi({
    log,
    pool,
    redis,
    balances,
    accounts,
    tariffs: new TariffRepository(pool, undefined, {
      maxCallSeconds: config.maxCallSeconds,
      notify: notifier(new ChangeNotices(redis, config.redisNamespace), (err, topic) =>
        log.warn({ err: err.message, topic }, 'change notice not published: SIP processes see the change when their cache expires'),
      ),
    }),
    payments,
    checkout: checkoutProviderFor(config, payments),
    settings: apiSettingsOf(config),
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

  // orders not paid in time expire (every API process runs it; the update is idempotent)
  let orderTimer: NodeJS.Timeout | undefined;
  const expireOrders = async () => {
    try {
      await ctx.orders.expire();
    } catch (err) {
      log.error({ err }, 'order expiry failed');
    }
    orderTimer = setTimeout(() => void expireOrders(), 60_000);
  };
  if (ctx.orders.available) orderTimer = setTimeout(() => void expireOrders(), 60_000);

  // e-mail: every API process works the outbox (claims are leased rows, so each mail goes once)
  const mail = mailSettingsOf(config);
  const mailWorker = mail.sending
    ? new OutboxWorker(ctx.outbox, new SmtpTransport(mail.smtp), { pollMs: mail.pollMs, batchSize: mail.batchSize }, log.child({ component: 'mail' }))
    : undefined;
  if (mailWorker) {
    mailWorker.start();
    log.info({ host: mail.smtp.host, port: mail.smtp.port, security: mail.smtp.security }, 'mail outbox worker started');
  } else log.warn('SMTP_HOST is empty: mails are queued in the outbox and not sent');

  let lowTimer: NodeJS.Timeout | undefined;
  const lowBalances = async () => {
    try {
      const r = await ctx.lowBalanceAlerts.run();
      if (r.warned) log.info(r, 'low-balance warnings queued');
    } catch (err) {
      log.error({ err }, 'low-balance check failed');
    }
    lowTimer = setTimeout(() => void lowBalances(), config.lowBalanceCheckMs);
  };
  if (config.lowBalanceCheckMs > 0) lowTimer = setTimeout(() => void lowBalances(), config.lowBalanceCheckMs);

  // retention by itself: every API process checks, one at a time runs (RetentionScheduler)
  const retention =
    config.retentionIntervalHours > 0
      ? new RetentionScheduler(
          redis,
          (now) => runRetention({ ...ctx, policy: ctx.settings.retention, endSessions: (id) => ctx.sessions.endAll(id) }, now, [...RETENTION_JOBS], 'schedule'),
          realClock,
          log.child({ component: 'retention' }),
          { namespace: config.redisNamespace, intervalMs: config.retentionIntervalHours * 3_600_000, checkMs: 10 * 60_000, lockMs: 30 * 60_000 },
        )
      : undefined;
  retention?.start();

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      retention?.stop();
      if (autoTimer) clearTimeout(autoTimer);
      if (lowTimer) clearTimeout(lowTimer);
      if (orderTimer) clearTimeout(orderTimer);
      await mailWorker?.stop();
      await app.close();
      redis.disconnect();
      await pool.end();
    })());
  return { app, port, log, stop };
}

if (isEntryModule(import.meta.url)) {
  const processes = cluster.isPrimary ? configuredApiProcesses() : 1;
  if (processes > 1) superviseWorkers(processes);
  else {
    runAppProcess({
      name: 'account API',
      start: startApi,
      signalMessage: 'account API shutting down',
      started: (api) => {
        if (cluster.isWorker) process.send?.({ listening: api.port });
      },
    });
  }
}

/** API_PROCESSES; 1 when the configuration is bad (runAppProcess then reports it and exits 2). */
function configuredApiProcesses(): number {
  try {
    return loadConfig().apiProcesses;
  } catch {
    return 1;
  }
}

/**
 * API_PROCESSES > 1: this process only supervises; the workers share API_PORT through node:cluster
 * (the primary hands each new connection to the next worker). Workers start one after another (the
 * first applies migrations); one that dies is replaced; SIGTERM/SIGINT stop them all, then this.
 */
function superviseWorkers(count: number): void {
  let stopping = false;
  let live = 0;
  const fork = (): Promise<void> =>
    new Promise((resolve) => {
      const w = cluster.fork();
      live++;
      w.on('message', (m: { listening?: number }) => {
        if (m.listening !== undefined) resolve();
      });
      w.on('exit', (code, signal) => {
        resolve();
        live--;
        if (stopping) {
          if (live === 0) process.exit(0);
          return;
        }
        process.stderr.write(`account API worker ${w.process.pid ?? '?'} exited (${signal ?? code}); starting another\n`);
        setTimeout(() => void fork(), 1000);
      });
    });
  const stop = (signal: NodeJS.Signals) => {
    stopping = true;
    if (live === 0) process.exit(0);
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill(signal);
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  void (async () => {
    for (let i = 0; i < count && !stopping; i++) await fork();
  })();
}
