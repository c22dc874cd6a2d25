/**
 * The setup every access-number test file shares: a SIP app harness with embedded media on a
 * port range of its own and one access number; callers closed and the harness stopped at the end;
 * after each test the money invariant and no media session left open.
 */
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { randomPort } from './edge-apps/ports.ts';
import { IvrCaller } from './ivr-caller.ts';
import { SipAppHarness } from './sip-app-harness.ts';
import type { Device, HarnessOptions } from './sip-app-harness.ts';

export interface IvrSuite {
  readonly h: SipAppHarness;
  readonly access: string;
  /** A caller ID nobody has registered yet. */
  freshCli(): string;
  /** A call from the carrier (or `ip`) to the access number (or `to`). */
  dialIn(from: string, opts?: { headers?: Record<string, string>; ip?: string; to?: string }): Promise<IvrCaller>;
  /** A funded account with SIP credentials and a PIN. */
  account(credit: number): Promise<Device & { pin: string }>;
  /** The account's CDRs in Postgres (after draining the streams), oldest first. */
  ivrCdrs(accountId: number): Promise<IvrCdr[]>;
}

export interface IvrCdr {
  callId: string;
  kind: string;
  disposition: string;
  cli: string | null;
  accessNumber: string | null;
  dialledNumber: string | null;
  billedSeconds: number;
  cost: number;
  sipCode: number | null;
}

/** Waits for a collect's prompt to start, then keys (the keys stop the prompt). */
export async function keyAt(c: IvrCaller, prompt: Parameters<IvrCaller['waitPrompt']>[0], keys: string, duplicate = false): Promise<void> {
  await c.waitPrompt(prompt);
  c.skipHeard();
  c.press(keys, { duplicate });
}

/** Registers the hooks; `options` receives the even first port of the file's media range. */
export function ivrSuite(label: string, access: string, options: (mediaBase: number) => HarnessOptions): IvrSuite {
  let harness: SipAppHarness | undefined;
  const callers: IvrCaller[] = [];
  let cliSeq = 0;
  beforeAll(async () => {
    const opts = options(2 * Math.floor(randomPort() / 2));
    // the menu hints after the destination prompt are off unless a file asks for them (the prompt sequences below assume so)
    harness = await SipAppHarness.start(label, { ...opts, ivr: { menuHints: false, ...opts.ivr } });
    await harness.s.pool.query(`insert into access_numbers (number, language, description) values ($1, 'en', 'test access number')`, [access]);
  });
  afterAll(async () => {
    await Promise.all(callers.map((c) => c.close()));
    await harness?.stop();
  });
  afterEach(async () => {
    await harness!.expectMoneyInvariant();
    expect(harness!.sip.media?.sessionCount).toBe(0);
  });
  const suite: IvrSuite = {
    get h() {
      return harness!;
    },
    access,
    freshCli: () => `+4479009${String(process.pid % 100).padStart(2, '0')}${String(++cliSeq).padStart(3, '0')}`,
    async dialIn(from, opts = {}) {
      const c = await IvrCaller.call({
        ip: opts.ip ?? harness!.carrierIp,
        edge: harness!.remote,
        to: opts.to ?? access,
        from,
        ...(opts.headers ? { headers: opts.headers } : {}),
      });
      callers.push(c);
      return c;
    },
    async ivrCdrs(accountId) {
      await harness!.drain();
      const { rows } = await harness!.s.pool.query<IvrCdr>(
        `select call_id as "callId", kind, disposition, cli, access_number as "accessNumber", dialled_number as "dialledNumber",
                billed_seconds as "billedSeconds", cost::int as cost, sip_code as "sipCode"
           from cdrs where account_id = $1 order by start_time`,
        [accountId],
      );
      return rows;
    },
    async account(credit) {
      const d = await harness!.device(credit);
      return { ...d, pin: await harness!.accountsSvc.issuePin(d.account.id) };
    },
  };
  return suite;
}
