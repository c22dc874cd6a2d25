/**
 * Abuse through the edge: brute force of a SIP password bans the source; malformed and hostile
 * requests (no To, bad Contact, huge headers, garbage credentials) get a 4xx and change nothing.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { REALM, SipAppHarness } from '../support/sip-app-harness.ts';
import type { Device, SippRun } from '../support/sip-app-harness.ts';

const THRESHOLD = 4;
let h: SipAppHarness;
let dev: Device;
let attacker: string;

beforeAll(async () => {
  h = await SipAppHarness.start('sipabuse', { failureThreshold: THRESHOLD, banSeconds: 60 });
  dev = await h.device(1_000_000);
  const taken = [h.deviceIp, h.carrierIp];
  do attacker = `127.0.0.${2 + Math.floor(Math.random() * 248)}`; while (taken.includes(attacker));
});
afterAll(async () => { await h.stop(); });
afterEach(async () => {
  const m = await h.money(dev.account.id);
  expect(m).toMatchObject({ reserved: 0, callsInProgress: 0, redisBalance: 1_000_000, postgresBalance: 1_000_000, costs: 0 });
  expect(h.settled).toEqual([]);
  expect(await h.sip.bindings.bindingsOf(`${dev.username}@${REALM}`)).toEqual([]);
});

function clean(...runs: SippRun[]): void {
  for (const r of runs) {
    expect(r.errors, r.stdout.slice(-2000)).toBe('');
    expect(r.code).toBe(0);
  }
}

/** A request written out in full; sipp fills in addresses, branch, tags and Call-ID. */
function raw(lines: string[], status: string) {
  return h.run({ scenario: 'raw-request.xml', user: dev.username, vars: { message: lines.map((l) => `      ${l}`).join('\n'), status } });
}

const via = 'Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]';
const from = 'From: <sip:[user]@[remote_ip]>;tag=[pid]SIPpTag00[call_number]';
const to = 'To: <sip:[user]@[remote_ip]>';

describe('abuse', () => {
  it('brute force of a SIP password bans the source; other sources are unaffected', async () => {
    clean(await h.run({ scenario: 'register-refused.xml', ip: attacker, user: dev.username, password: 'guess-number-n', calls: THRESHOLD, rate: 20, vars: { status: '403' } }));
    // banned now: even the right password is refused at once, without a challenge
    clean(await h.run({ scenario: 'register-once.xml', ip: attacker, user: dev.username, vars: { status: '403' } }));
    clean(await h.run({ scenario: 'register-once.xml', ip: attacker, user: dev.username, password: dev.password, vars: { status: '403' } }));
    // the device's own address still gets a challenge
    clean(await h.run({ scenario: 'register-once.xml', user: dev.username, vars: { status: '401' } }));
  });

  it('REGISTER without a To header: 400 Missing To header, nothing registered', async () => {
    clean(await raw(['REGISTER sip:[remote_ip]:[remote_port] SIP/2.0', via, from, 'Call-ID: [call_id]', 'CSeq: 1 REGISTER',
      'Contact: <sip:[user]@[local_ip]:[local_port]>', 'Max-Forwards: 70', 'Content-Length: 0', ''], '400'));
  });

  it('INVITE without a To header: 400 Missing To header, no call', async () => {
    clean(await raw(['INVITE sip:00441632960001@[remote_ip]:[remote_port] SIP/2.0', via, from, 'Call-ID: [call_id]', 'CSeq: 1 INVITE',
      'Contact: <sip:[user]@[local_ip]:[local_port]>', 'Max-Forwards: 70', 'Content-Length: 0', ''], '400'));
  });

  it('REGISTER with an unparseable Contact: 400', async () => {
    clean(await raw(['REGISTER sip:[remote_ip]:[remote_port] SIP/2.0', via, from, to, 'Call-ID: [call_id]', 'CSeq: 1 REGISTER',
      'Contact: <sip:[user]@@;;;>>>', 'Max-Forwards: 70', 'Content-Length: 0', ''], '400'));
  });

  it('REGISTER with a huge header: 400', async () => {
    clean(await raw(['REGISTER sip:[remote_ip]:[remote_port] SIP/2.0', via, from, to, 'Call-ID: [call_id]', 'CSeq: 1 REGISTER',
      'Contact: <sip:[user]@[local_ip]:[local_port]>', `X-Padding: ${'a'.repeat(20_000)}`, 'Max-Forwards: 70', 'Content-Length: 0', ''], '400'));
  });

  it('INVITE with a huge header: 400', async () => {
    clean(await raw(['INVITE sip:00441632960001@[remote_ip]:[remote_port] SIP/2.0', via, from, to, 'Call-ID: [call_id]', 'CSeq: 1 INVITE',
      'Contact: <sip:[user]@[local_ip]:[local_port]>', `Subject: ${'x'.repeat(20_000)}`, 'Max-Forwards: 70', 'Content-Length: 0', ''], '400'));
  });

  it('INVITE with garbage credentials: 400, counted nowhere as a call', async () => {
    clean(await raw(['INVITE sip:00441632960001@[remote_ip]:[remote_port] SIP/2.0', via, from, to, 'Call-ID: [call_id]', 'CSeq: 1 INVITE',
      'Contact: <sip:[user]@[local_ip]:[local_port]>', 'Proxy-Authorization: Digest username=, realm', 'Max-Forwards: 70', 'Content-Length: 0', ''], '400'));
  });
});
