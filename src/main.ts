/**
 * Composition root: reads the configuration, builds every component and wires them together.
 * Nothing below this file reads process.env or constructs another component's dependencies.
 */
import { voucherKeyOf } from './accounts/vouchers.ts';
import { callbackKeyOf } from './accounts/callbacks.ts';
import { randomBytes } from 'node:crypto';
import type { RedisClient } from './common/redis-connection.ts';
import { AccountService } from './accounts/account-service.ts';
import { ApiKeyStore } from './accounts/api-keys.ts';
import { generatePin } from './accounts/secrets.ts';
import { buildHttpServer } from './api/http-server.ts';
import { BalanceStore } from './billing/balance/balance-store.ts';
import { CallCredit } from './billing/credit/call-credit.ts';
import { StaleCallSweeper } from './billing/credit/stale-call-sweeper.ts';
import { TariffRepository } from './billing/tariff-repository.ts';
import { connectRedis } from './common/redis-connection.ts';
import { isEntryModule, runAppProcess } from './common/process-lifecycle.ts';
import type { Config } from './config/config.ts';
import { migrate } from './db/migrate.ts';
import { createPool } from './db/pool.ts';
import { seedDemo } from './demo/demo-seed.ts';
import { LedgerWriter } from './ledger/ledger-writer.ts';
import { PostgresLedgerSink } from './ledger/postgres-ledger-sink.ts';
import { createLogger } from './observability/logger.ts';
import { bannerLines, whenAnswering } from './demo/demo-banner.ts';
import { createSipMetrics } from './observability/sip-metrics.ts';
import { EmbeddedMediaServer } from './media/embedded/embedded-media-server.ts';
import { PromptStore } from './media/embedded/prompt-store.ts';
import type { MediaObserver } from './media/prompts/prompt-check.ts';
import { connectFreeSwitch } from './media/freeswitch/connect-freeswitch.ts';
import { DirectoryRecordingStore } from './recordings/recording-store.ts';
import { composeSipApp, createSipApp } from './sip/sip-app.ts';
import { parseUserAgentList } from './sip/auth/digest-offer.ts';

function withDeadline<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      t = setTimeout(() => reject(new Error(message)), ms);
    }),
  ]).finally(() => clearTimeout(t));
}

