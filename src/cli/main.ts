/**
 * Operator commands (bin/softswitch.js; `npm run cli -- <command>`).
 *
 * Exit codes: 0 done; 1 refused or failed (unknown account, PIN taken, a dependency down,
 * reconcile found a difference, a hang-up nobody received); 2 bad usage or configuration.
 * --json prints one JSON document on stdout; on failure, {"error":{"code","message"}} on stderr.
 */
import { readFile } from 'node:fs/promises';
import type { RedisClient } from '../common/redis-connection.ts';
import type pg from 'pg';
import { AccountService } from '../accounts/account-service.ts';
import type { AccountKind } from '../accounts/account-service.ts';
import type { AccountProvisioning, CallerIds, PinCredentials } from '../accounts/account-ports.ts';
import { ApiKeyStore } from '../accounts/api-keys.ts';
import type { Scope } from '../accounts/api-keys.ts';
import { AutoTopUp, autoTopUpLimitsOf } from '../accounts/auto-topup.ts';
import { paymentProviderFor } from '../accounts/payments/payment-providers.ts';
import { BalanceStore } from '../billing/balance/balance-store.ts';
import { TariffRepository } from '../billing/tariff-repository.ts';
import { createRedis } from '../common/redis-connection.ts';
import { ConfigError, describeSettings, loadConfig } from '../config/config.ts';
import type { Config } from '../config/config.ts';
import { migrate } from '../db/migrate.ts';
import { createPool } from '../db/pool.ts';
import { IvrSessionRecords } from '../accounts/ivr-session-records.ts';
import { LiveCalls } from '../calls/live-calls.ts';
import { AppError } from '../errors.ts';
import { LedgerWriter } from '../ledger/ledger-writer.ts';
import { PostgresLedgerSink } from '../ledger/postgres-ledger-sink.ts';
import { rebuildBalances, reconcile } from '../ledger/reconcile.ts';
import { createLogger } from '../observability/logger.ts';
import { EmailVerification } from '../accounts/email-verification.ts';
import { AuditLog } from '../privacy/audit-log.ts';
import { RETENTION_JOBS, runRetention } from '../privacy/retention-jobs.ts';
import { DirectoryRecordingStore } from '../recordings/recording-store.ts';
import { retentionPolicyOf } from '../privacy/retention.ts';
import { ChangeNotices, notifier } from '../common/change-notices.ts';
import { AccountNotices } from '../accounts/account-notices.ts';
import { PasswordLinks } from '../accounts/password-links.ts';
import { Mailer } from '../mail/mailer.ts';
import { MailOutbox } from '../mail/outbox.ts';
import { mailSettingsOf } from '../mail/mail-settings.ts';
import { RoutingData } from '../provisioning/routing-data.ts';
import { formatMicros, parseMajorAmount } from './amount.ts';
import { Options, parseArgs, parseId, UsageError } from './args.ts';
import { accessNumberCommands, carrierCommands, didCommands, gatewayCommands } from './routing-commands.ts';
import { cardNumberRefusal, containsCardNumber } from '../common/card-number.ts';
import { voucherCommands } from './voucher-commands.ts';
import { Vouchers, voucherKeyOf } from '../accounts/vouchers.ts';
import { userInfo } from 'node:os';
import { cliActor } from '../privacy/audit-log.ts';
import { BindingStore } from '../sip/registrar/binding-store.ts';

