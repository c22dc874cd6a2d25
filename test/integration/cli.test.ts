// The operator CLI run as an operator runs it (node --import tsx src/cli/main.ts), against this
// file's own Postgres schema and Redis namespace: outputs, --json, error messages and exit codes.
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { AccountService } from '../../src/accounts/account-service.ts';
import { BalanceStore } from '../../src/billing/balance/balance-store.ts';
import { parseSipCommand, sipCommandsChannel } from '../../src/sip/sip-commands.ts';
import { cliEnvironment, runCli, type CliRun } from '../support/cli-process.ts';
import { deleteNamespace } from '../support/redis-namespace.ts';
import { setupServices, TEST_PEPPER, TEST_REDIS_URL } from '../support/services.ts';
import type { TestServices } from '../support/services.ts';

let s: TestServices;
let ns = '';
let store: BalanceStore;
let env: NodeJS.ProcessEnv;

type Run = CliRun;
const cli = (args: string[], extraEnv: Record<string, string> = {}): Promise<Run> => runCli(env, args, extraEnv);
const errorOf = (r: Run) => (JSON.parse(r.stderr) as { error: { code: string; message: string } }).error;

beforeAll(async () => {
  s = await setupServices('cli', { shards: 4 });
  ({ env, namespace: ns } = cliEnvironment(s));
  store = new BalanceStore(s.redis, { namespace: ns, shards: 4 });
}, 60_000);

afterAll(async () => {
  if (!s) return;
  await deleteNamespace(s.redis, ns);
  await s.teardown();
});

