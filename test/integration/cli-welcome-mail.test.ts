// The operator CLI's `account create` sends the welcome mail as the API does: account number,
// access numbers and a one-time link to choose the password (never a password), queued in the
// outbox the API processes send from.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnvironment, runCli } from '../support/cli-process.ts';
import { deleteNamespace } from '../support/redis-namespace.ts';
import { setupServices } from '../support/services.ts';
import type { TestServices } from '../support/services.ts';

let s: TestServices;
let ns = '';
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  s = await setupServices('cliwelcome', { shards: 4 });
  ({ env, namespace: ns } = cliEnvironment(s));
}, 60_000);

afterAll(async () => {
  if (!s) return;
  await deleteNamespace(s.redis, ns);
  await s.teardown();
});

describe('operator CLI welcome mail', { timeout: 120_000 }, () => {
  it('account create queues the welcome mail with a one-time password link to a verified address, none to an unverified one', async () => {
    const extra = { MAIL_LINK_BASE_URL: 'https://selfcare.example.test' };
    const c = await runCli(env, ['customer', 'create', 'Carla Cli', '--email=carla@example.test', '--json'], extra);
    expect(c.code, c.stderr).toBe(0);
    const customerId = (c.json() as { customerId: number }).customerId;
    // the address as the operator typed it: unverified, so no link that sets the password goes there
    expect((await runCli(env, ['account', 'create', String(customerId), 'GBP'], extra)).code).toBe(0);
    const early = await s.pool.query(`select 1 from mail_outbox where template = 'welcome' and customer_id = $1`, [customerId]);
    expect(early.rowCount).toBe(0);
    // the customer confirmed it (the e-mail code, self-care): the next account's welcome mail goes out
    await s.pool.query('update customers set email_verified_at = now() where id = $1', [customerId]);
    const a = await runCli(env, ['account', 'create', String(customerId), 'GBP', '--json'], extra);
    expect(a.code, a.stderr).toBe(0);
    const number = (a.json() as { number: string }).number;
    const { rows } = await s.pool.query<{ to: string; subject: string; text: string }>(
      `select recipient as "to", subject, body_text as text from mail_outbox where template = 'welcome' and customer_id = $1`,
      [customerId],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.to).toBe('carla@example.test');
    expect(rows[0]!.subject).toBe(`Welcome, Carla Cli: your calling account ${number}`);
    expect(rows[0]!.text).toMatch(/https:\/\/selfcare\.example\.test\/my\/set-password\?token=pl_[A-Za-z0-9_-]{43}/);
    expect(rows[0]!.text).not.toMatch(/PIN:|Password:/);

    const n = await runCli(env, ['customer', 'create', 'Nemo Noaddress', '--json']);
    const other = (n.json() as { customerId: number }).customerId;
    expect((await runCli(env, ['account', 'create', String(other), 'GBP'])).code).toBe(0);
    const none = await s.pool.query(`select 1 from mail_outbox where customer_id = $1`, [other]);
    expect(none.rowCount).toBe(0);
  });
});