const USAGE = `usage: softswitch <command> [--json]
customers and accounts
  customer create <name> [--email=E] [--phone=+E164[,+E164...]] [--country=CC]
                                            create a customer; prints its id
  customer email-code <customer id>         a verification code for the customer's pending or unverified
                                            e-mail address, to e-mail to it by hand (shown once)
  account create <customer id> <CUR> [--tariff=ID] [--kind=calling_account|chatpin] [--max-calls=N]
                 [--daily-cap=AMOUNT] [--credit-floor=AMOUNT] [--number=N] [--username=U]
                                            create a calling account (balance 0)
  account show <account id>                 the account, its live and durable balance, its calls in progress
  account tariff <account id> <tariff id|none>
                                            rate the account's calls by a tariff (it must be in the account's currency)
  pin issue <account id>                    issue a random PIN (the previous one and the caller IDs registered
                                            with it at the IVR stop working); shown only now
  topup <account id> <AMOUNT> --key=KEY [--reference=REF]
                                            credit AMOUNT (account currency, e.g. 5 or 12.50) exactly once per KEY
  caller-id add <account id> <+E164> [--verified]
                                            register a caller ID for PIN-less calls
calls
  calls list [--account=ID]                 calls in progress (holding a credit reservation)
  ivr-sessions [--from=ISO] [--to=ISO] [--access-number=+E164] [--account=ID] [--limit=N] [--totals]
                                            access-number sessions, with or without a call placed (the access leg's time,
                                            to reconcile a carrier's invoice); --totals: per access number and carrier
  calls hangup <call id> [--account=ID]     ask the SIP application holding the call to end it (it settles as usual)
money and data
  reconcile                                 write pending ledger events, then compare Redis and Postgres balances (exit 1 on any difference)
  rebuild-balances                          rebuild live balances in Redis from Postgres (keeps open reservations)
  import-tariff <id> <name> <CUR> <file>    replace a tariff's rates with a CSV (all or nothing; the currency
                                            cannot change while accounts use the tariff)
  export-tariff <id>                        print a tariff as CSV
  retention [cdrs|contacts|payments|ledger|audit|consents|mail|recordings]... [--now=ISO]
                                            run the retention jobs (all by default); idempotent
  auto-topup                                charge and credit accounts below their auto top-up threshold once
  voucher create <name> <count> <AMOUNT> <CUR> --expires=ISO
                                            create a batch of voucher codes; prints them as CSV, the only time they exist
  voucher list | disable <batch id>         voucher batches (never their codes); withdraw a batch (its unused codes stop working)
  voucher redeem <account id> <code>        redeem a code for a customer (once; the same refusal for every unusable code)
  migrate                                   apply pending database migrations
access and settings
  api-key create <name> <scope,...>         create an API key (scopes: read, billing, admin, recordings); the key is printed once
  api-key revoke <id>                       revoke an API key
  api-key list                              list API keys (never their secrets)
routing
  carrier list | show <id> | remove <id>    carriers with their prefixes, trusted addresses and gateways
  carrier set <id> <name> [--tariff=ID|none] [--prefixes=P,...] [--addresses=CIDR,...] [--disabled]
                                            create or replace a carrier (prefixes and addresses replaced; gateways stay)
  gateway add <carrier id> <address> [--port=N] [--transport=udp|tcp] [--priority=N] [--weight=N]
              [--tech-prefix=P] [--auth-username=U] [--auth-password=P] [--disabled]
                                            add a gateway (the password is stored, never printed)
  gateway remove <gateway id>               remove a gateway
  access-number list | remove <+E164>       access numbers (the IVR's numbers)
  access-number set <+E164> [--language=xx] [--description=TEXT]
                                            create or replace an access number
  did list [--account=ID] | release <+E164> personal numbers
  did assign <+E164> <account id> [--username=U]
                                            assign a personal number to an account (and one of its SIP usernames)
  settings                                  list the environment variables the service reads`;

interface Ctx {
  config: Config;
  pool: pg.Pool;
  redis: RedisClient;
  store: BalanceStore;
  accounts: AccountProvisioning & Pick<PinCredentials, 'issuePin'> & Pick<CallerIds, 'addCli'>;
  out: (human: string, data: unknown) => void;
  /** Queues an account's welcome mail (as the API's account creation does); the API processes send it. */
  welcome: (accountId: number) => Promise<void>;
}

const E164 = /^\+[1-9]\d{6,14}$/;
/** Set from the configuration before any command runs (cliActor). */
let ACTOR = 'cli';

function loginName(): string {
  try {
    return userInfo().username;
  } catch {
    return `uid-${process.getuid?.() ?? 'unknown'}`; // no passwd entry (a container's arbitrary uid)
  }
}

function words(args: string[], count: number, names: string[]): string[] {
  if (args.length < count) throw new UsageError(`missing ${names.slice(args.length, count).join(', ')}`);
  if (args.length > names.length) throw new UsageError(`unexpected argument ${JSON.stringify(args[names.length])}`);
  return args;
}

/** Milliseconds as whole seconds, rounded up, e.g. "95 s". */
function formatSeconds(ms: number): string {
  return `${Math.ceil(ms / 1000)} s`;
}