// Each command is a fresh Node process compiling TypeScript (tsx): a second or two alone, ten on a
// loaded 2-core machine; a test running seven of them needs more than the default 30 s.
describe('operator CLI', { timeout: 180_000 }, () => {
  let customerId = 0;
  let accountId = 0;
  let otherAccountId = 0;

  it('creates a customer and two accounts (--json and human output)', async () => {
    const c = await cli(['customer', 'create', 'Example Customer Ltd', '--email=billing@example.com', '--phone=+447700900001', '--json']);
    expect(c.code, c.stderr).toBe(0);
    customerId = (c.json() as { customerId: number }).customerId;
    expect(customerId).toBeGreaterThan(0);

    const [a, b] = await Promise.all([
      cli(['account', 'create', String(customerId), 'GBP', '--max-calls=3', '--daily-cap=20.50', '--json']),
      cli(['account', 'create', String(customerId), 'GBP']),
    ]);
    expect(a.code, a.stderr).toBe(0);
    const acct = a.json() as { id: number; maxConcurrentCalls: number; dailySpendCap: number; currency: string };
    expect(acct).toMatchObject({ maxConcurrentCalls: 3, dailySpendCap: 20_500_000, currency: 'GBP' });
    accountId = acct.id;
    expect(b.code, b.stderr).toBe(0);
    const m = /^account (\d+) \(number \d+\) created for customer (\d+)/.exec(b.stdout);
    expect(m?.[2]).toBe(String(customerId));
    otherAccountId = Number(m![1]);
    // the live store knows the account's limits at once
    expect((await store.get(accountId))?.balance).toBe(0);
  });

  it('issues an e-mail verification code for the unverified address, once, audited with the operator', async () => {
    const r = await cli(['customer', 'email-code', String(customerId), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const issued = r.json() as { email: string; token: string };
    expect(issued.email).toBe('billing@example.com');
    expect(issued.token).toMatch(/^ev_/);
    const { rows } = await s.pool.query('select token_hash from email_verifications where customer_id = $1', [customerId]);
    expect(rows[0].token_hash).not.toContain(issued.token);
    const audit = await s.pool.query("select actor from audit_log where action = 'email.verification_issued' and subject_customer_id = $1", [customerId]);
    expect(audit.rows.map((x) => x.actor)).toEqual(['cli:ops-test']);
  });

  it('issues a PIN that finds the account, shown once', async () => {
    const r = await cli(['pin', 'issue', String(accountId), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const { pin } = r.json() as { pin: string };
    expect(pin).toMatch(/^\d{6,12}$/);
    const accounts = new AccountService(s.pool, store, TEST_PEPPER);
    expect(await accounts.findAccountByPin(pin)).toBe(accountId);
    const chosen = await cli(['pin', 'issue', String(accountId), '--pin=73920184', '--json']); // PINs are never chosen (docs/security.md)
    expect(chosen.code).toBe(2);
    expect(await accounts.findAccountByPin(pin)).toBe(accountId);
  });

  it('tops up exactly once per key, in the account currency, with integer micro-units', async () => {
    const first = await cli(['topup', String(accountId), '5.25', '--key=order-1', '--json']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.json()).toMatchObject({ amount: 5_250_000, balanceAfter: 5_250_000, replayed: false, currency: 'GBP' });
    const again = await cli(['topup', String(accountId), '5.25', '--key=order-1']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('already credited; nothing changed');
    const [conflict, noKey, badAmount, unknown] = await Promise.all([
      cli(['topup', String(accountId), '6', '--key=order-1', '--json']),
      cli(['topup', String(accountId), '5']),
      cli(['topup', String(accountId), '1.2345678', '--key=x']),
      cli(['topup', '999999', '1', '--key=x', '--json']),
    ]);
    expect(conflict.code).toBe(1);
    expect(errorOf(conflict).code).toBe('IDEMPOTENCY_CONFLICT');
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain('--key=KEY is required');
    expect(badAmount.code).toBe(2);
    expect(badAmount.stderr).toContain('at most 6 decimals');
    expect(unknown.code).toBe(1);
    expect(errorOf(unknown).code).toBe('UNKNOWN_ACCOUNT');
    expect((await store.get(accountId))?.balance).toBe(5_250_000);
  });

  it('registers a caller ID once across accounts', async () => {
    const ok = await cli(['caller-id', 'add', String(accountId), '+447700900123', '--verified']);
    expect(ok.code, ok.stderr).toBe(0);
    const [taken, invalid] = await Promise.all([
      cli(['caller-id', 'add', String(otherAccountId), '+447700900123', '--json']),
      cli(['caller-id', 'add', String(accountId), '07700900123']),
    ]);
    expect(taken.code).toBe(1);
    expect(errorOf(taken).code).toBe('CLI_TAKEN');
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(/^error: INVALID_CLI: 07700900123 is not an E\.164 number/);
    const { rows } = await s.pool.query('select account_id, verified_at from authorised_clis where cli = $1', ['+447700900123']);
    expect(rows).toHaveLength(1);
    expect(Number(rows[0].account_id)).toBe(accountId);
    expect(rows[0].verified_at).not.toBeNull();
  });

  it('lists live calls, shows the account, and publishes a hang-up to the SIP applications', async () => {
    const deadline = Date.now() + 60_000;
    const r = await store.reserve(accountId, 'cli-call-1@test', 1000, 100_000, deadline);
    expect(r.ok).toBe(true);
    const sub = new Redis(TEST_REDIS_URL);
    const received: string[] = [];
    sub.on('message', (_ch: string, m: string) => received.push(m));
    await sub.subscribe(sipCommandsChannel(ns));
    try {
      const [list, show] = await Promise.all([cli(['calls', 'list', '--json']), cli(['account', 'show', String(accountId)])]);
      expect(list.code, list.stderr).toBe(0);
      const calls = list.json() as { callId: string; accountId: number; answered: boolean; reserved: number }[];
      expect(calls).toEqual([expect.objectContaining({ callId: 'cli-call-1@test', accountId, answered: false })]);
      expect(calls[0]!.reserved).toBeGreaterThan(0);
      expect(show.code, show.stderr).toBe(0);
      expect(show.stdout).toContain('live balance     5.25 GBP');
      expect(show.stdout).toContain('calls now        1');
      expect(show.stdout).toContain('cli-call-1@test');

      const hang = await cli(['calls', 'hangup', 'cli-call-1@test', '--json']);
      expect(hang.code, hang.stderr).toBe(0);
      expect(hang.json()).toEqual({ callId: 'cli-call-1@test', accountId, receivers: 1 });
      await expect.poll(() => received.length).toBe(1);
      expect(parseSipCommand(received[0]!)).toMatchObject({ op: 'hangup', callId: 'cli-call-1@test', accountId, requestedBy: 'cli:ops-test' });
    } finally {
      sub.disconnect();
    }
    // nobody listening: the operator is told the call was not hung up
    const [unheard, unknown] = await Promise.all([cli(['calls', 'hangup', 'cli-call-1@test']), cli(['calls', 'hangup', 'no-such-call', '--json'])]);
    expect(unheard.code).toBe(1);
    expect(unheard.stderr).toContain('no SIP application process is listening');
    expect(unknown.code).toBe(1);
    expect(errorOf(unknown).code).toBe('UNKNOWN_CALL');
    await store.release(accountId, 'cli-call-1@test');
  });

  it('imports a tariff all or nothing and reports the bad line', async () => {
    const dir = tmpdir();
    const bad = path.join(dir, `cli-test-${process.pid}-bad.csv`);
    await writeFile(bad, 'prefix,price_per_minute\n44,abc\n');
    const r = await cli(['import-tariff', 'T-CLI', 'Test', 'GBP', bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/line \d+.*\nnothing was imported/s);
    const missing = await cli(['import-tariff', 'T-CLI', 'Test', 'GBP', path.join(dir, 'does-not-exist.csv')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot read');
  });

  it("sets an account's tariff only in the account's currency, and refuses a currency change of a tariff in use", async () => {
    const dir = tmpdir();
    const file = path.join(dir, `cli-test-${process.pid}-good.csv`);
    await writeFile(
      file,
      'prefix,description,price_per_minute,connection_fee,minimum_seconds,initial_increment,subsequent_increment,effective_from,effective_until,connection_fee_policy\n44,UK,0.6,0,0,60,60,2026-01-01T00:00:00.000Z,,answered\n',
    );
    expect((await cli(['import-tariff', 'T-GBP', 'Sterling', 'GBP', file])).code).toBe(0);
    expect((await cli(['import-tariff', 'T-EUR', 'Euro', 'EUR', file])).code).toBe(0);
    const wrong = await cli(['account', 'tariff', String(accountId), 'T-EUR', '--json']);
    expect(wrong.code).toBe(1);
    expect(errorOf(wrong)).toEqual({ code: 'TARIFF_CURRENCY_MISMATCH', message: `tariff T-EUR is priced in EUR; account ${accountId} is in GBP` });
    const right = await cli(['account', 'tariff', String(accountId), 'T-GBP']);
    expect(right.code, right.stderr).toBe(0);
    expect(right.stdout).toBe(`account ${accountId} now rated by tariff T-GBP (GBP)\n`);
    const change = await cli(['import-tariff', 'T-GBP', 'Sterling', 'EUR', file]);
    expect(change.code).toBe(1);
    expect(change.stderr).toContain('tariff T-GBP is priced in GBP and 1 account uses it; it cannot be re-imported in EUR');
    const none = await cli(['account', 'tariff', String(accountId), 'none']);
    expect(none.stdout).toBe(`account ${accountId} now has no tariff (its calls are refused: no rate)\n`);
  });

  it('manages carriers and their gateways without SQL: create, show, list, remove; a gateway password is never printed', async () => {
    const set = await cli(['carrier', 'set', 'cli-carrier', 'Example Carrier', '--prefixes=44,33', '--addresses=192.0.2.10/32', '--json']);
    expect(set.code, set.stderr).toBe(0);
    expect(set.json()).toEqual({
      id: 'cli-carrier',
      name: 'Example Carrier',
      tariffId: null,
      enabled: true,
      prefixes: ['33', '44'],
      addresses: ['192.0.2.10/32'],
      gateways: [],
    });
    const gw = await cli([
      'gateway',
      'add',
      'cli-carrier',
      'gw1.example.net',
      '--port=5080',
      '--transport=tcp',
      '--priority=5',
      '--auth-username=trunk',
      '--auth-password=s3cret-pw',
      '--json',
    ]);
    expect(gw.code, gw.stderr).toBe(0);
    expect(gw.stdout).not.toContain('s3cret-pw');
    const gateway = gw.json() as { id: number };
    expect(gateway).toMatchObject({
      carrierId: 'cli-carrier',
      address: 'gw1.example.net',
      port: 5080,
      transport: 'tcp',
      priority: 5,
      weight: 100,
      enabled: true,
      authUsername: 'trunk',
      hasAuthPassword: true,
    });
    const [show, list, noCarrier, badTransport, badPrefix] = await Promise.all([
      cli(['carrier', 'show', 'cli-carrier']),
      cli(['carrier', 'list', '--json']),
      cli(['gateway', 'add', 'no-such-carrier', 'gw2.example.net', '--json']),
      cli(['gateway', 'add', 'cli-carrier', 'gw2.example.net', '--transport=sctp']),
      cli(['carrier', 'set', 'cli-carrier', 'Example Carrier', '--prefixes=4a']),
    ]);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toContain('carrier cli-carrier (Example Carrier), enabled, tariff none');
    expect(show.stdout).toContain(`gateway ${gateway.id}  gw1.example.net:5080 tcp  priority 5 weight 100  auth trunk`);
    expect(show.stdout).not.toContain('s3cret-pw');
    expect((list.json() as { id: string }[]).map((c) => c.id)).toContain('cli-carrier');
    expect(noCarrier.code).toBe(1);
    expect(errorOf(noCarrier).code).toBe('UNKNOWN_CARRIER');
    expect(badTransport.code).toBe(2);
    expect(badTransport.stderr).toContain('--transport must be udp or tcp');
    expect(badPrefix.code).toBe(2);
    const { rows } = await s.pool.query('select auth_password from gateways where id = $1', [gateway.id]);
    expect(rows[0].auth_password).toBe('s3cret-pw');

    const rmGw = await cli(['gateway', 'remove', String(gateway.id)]);
    expect(rmGw.code, rmGw.stderr).toBe(0);
    const rm = await cli(['carrier', 'remove', 'cli-carrier']);
    expect(rm.code, rm.stderr).toBe(0);
    const [gone, gwGone] = await Promise.all([cli(['carrier', 'show', 'cli-carrier', '--json']), cli(['gateway', 'remove', String(gateway.id), '--json'])]);
    expect(gone.code).toBe(1);
    expect(errorOf(gone).code).toBe('UNKNOWN_CARRIER');
    expect(errorOf(gwGone).code).toBe('UNKNOWN_GATEWAY');
  });

  it('manages access numbers and personal numbers (DIDs) without SQL', async () => {
    const an = await cli(['access-number', 'set', '+442079460000', '--language=fr', '--description=London local', '--json']);
    expect(an.code, an.stderr).toBe(0);
    expect(an.json()).toEqual({ number: '+442079460000', language: 'fr', description: 'London local' });
    const anList = await cli(['access-number', 'list']);
    expect(anList.stdout).toContain('+442079460000  fr  London local');
    const badNumber = await cli(['access-number', 'set', '02079460000']);
    expect(badNumber.code).toBe(2);

    const did = await cli(['did', 'assign', '+447700900555', String(accountId), '--username=alice.desk', '--json']);
    expect(did.code, did.stderr).toBe(0);
    expect(did.json()).toMatchObject({ number: '+447700900555', accountId, sipUsername: 'alice.desk' });
    const [dids, unknownAccount] = await Promise.all([
      cli(['did', 'list', `--account=${accountId}`]),
      cli(['did', 'assign', '+447700900556', '999999', '--json']),
    ]);
    expect(dids.stdout).toContain(`+447700900555  account ${accountId}  alice.desk`);
    expect(errorOf(unknownAccount).code).toBe('UNKNOWN_ACCOUNT');
    const { rows: audit } = await s.pool.query("select actor from audit_log where action = 'did.assign' and subject_account_id = $1", [accountId]);
    expect(audit.map((r) => r.actor)).toContain('cli:ops-test'); // the operator, not just "cli"

    expect((await cli(['did', 'release', '+447700900555'])).code).toBe(0);
    expect((await cli(['access-number', 'remove', '+442079460000'])).code).toBe(0);
    const [again, anAgain] = await Promise.all([
      cli(['did', 'release', '+447700900555', '--json']),
      cli(['access-number', 'remove', '+442079460000', '--json']),
    ]);
    expect(errorOf(again).code).toBe('UNKNOWN_NUMBER');
    expect(errorOf(anAgain).code).toBe('UNKNOWN_NUMBER');
  });

  it('refuses bad usage and bad configuration with exit code 2 and says why', async () => {
    const [unknownCommand, unknownOption, missingArg, badConfig, help] = await Promise.all([
      cli(['frobnicate']),
      cli(['calls', 'list', '--acount=1']),
      cli(['account', 'create', '12']),
      cli(['account', 'show', '1'], { PIN_PEPPER: 'short' }),
      cli(['help']),
    ]);
    expect(unknownCommand.code).toBe(2);
    expect(unknownCommand.stderr).toContain('unknown command frobnicate');
    expect(unknownOption.code).toBe(2);
    expect(unknownOption.stderr).toContain('unknown option --acount (this command takes --account)');
    expect(missingArg.code).toBe(2);
    expect(missingArg.stderr).toContain('missing currency');
    expect(badConfig.code).toBe(2);
    expect(badConfig.stderr).toContain('PIN_PEPPER must be at least 32 characters');
    expect(help.code).toBe(0);
    for (const c of [
      'customer create',
      'account create',
      'pin issue',
      'topup',
      'caller-id add',
      'import-tariff',
      'calls list',
      'calls hangup',
      'rebuild-balances',
      'reconcile',
      'retention',
      'api-key create',
      'api-key revoke',
      'carrier set',
      'gateway add',
      'access-number set',
      'did assign',
    ])
      expect(help.stdout).toContain(c);
  });

  it('reports an unreachable Redis as a failure (exit 1), not a hang', async () => {
    const r = await cli(['calls', 'list', '--json'], { REDIS_URL: 'redis://127.0.0.1:1' });
    expect(r.code).toBe(1);
    expect(errorOf(r).code).toBe('UNAVAILABLE');
  });

  it('reconciles after all this: Redis and Postgres agree', async () => {
    const r = await cli(['reconcile', '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect((r.json() as { differences: unknown[] }).differences).toEqual([]);
  });
});
