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
  /** A call from the carrier (or `ip`) to the access number. */
  dialIn(from: string, opts?: { headers?: Record<string, string>; ip?: string }): Promise<IvrCaller>;
  /** A funded account with SIP credentials and a PIN. */
  account(credit: number): Promise<Device & { pin: string }>;
}

/** Registers the hooks; `options` receives the even first port of the file's media range. */
export function ivrSuite(label: string, access: string, options: (mediaBase: number) => HarnessOptions): IvrSuite {
  let harness: SipAppHarness | undefined;
  const callers: IvrCaller[] = [];
  let cliSeq = 0;
  beforeAll(async () => {
    harness = await SipAppHarness.start(label, options(2 * Math.floor(randomPort() / 2)));
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
    get h() { return harness!; },
    access,
    freshCli: () => `+4479009${String(process.pid % 100).padStart(2, '0')}${String(++cliSeq).padStart(3, '0')}`,
    async dialIn(from, opts = {}) {
      const c = await IvrCaller.call({ ip: opts.ip ?? harness!.carrierIp, edge: harness!.remote, to: access, from, ...(opts.headers ? { headers: opts.headers } : {}) });
      callers.push(c);
      return c;
    },
    async account(credit) {
      const d = await harness!.device(credit);
      return { ...d, pin: await harness!.accountsSvc.issuePin(d.account.id) };
    },
  };
  return suite;
}