async function accountCommands(ctx: Ctx, sub: string | undefined, rest: string[], opts: Map<string, string | true>): Promise<number> {
  const { accounts, store, out } = ctx;
  if (sub === 'create') {
    const o = new Options(opts, ['tariff', 'kind', 'max-calls', 'daily-cap', 'credit-floor', 'number', 'username']);
    const [customer, currency] = words(rest, 2, ['customer id', 'currency']);
    const kind = o.string('kind') ?? 'calling_account';
    if (kind !== 'calling_account' && kind !== 'chatpin') throw new UsageError('--kind must be calling_account or chatpin');
    const cap = o.string('daily-cap');
    const floor = o.string('credit-floor');
    const number = o.string('number');
    if (number !== undefined && !/^\d{4,20}$/.test(number)) throw new UsageError('--number must be 4-20 digits');
    const a = await accounts.createAccount({
      customerId: parseId(customer, 'customer id'),
      currency: currency!,
      kind: kind as AccountKind,
      tariffId: o.string('tariff') ?? null,
      maxConcurrentCalls: o.int('max-calls', 0, 1000),
      dailySpendCap: cap === undefined ? null : parseMajorAmount(cap, '--daily-cap', { allowZero: true }),
      creditFloor: floor === undefined ? 0 : parseMajorAmount(floor, '--credit-floor', { allowNegative: true, allowZero: true }),
      number,
      username: o.string('username') ?? null,
    });
    await new AuditLog(ctx.pool).write({ actor: ACTOR, action: 'account.create', customerId: a.customerId, accountId: a.id });
    // the welcome mail to a verified address: no password in it, a one-time link to choose one
    await ctx.welcome(a.id);
    out(
      `account ${a.id} (number ${a.number}) created for customer ${a.customerId}: ${a.currency}, tariff ${a.tariffId ?? 'none'}, at most ${a.maxConcurrentCalls} calls at once`,
      a,
    );
    return 0;
  }
  if (sub === 'show') {
    new Options(opts, []);
    const [id] = words(rest, 1, ['account id']);
    const a = await accounts.get(parseId(id, 'account id'));
    const live = await store.get(a.id);
    const calls = await new LiveCalls(store, ctx.redis, ctx.config.redisNamespace).list(a.id);
    await new AuditLog(ctx.pool).write({ actor: ACTOR, action: 'account.read', customerId: a.customerId, accountId: a.id });
    out(
      [
        `account ${a.id} (number ${a.number}), customer ${a.customerId}, ${a.status}, ${a.kind}, tariff ${a.tariffId ?? 'none'}`,
        `  live balance     ${live ? `${formatMicros(live.balance)} ${a.currency} (available ${formatMicros(live.available)}, reserved ${formatMicros(live.reserved)})` : 'not in Redis (run rebuild-balances)'}`,
        `  durable balance  ${formatMicros(a.balance)} ${a.currency} (Postgres; behind the live one by what the ledger writer has not written yet)`,
        `  limits           ${a.maxConcurrentCalls} calls at once, daily cap ${a.dailySpendCap === null ? 'none' : formatMicros(a.dailySpendCap)}, credit floor ${formatMicros(a.creditFloor)}`,
        `  calls now        ${calls.length}${calls.map((c) => `\n    ${c.callId}  ${c.answered ? 'answered' : 'setting up'}  reserved ${formatMicros(c.reserved)}`).join('')}`,
      ].join('\n'),
      { account: a, live: live ?? null, calls },
    );
    return 0;
  }
  if (sub === 'tariff') {
    new Options(opts, []);
    const [id, tariff] = words(rest, 2, ['account id', 'tariff id or none']);
    const tariffId = tariff === 'none' ? null : tariff!;
    const a = await accounts.updateAccount(parseId(id, 'account id'), { tariffId });
    await new AuditLog(ctx.pool).write({ actor: ACTOR, action: 'account.update', customerId: a.customerId, accountId: a.id });
    out(
      a.tariffId === null
        ? `account ${a.id} now has no tariff (its calls are refused: no rate)`
        : `account ${a.id} now rated by tariff ${a.tariffId} (${a.currency})`,
      a,
    );
    return 0;
  }
  throw new UsageError('account: create, show or tariff');
}