export async function start(config: Config) {
  // a prompt missing would fail every access-number call that reaches it: refuse to start instead, before
  // touching anything (FreeSWITCH's prompts are checked on its host once connected)
  if (config.sipEnabled && config.mediaServer === 'embedded') await new PromptStore(config.mediaSoundsDir).check();
  const log = createLogger(config.logLevel, 'softswitch', { personalData: config.logPersonalData === 'full' ? 'full' : 'mask' });
  const pool = createPool(config.databaseUrl, config.databaseSchema);
  pool.on('error', (err) => log.warn({ err: err.message }, 'idle Postgres connection failed'));
  await withDeadline(pool.query('select 1'), 5000, `Postgres at ${new URL(config.databaseUrl).host} did not answer within 5 s`);
  const applied = await migrate(pool, config.databaseSchema);
  log.info({ applied }, 'migrations applied');

  const redis = await connectRedis(config, 'softswitch');
  const writerRedis = await connectRedis(config, 'softswitch-ledger');
  const balances = new BalanceStore(redis, { namespace: config.redisNamespace, shards: config.redisShards });
  const accounts = new AccountService(pool, balances, config.pinPepper, { pinLength: config.pinLength, defaultCountry: config.defaultAccountCountry });
  const tariffs = new TariffRepository(pool, undefined, { maxCallSeconds: config.maxCallSeconds });

  const writer = new LedgerWriter(writerRedis, new PostgresLedgerSink(pool), {
    streams: balances.keys.allStreams(),
    deadLetterStream: balances.keys.deadLetters(),
    consumer: config.ledgerConsumer,
    batchSize: config.ledgerBatchSize,
    blockMs: config.ledgerBlockMs,
    claimIdleMs: config.ledgerClaimIdleMs,
    logger: log,
  });
  writer.start();

  let demo: Awaited<ReturnType<typeof seedDemo>> | undefined;
  if (config.demoSeed) {
    demo = await seedDemo(pool, accounts, tariffs, balances, new ApiKeyStore(pool), {
      pin: config.demoPin || generatePin(config.pinLength),
      password: config.demoPassword || randomBytes(9).toString('base64url'),
      sipPassword: config.demoSipPassword || randomBytes(9).toString('base64url'),
      realm: config.sipRealm,
    });
  }

  const sweeper = new StaleCallSweeper(balances, log.child({ component: 'billing.sweeper' }), { intervalMs: config.sweeperIntervalSeconds * 1000 });
  sweeper.start();

  let sip: ReturnType<typeof createSipApp> | undefined;
  let subscriber: RedisClient | undefined;
  // the callback intake's stream reads block: its own connection
  const callbackRedis = config.sipEnabled && config.callbackEnabled ? await connectRedis(config, 'softswitch-callbacks') : undefined;
  const metrics = createSipMetrics(() => sip?.callsInProgress ?? 0);
  if (config.sipEnabled) {
    const mediaObserver: MediaObserver = {
      promptMissing: (e) => {
        log.error({ component: 'media', server: e.server, files: e.files, mediaSessionId: e.sessionId }, 'prompt missing: skipped, the rest played');
        metrics.promptMissing(e.server);
      },
    };
    // call recordings (at the account holder's wish): the media server writes them into this store
    const recordings = new DirectoryRecordingStore(config.recordingsDir);
    const credit = new CallCredit(balances, {
      sliceSeconds: config.reservationSliceSeconds,
      maxCallSeconds: config.maxCallSeconds,
      graceSeconds: config.reservationGraceSeconds,
    });
    sip = createSipApp(
      composeSipApp({
        log,
        pool,
        redis,
        accounts,
        tariffs,
        credit,
        balances,
        store: balances,
        ...(callbackRedis ? { callbackRedis } : {}),
        events: metrics.events,
        // access numbers: prompts and DTMF in the embedded RTP endpoint, or FreeSWITCH through drachtio-fsmrf
        media:
          config.mediaServer === 'freeswitch'
            ? (srf) =>
                connectFreeSwitch(srf, {
                  host: config.freeswitchHost,
                  port: config.freeswitchEslPort,
                  secret: config.freeswitchEslPassword,
                  listenAddress: config.freeswitchListenAddress,
                  listenPort: config.freeswitchListenPort,
                  ...(config.freeswitchAdvertisedAddress ? { advertisedAddress: config.freeswitchAdvertisedAddress } : {}),
                  soundsDir: config.freeswitchSoundsDir,
                  rtpTimeoutMs: config.mediaRtpTimeoutSeconds * 1000,
                  observer: mediaObserver,
                  recordings,
                  onError: (err) => log.warn({ err: err.message }, 'FreeSWITCH not reachable; retrying'),
                  onFatal: (err) => {
                    log.fatal({ err: err.message }, 'FreeSWITCH cannot play the prompts: stopping');
                    process.stderr.write(`softswitch failed to start: ${err.message}\n`);
                    process.exit(1);
                  },
                })
            : (uas) =>
                new EmbeddedMediaServer({
                  uas,
                  address: config.mediaRtpAddress,
                  portMin: config.mediaRtpPortMin,
                  portMax: config.mediaRtpPortMax,
                  rtpTimeoutMs: config.mediaRtpTimeoutSeconds * 1000,
                  soundsDir: config.mediaSoundsDir,
                  observer: mediaObserver,
                  recordings,
                }),
        settings: {
          drachtio: { host: config.drachtioHost, port: config.drachtioPort, secret: config.drachtioSecret },
          realm: config.sipRealm,
          nonceKey: config.sipNonceKey,
          namespace: config.redisNamespace,
          speedDialPrefix: config.speedDialPrefix,
          recording: { announce: config.recordingAnnouncement },
          ...(config.ivrVoucherTopUp
            ? {
                vouchers: {
                  key: voucherKeyOf(config.pinPepper),
                  maxPerAccount: config.voucherMaxAttempts,
                  maxPerSource: config.voucherMaxAttemptsPerSource,
                  windowSeconds: config.voucherWindowSeconds,
                },
              }
            : {}),
          digestAlgorithms: config.sipDigestAlgorithms.split(',').map((a) => a.trim() as 'SHA-256' | 'MD5'),
          digestSha256UserAgents: parseUserAgentList(config.sipDigestSha256UserAgents),
          trustedProxies: config.sipTrustedProxies
            .split(',')
            .map((e) => e.trim())
            .filter((e) => e !== ''),
          maxHeaderBytes: config.sipMaxHeaderBytes,
          routingMode: config.routingMode as 'least_cost' | 'priority',
          noAnswerTimeoutSeconds: config.noAnswerTimeoutSeconds,
          ...(config.gatewayProbeIntervalSeconds > 0
            ? {
                gatewayHealth: {
                  intervalSeconds: config.gatewayProbeIntervalSeconds,
                  probeTimeoutSeconds: config.gatewayProbeTimeoutSeconds,
                  downAfter: config.gatewayDownAfterProbes,
                },
              }
            : {}),
          maxCallSeconds: config.maxCallSeconds,
          extendLeadSeconds: config.creditExtendLeadSeconds,
          warnSeconds: config.creditWarnSeconds,
          minCallSeconds: config.creditMinCallSeconds,
          deviceCreditWarning: config.deviceCreditWarning as 'message' | 'off',
          onNet: { pricePerMinute: config.onNetPricePerMinute, incrementSeconds: config.onNetIncrementSeconds },
          registrar: { minExpires: config.registrarMinExpires, maxExpires: config.registrarMaxExpires, maxContacts: config.registrarMaxContacts },
          ivr: {
            announceBalance: config.ivrAnnounceBalance,
            anotherCall: config.ivrAnotherCall,
            cliRegistration: config.ivrCliRegistration as 'off' | 'calling_account' | 'all',
            maxClis: config.ivrMaxClis,
            firstDigitMs: config.ivrFirstDigitSeconds * 1000,
            interDigitMs: config.ivrInterDigitSeconds * 1000,
            lockThreshold: config.ivrPinLockThreshold,
            anonymousLockThreshold: config.ivrPinLockAnonymousThreshold,
            lockWindowMs: config.ivrPinLockWindowSeconds * 1000,
            lockMs: config.ivrPinLockSeconds * 1000,
            pinBudgetPerAccessNumber: config.ivrPinBudgetPerAccessNumber,
            pinBudgetPerSource: config.ivrPinBudgetPerSource,
            pinBudgetWindowMs: config.ivrPinBudgetWindowSeconds * 1000,
            pinTarpitMs: config.ivrPinTarpitMs,
            menuHints: config.ivrMenuHints,
            warning: config.ivrWarning as 'prompt' | 'beep',
          },
          durability: { keepAliveSeconds: config.callKeepAliveSeconds, orphanAfterKeepAlives: 3, serverLostSeconds: config.sipServerLostSeconds },
          ...(callbackRedis
            ? {
                callback: {
                  blockMs: 5_000,
                  claimIdleMs: 60_000,
                  maxAgeMs: 120_000,
                  concurrency: config.callbackConcurrency,
                  limits: {
                    key: callbackKeyOf(voucherKeyOf(config.pinPepper)),
                    maxPerHour: config.callbackMaxPerHour,
                    maxPerNumberPerHour: config.callbackMaxPerNumberPerHour,
                  },
                },
              }
            : {}),
          callbackAccessNumbers: config.callbackAccessNumbers
            .split(',')
            .map((n) => n.trim())
            .filter((n) => n !== ''),
          guards: {
            failureThreshold: config.authFailureThreshold,
            banSeconds: config.authBanSeconds,
            action: config.authBanAction as 'reject' | 'drop',
            accountCps: config.accountCpsLimit,
          },
        },
      }),
    );
    // not fatal: drachtio-srf keeps retrying until the SIP server answers
    sip.connect().catch((err: Error) => log.warn({ err: err.message }, 'SIP server not reachable yet; retrying'));
    subscriber = await connectRedis(config, 'softswitch-commands');
    await sip.listenForCommands(subscriber);
    await sip.listenForChanges(subscriber);
  }

  const http = buildHttpServer({
    logger: log,
    metrics: () => metrics.registry.metrics(),
    checks: {
      postgres: async () => {
        await pool.query('select 1');
      },
      redis: async () => {
        await redis.ping();
      },
    },
  });
  await http.listen({ host: config.httpHost, port: config.httpPort });
  const address = http.server.address();
  const port = typeof address === 'object' && address ? address.port : config.httpPort;
  log.info({ port }, 'softswitch started');

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      log.info('shutting down');
      if (sip) {
        await sip.stopCallbacks();
        log.info({ calls: sip.callsInProgress, deadlineSeconds: config.shutdownDrainSeconds }, 'draining calls');
        await sip.drain(config.shutdownDrainSeconds * 1000);
      }
      sip?.stop();
      subscriber?.disconnect();
      callbackRedis?.disconnect();
      sweeper.stop();
      await http.close();
      await writer.stop();
      redis.disconnect();
      writerRedis.disconnect();
      await pool.end();
    })());
  return { log, port, demo, stop, balances, accounts, pool };
}

/** The demo banner, once the account API (its own process) answers: every URL in it then works. */
async function printDemo(d: NonNullable<Awaited<ReturnType<typeof start>>['demo']>, config: Config): Promise<void> {
  const api = `http://${config.apiHost}:${config.apiPort}`;
  const answering = await whenAnswering(`${api}/health`, 60_000);
  const lines = bannerLines(d, {
    apiHost: config.apiHost,
    apiPort: config.apiPort,
    httpHost: config.httpHost,
    httpPort: config.httpPort,
    sipRealm: config.sipRealm,
    sip: '127.0.0.1:5060',
    paymentProvider: config.paymentProvider,
  });
  if (!answering) lines.unshift(`The account API at ${api} did not answer within 60 s: its URLs below work once it does.`);
  process.stdout.write(`\n${lines.join('\n')}\n\n`);
}

if (isEntryModule(import.meta.url)) {
  runAppProcess({
    name: 'softswitch',
    start,
    signalMessage: 'signal received',
    started: (app, config) => {
      if (app.demo) void printDemo(app.demo, config);
    },
  });
}