async function run(argv: string[], json: boolean): Promise<number> {
  const parsed = parseArgs(argv);
  const [command, ...rest] = parsed.words;
  const out = (human: string, data: unknown) => process.stdout.write(json ? `${JSON.stringify(data)}\n` : `${human}\n`);
  if (!command || command === 'help' || parsed.options.has('help')) {
    process.stdout.write(`${USAGE}\n`);
    return command || parsed.options.has('help') ? 0 : 2;
  }
  if (command === 'settings') {
    new Options(parsed.options, []);
    out(
      describeSettings()
        .map((s) => `${s.env.padEnd(34)} ${s.default ?? '(required)'}  ${s.doc}`)
        .join('\n'),
      describeSettings(),
    );
    return 0;
  }
  const known = [
    'customer',
    'account',
    'pin',
    'topup',
    'caller-id',
    'calls',
    'ivr-sessions',
    'migrate',
    'reconcile',
    'rebuild-balances',
    'import-tariff',
    'export-tariff',
    'api-key',
    'retention',
    'auto-topup',
    'voucher',
    'carrier',
    'gateway',
    'access-number',
    'did',
  ];
  if (!known.includes(command)) throw new UsageError(`unknown command ${command}`);

  const config = loadConfig();
  ACTOR = cliActor({ operator: config.cliOperator, sudoUser: config.sudoUser, login: loginName() });
  const log = createLogger(json ? 'silent' : 'warn');
  const pool = createPool(config.databaseUrl, config.databaseSchema, 4);
  pool.on('error', () => {
    /* reported by the failing query */
  });
  const redis = createRedis(config, 'softswitch-cli');
  redis.on('error', () => {
    /* reported by the failing command */
  });
  const store = new BalanceStore(redis, { namespace: config.redisNamespace, shards: config.redisShards });
  const accounts = new AccountService(pool, store, config.pinPepper, { pinLength: config.pinLength, defaultCountry: config.defaultAccountCountry });
  const notify = notifier(new ChangeNotices(redis, config.redisNamespace), (err, topic) =>
    log.warn({ err: err.message, topic }, 'change notice not published: SIP processes see the change when their cache expires'),
  );
  const mail = mailSettingsOf(config);
  const notices = new AccountNotices(pool, new Mailer(new MailOutbox(pool, mail.retry), { linkBaseUrl: mail.linkBaseUrl }), log.child({ component: 'mail' }));
  const welcome = async (accountId: number) => {
    const accessNumbers = (await new RoutingData(pool, accounts, notify).accessNumbers()).map((n) => n.number);
    await notices.welcome(accountId, accessNumbers, (sentTo) => new PasswordLinks(pool, accounts).issue(accountId, sentTo), { verifiedOnly: true });
  };
  const ctx: Ctx = { config, pool, redis, store, accounts, out, welcome };
  const routingCtx = () => ({ routing: new RoutingData(pool, accounts, notify), audit: new AuditLog(pool), actor: ACTOR, out });
  const [sub, ...args] = rest;
  try {
    switch (command) {
      case 'customer': {
        if (sub === 'email-code') {
          // a verification code for the customer's pending or unverified address, to e-mail to it
          // by hand until the mail path sends codes itself (docs/privacy.md); printed once, never logged
          new Options(parsed.options, []);
          const [id] = words(args, 1, ['customerId']);
          if (!/^[1-9][0-9]{0,17}$/.test(id!)) throw new UsageError('customerId must be a positive integer');
          const issued = await new EmailVerification(pool).issue(Number(id), ACTOR);
          await new AuditLog(pool).write({ actor: ACTOR, action: 'email.verification_issued', customerId: Number(id) });
          out(`verification code for ${issued.email}: ${issued.token}\nvalid until ${issued.expiresAt.toISOString()}; e-mail it to that address only`, issued);
          return 0;
        }
        if (sub !== 'create') throw new UsageError('customer: create or email-code');
        const o = new Options(parsed.options, ['email', 'phone', 'country']);
        const [name] = words(args, 1, ['name']);
        const country = o.string('country');
        if (country !== undefined && !/^[A-Z]{2}$/.test(country)) throw new UsageError('--country must be an ISO 3166 code such as GB');
        const id = await accounts.createCustomer({
          name: name!,
          email: o.string('email') ?? null,
          phoneNumbers: o.string('phone')?.split(',') ?? [],
          country: country ?? null,
        });
        await new AuditLog(pool).write({ actor: ACTOR, action: 'customer.create', customerId: id });
        out(`customer ${id} created`, { customerId: id });
        return 0;
      }
      case 'account':
        return await accountCommands(ctx, sub, args, parsed.options);
      case 'carrier':
        return await carrierCommands(routingCtx(), sub, args, parsed.options);
      case 'gateway':
        return await gatewayCommands(routingCtx(), sub, args, parsed.options);
      case 'access-number':
        return await accessNumberCommands(routingCtx(), sub, args, parsed.options);
      case 'did':
        return await didCommands(routingCtx(), sub, args, parsed.options);
      case 'pin': {
        if (sub !== 'issue') throw new UsageError('pin: issue');
        new Options(parsed.options, []);
        const [id] = words(args, 1, ['account id']);
        const accountId = parseId(id, 'account id');
        const pin = await accounts.issuePin(accountId);
        await new AuditLog(pool).write({ actor: ACTOR, action: 'pin.issue', accountId });
        out(`PIN for account ${accountId} (shown only now; the previous PIN no longer works):\n${pin}`, { accountId, pin });
        return 0;
      }
      case 'topup': {
        const o = new Options(parsed.options, ['key', 'reference']);
        const [id, amountText] = words(sub === undefined ? [] : [sub, ...args], 2, ['account id', 'amount']);
        const accountId = parseId(id, 'account id');
        const amount = parseMajorAmount(amountText, 'amount');
        const key = o.string('key');
        if (key === undefined) throw new UsageError('--key=KEY is required: a top-up is credited once per key, so a repeated command cannot credit twice');
        if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(key)) throw new UsageError('--key must be 1-64 of [A-Za-z0-9_.:-]');
        const reference = o.string('reference') ?? '';
        if (reference.length > 128 || /\s/.test(reference)) throw new UsageError('--reference must be at most 128 characters without spaces');
        if (containsCardNumber(reference) || containsCardNumber(key))
          throw new UsageError(cardNumberRefusal(containsCardNumber(key) ? '--key' : '--reference'));
        const a = await accounts.get(accountId);
        const r = await store.topUp(accountId, `cli-${accountId}-${key}`, amount, 'operator', reference);
        if (!r.ok)
          throw new AppError(
            r.reason === 'account_closed' ? 'ACCOUNT_CLOSED' : r.reason === 'unknown_account' ? 'UNKNOWN_ACCOUNT' : 'IDEMPOTENCY_CONFLICT',
            r.reason === 'idempotency_conflict' ? `key ${key} was already used for a different amount` : undefined,
          );
        if (!r.duplicate) await new AuditLog(pool).write({ actor: ACTOR, action: 'topup', customerId: a.customerId, accountId, detail: { amount } });
        out(
          r.duplicate
            ? `top-up ${key} was already credited; nothing changed. Balance ${formatMicros(r.balanceAfter)} ${a.currency}`
            : `${formatMicros(amount)} ${a.currency} credited to account ${accountId}; balance ${formatMicros(r.balanceAfter)} ${a.currency}`,
          { accountId, amount, currency: a.currency, balanceAfter: r.balanceAfter, key, replayed: r.duplicate },
        );
        return 0;
      }
      case 'caller-id': {
        if (sub !== 'add') throw new UsageError('caller-id: add');
        const o = new Options(parsed.options, ['verified']);
        const [id, cli] = words(args, 2, ['account id', 'caller ID']);
        if (!E164.test(cli!)) throw new AppError('INVALID_CLI', `${cli} is not an E.164 number (+ and 7 to 15 digits)`);
        const accountId = parseId(id, 'account id');
        const verified = o.flag('verified');
        await accounts.addCli(accountId, cli!, verified);
        await new AuditLog(pool).write({ actor: ACTOR, action: 'cli.add', accountId, detail: { verified } });
        out(`caller ID ${cli} registered to account ${accountId}${verified ? ' (verified)' : ''}`, { accountId, cli, verified });
        return 0;
      }
      case 'calls': {
        const liveCalls = new LiveCalls(store, redis, config.redisNamespace);
        const o = new Options(parsed.options, ['account']);
        const accountId = o.int('account', 1);
        if (sub === 'list') {
          words(args, 0, []);
          const calls = await liveCalls.list(accountId);
          out(
            calls.length === 0
              ? 'no calls in progress'
              : calls
                  .map(
                    (c) =>
                      `${c.callId}  account ${c.accountId ?? '-'}  ${c.answered ? 'answered  ' : 'setting up'}  reserved ${formatMicros(c.reserved)}  since ${c.startedAt ?? '?'}  until ${c.reservedUntil ?? '?'}`,
                  )
                  .join('\n'),
            calls,
          );
          return 0;
        }
        if (sub === 'hangup') {
          const [callId] = words(args, 1, ['call id']);
          const matches = (await liveCalls.list(accountId)).filter((c) => c.callId === callId);
          if (matches.length === 0) throw new AppError('UNKNOWN_CALL', `no call ${callId} in progress${accountId ? ` on account ${accountId}` : ''}`);
          if (matches.length > 1)
            throw new UsageError(`call id ${callId} is in progress on accounts ${matches.map((m) => m.accountId).join(', ')}: give --account=ID`);
          const call = matches[0]!;
          const receivers = await liveCalls.hangup(call, ACTOR);
          await new AuditLog(pool).write({ actor: ACTOR, action: 'call.hangup', accountId: call.accountId });
          if (receivers === 0) {
            process.stderr.write(
              json
                ? `${JSON.stringify({ error: { code: 'NO_SIP_APPLICATION', message: 'no SIP application process is listening for commands; the call was not hung up' } })}\n`
                : 'error: no SIP application process is listening for commands; the call was not hung up (the sweeper settles it once its reservation lapses)\n',
            );
            return 1;
          }
          out(`hang-up of ${callId} sent to ${receivers} SIP application process${receivers === 1 ? '' : 'es'}; the one holding the call ends and settles it`, {
            callId,
            accountId: call.accountId,
            receivers,
          });
          return 0;
        }
        throw new UsageError('calls: list or hangup');
      }
      case 'ivr-sessions': {
        const o = new Options(parsed.options, ['from', 'to', 'access-number', 'account', 'limit', 'totals']);
        words(rest, 0, []);
        const instant = (name: string): Date | undefined => {
          const v = o.string(name);
          if (v === undefined) return undefined;
          const d = new Date(v);
          if (!/^\d{4}-\d{2}-\d{2}/.test(v) || Number.isNaN(d.getTime())) throw new UsageError(`--${name} must be an ISO-8601 date or time`);
          return d;
        };
        const accessNumber = o.string('access-number');
        if (accessNumber !== undefined && !E164.test(accessNumber)) throw new UsageError('--access-number must be E.164 (+ and 7 to 15 digits)');
        const from = instant('from'),
          to = instant('to'),
          accountId = o.int('account', 1);
        const filter = { ...(from ? { from } : {}), ...(to ? { to } : {}), ...(accessNumber ? { accessNumber } : {}), ...(accountId ? { accountId } : {}) };
        const records = new IvrSessionRecords(pool);
        if (o.flag('totals')) {
          const totals = await records.totals(filter);
          out(
            totals.length === 0
              ? 'no access-number sessions'
              : totals
                  .map(
                    (t) =>
                      `${t.accessNumber}  carrier ${t.carrier ?? '-'}  ${t.sessions} sessions  ${formatSeconds(t.durationMs)} on the access leg  ${t.withoutCalls} without a call`,
                  )
                  .join('\n'),
            totals,
          );
          return 0;
        }
        const rows = await records.list({ ...filter, limit: o.int('limit', 1, 10_000) ?? 50 });
        await new AuditLog(pool).writeMany(
          ACTOR,
          'ivr_session.list',
          [...new Set(rows.map((r) => r.accountId))].map((a) => ({ customerId: null, accountId: a })),
          { records: rows.length },
        );
        out(
          rows.length === 0
            ? 'no access-number sessions'
            : rows
                .map(
                  (r) =>
                    `${r.startTime.toISOString()}  ${r.accessNumber}  from ${r.cli ?? 'withheld'}  ${formatSeconds(r.durationMs)}  ${r.outcome}  account ${r.accountId ?? '-'}  calls ${r.calls}  PINs ${r.pinAttempts}  ${r.callId}`,
                )
                .join('\n'),
          rows,
        );
        return 0;
      }
      case 'migrate': {
        new Options(parsed.options, []);
        const applied = await migrate(pool, config.databaseSchema);
        out(applied.length ? `applied: ${applied.join(', ')}` : 'up to date', { applied });
        return 0;
      }
      case 'reconcile': {
        new Options(parsed.options, []);
        const writerRedis = createRedis(config, 'softswitch-cli-ledger');
        writerRedis.on('error', () => {
          /* reported by the failing command */
        });
        const writer = new LedgerWriter(writerRedis, new PostgresLedgerSink(pool), {
          streams: store.keys.allStreams(),
          deadLetterStream: store.keys.deadLetters(),
          consumer: 'reconcile',
          logger: log,
        });
        let written: number;
        try {
          written = await writer.drain();
        } finally {
          writerRedis.disconnect();
        }
        const r = await reconcile(pool, redis, store);
        out(
          r.differences.length === 0
            ? `${r.checked} accounts checked, ${written} pending events written first; Redis and Postgres agree`
            : `${r.differences.length} of ${r.checked} accounts differ:\n${r.differences.map((d) => `  account ${d.accountId}: redis ${d.redis} postgres ${d.postgres} unwritten ${d.unwritten}`).join('\n')}`,
          { ...r, written },
        );
        return r.differences.length === 0 ? 0 : 1;
      }
      case 'rebuild-balances': {
        new Options(parsed.options, []);
        const n = await rebuildBalances(pool, redis, store);
        out(`${n} accounts rebuilt`, { rebuilt: n });
        return 0;
      }
      case 'import-tariff': {
        new Options(parsed.options, []);
        const [id, name, currency, file] = words(rest, 4, ['tariff id', 'name', 'currency', 'file']);
        let csv: string;
        try {
          csv = await readFile(file!, 'utf8');
        } catch (err) {
          throw new UsageError(`cannot read ${file}: ${(err as Error).message}`);
        }
        const r = await new TariffRepository(pool, undefined, { maxCallSeconds: ctx.config.maxCallSeconds, notify }).importCsv(id!, name!, currency!, csv);
        if ('errors' in r) {
          if (json) process.stdout.write(`${JSON.stringify(r)}\n`);
          else process.stderr.write(`${r.errors.map((e) => `line ${e.line}, column ${e.column}: ${e.message}`).join('\n')}\nnothing was imported\n`);
          return 1;
        }
        out(`${r.imported} rates imported into tariff ${id}`, r);
        return 0;
      }
      case 'export-tariff': {
        new Options(parsed.options, []);
        const [id] = words(rest, 1, ['tariff id']);
        process.stdout.write(await new TariffRepository(pool).exportCsv(id!));
        return 0;
      }
      case 'api-key': {
        new Options(parsed.options, []);
        const keys = new ApiKeyStore(pool);
        if (sub === 'create') {
          const [name, scopes] = words(args, 2, ['name', 'scopes']);
          const list = scopes!.split(',');
          const bad = list.filter((s) => !['read', 'billing', 'admin', 'recordings'].includes(s));
          if (bad.length) throw new UsageError(`unknown scope ${bad.join(', ')} (scopes: read, billing, admin, recordings)`);
          const { key, info } = await keys.create(name!, list as Scope[], ACTOR);
          out(`API key ${info.id} (${info.scopes.join(', ')}) created; it is shown only now:\n${key}`, { key, ...info });
          return 0;
        }
        if (sub === 'revoke') {
          const [id] = words(args, 1, ['key id']);
          const info = await keys.revoke(id!);
          out(`API key ${info.id} revoked at ${info.revokedAt?.toISOString()}`, info);
          return 0;
        }
        if (sub === 'list') {
          words(args, 0, []);
          const all = await keys.list();
          out(
            all
              .map((k) => `${k.id}  ${k.name.padEnd(24)} ${k.scopes.join(',').padEnd(18)} ${k.revokedAt ? `revoked ${k.revokedAt.toISOString()}` : 'active'}`)
              .join('\n'),
            all,
          );
          return 0;
        }
        throw new UsageError('api-key: create, revoke or list');
      }
      case 'retention': {
        const o = new Options(parsed.options, ['now']);
        const jobs: string[] = rest.length ? rest : [...RETENTION_JOBS];
        const nowArg = o.string('now');
        const now = nowArg ? new Date(nowArg) : new Date();
        if (Number.isNaN(now.getTime())) throw new UsageError('--now must be an ISO date-time');
        const unknown = jobs.filter((j) => !(RETENTION_JOBS as readonly string[]).includes(j));
        if (unknown.length) throw new UsageError(`unknown retention job ${unknown.join(', ')} (jobs: ${RETENTION_JOBS.join(', ')})`);
        const registrations = new BindingStore(redis, { namespace: config.redisNamespace, now: () => Date.now() });
        const recordingStore = new DirectoryRecordingStore(config.recordingsDir);
        const r = await runRetention(
          { pool, log, accounts, balances: store, policy: retentionPolicyOf(config), registrations, recordingStore },
          now,
          jobs,
          ACTOR,
        );
        out(
          [
            `call-record partitions dropped: ${r.droppedPartitions.join(', ') || 'none'}; records deleted from the oldest month: ${r.cdrRowsDeleted}`,
            `closed customers erased: ${r.erasedCustomers.length}`,
            `late call records of erased customers unlinked: ${r.lateCallRecordsUnlinked}`,
            `call recordings deleted: ${r.recordingsDeleted}`,
            `payment references dropped: ${r.paymentReferences.topUps} top-ups, ${r.paymentReferences.tokens} saved tokens`,
            `access-number session records deleted: ${r.ivrSessionsDeleted}; ledger call entries unnamed: ${r.ledgerCallsUnnamed}; ledger entries folded: ${r.ledgerEntriesFolded}`,
            `audit-log entries deleted: ${r.auditEntriesDeleted}; consent events deleted: ${r.consentEventsDeleted}; mails deleted: ${r.mailsDeleted}`,
          ].join('\n'),
          r,
        );
        return 0;
      }
      case 'voucher':
        return await voucherCommands(
          {
            vouchers: new Vouchers(pool, store, voucherKeyOf(config.pinPepper)),
            accounts,
            audit: new AuditLog(pool),
            actor: ACTOR,
            out,
            write: (t) => process.stdout.write(t),
            json,
          },
          sub,
          args,
          parsed.options,
        );
      case 'auto-topup': {
        new Options(parsed.options, []);
        const r = await new AutoTopUp(pool, store, paymentProviderFor(config), autoTopUpLimitsOf(config), log).run();
        out(`${r.checked} accounts checked, ${r.charged} charged, ${r.failed} failed`, r);
        return r.failed ? 1 : 0;
      }
      default:
        throw new UsageError(`unknown command ${command}`);
    }
  } finally {
    redis.disconnect();
    await pool.end();
  }
}

/** A failure as the operator reads it, and its exit code. */
function describeFailure(err: unknown): { code: string; message: string; exit: number } {
  if (err instanceof UsageError) return { code: 'USAGE', message: err.message, exit: 2 };
  if (err instanceof ConfigError) return { code: 'CONFIGURATION', message: err.message, exit: 2 };
  if (err instanceof AppError) return { code: err.code, message: err.message, exit: 1 };
  const e = err as { code?: string; message?: string; address?: string; port?: number };
  if (
    e.code === 'ECONNREFUSED' ||
    e.code === 'ETIMEDOUT' ||
    e.code === 'ENOTFOUND' ||
    /Connection is closed|max retries|Reached the max retries|Too many Cluster redirections|Failed to refresh slots cache|^CLUSTERDOWN /i.test(e.message ?? '')
  ) {
    return { code: 'UNAVAILABLE', message: `a dependency is not reachable (${e.message ?? e.code}); check REDIS_URL and DATABASE_URL`, exit: 1 };
  }
  if (err instanceof RangeError) return { code: 'VALIDATION_FAILED', message: err.message, exit: 1 };
  return { code: 'INTERNAL', message: e.message ?? String(err), exit: 1 };
}

const argv = process.argv.slice(2);
const json = argv.includes('--json');
run(argv, json).then(
  (code) => process.exit(code),
  (err: unknown) => {
    const f = describeFailure(err);
    if (json) process.stderr.write(`${JSON.stringify({ error: { code: f.code, message: f.message } })}\n`);
    else
      process.stderr.write(
        `error: ${f.code === 'USAGE' || f.code === 'CONFIGURATION' || f.code === 'UNAVAILABLE' || f.code === 'INTERNAL' ? '' : `${f.code}: `}${f.message}\n${f.code === 'USAGE' ? 'run softswitch help for the commands\n' : ''}`,
      );
    process.exit(f.exit);
  },
);
