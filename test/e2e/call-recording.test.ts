/**
 * Call recording over real SIP and RTP: an access-number call of an account whose holder turned
 * recording on is recorded from the answer to the hang-up into one stereo WAV (left: the caller,
 * right: the party called); a tone each side sends is found in its own channel (Goertzel). The
 * party called first hears "this call may be recorded". An account that never consented, or that
 * withdrew its consent, is not recorded; a recording store that cannot take the file leaves the
 * call as it is and the failure counted.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { limitsOf } from '../../src/accounts/account-service.ts';
import { RecordingConsents } from '../../src/accounts/recording-consent.ts';
import { parseWav } from '../../src/media/embedded/wav.ts';
import { RecordingFailures } from '../../src/recordings/recordings.ts';
import { IvrState } from '../../src/sip/ivr/ivr-state.ts';
import { promptAudio, toneFrames } from '../support/ivr-caller.ts';
import type { IvrCaller } from '../support/ivr-caller.ts';
import { ivrSuite } from '../support/ivr-suite.ts';
import { RtpPeer } from '../support/media/rtp-peer.ts';
import { clean } from '../support/sip-app-harness.ts';
import type { SipAppHarness } from '../support/sip-app-harness.ts';

const ACCESS = '+441632000300';
const UK = '441632960001';
const CALLER_HZ = 500;
const OTHER_HZ = 1300;
const dir = mkdtempSync(join(tmpdir(), 'softswitch-recordings-'));

const suite = ivrSuite('callrec', ACCESS, (base) => ({
  sliceSeconds: 6,
  extendLeadSeconds: 2,
  media: { portMin: base, portMax: base + 20 },
  recording: { dir, announce: true },
  ivr: { firstDigitMs: 4000, interDigitMs: 1500, announceBalance: false },
}));
const { dialIn, freshCli, account } = suite;
let h: SipAppHarness;
let consents: RecordingConsents;
beforeAll(() => {
  h = suite.h;
  consents = new RecordingConsents(h.s.pool, async (id) => h.s.store.syncAccount(limitsOf(await h.accountsSvc.get(id))));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Power of `hz` in 16-bit samples (Goertzel), normalised by the number of samples. */
function goertzel(samples: Int16Array, hz: number, rate = 8000): number {
  const k = 2 * Math.cos((2 * Math.PI * hz) / rate);
  let s1 = 0,
    s2 = 0;
  for (const x of samples) {
    const s0 = x + k * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return (s1 * s1 + s2 * s2 - k * s1 * s2) / samples.length;
}

function channel(data: Buffer, ch: 0 | 1): Int16Array {
  const n = data.length / 4;
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = data.readInt16LE(i * 4 + ch * 2);
  return out;
}

function filesIn(d: string): string[] {
  const out: string[] = [];
  const walk = (p: string): void => {
    for (const e of readdirSync(p, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(p, e.name));
      else out.push(join(p, e.name));
    }
  };
  try {
    walk(d);
  } catch {
    /* no directory */
  }
  return out;
}

/** The party called: a sipp carrier that answers with media at an RTP peer of the test, which says OTHER_HZ back to where the call's audio comes from. */
async function otherParty(): Promise<{ peer: RtpPeer; done: ReturnType<SipAppHarness['carrier']>['done']; stop(): Promise<void> }> {
  const peer = await RtpPeer.open(h.carrierIp);
  const carrier = h.carrier(0, 'carrier-answer-dtmf.xml', { vars: { rtp_ip: h.carrierIp, rtp_port: String(peer.port) }, timeoutSec: 40 });
  const tone = toneFrames(OTHER_HZ);
  const timer = setInterval(() => {
    const from = peer.received[0]?.from;
    if (from === undefined) return; // nothing heard yet: nowhere to send
    peer.remote = from;
    peer.sendAudio(0, tone.next().value);
  }, 20);
  return {
    peer,
    done: carrier.done,
    async stop() {
      clearInterval(timer);
      await peer.close();
    },
  };
}

async function connect(cli: string): Promise<IvrCaller> {
  const c = await dialIn(cli);
  expect(c.status).toBe(200);
  c.say(CALLER_HZ);
  await c.waitPrompt('enter-destination');
  c.skipHeard();
  c.press(`00${UK}#`);
  await h.waitIvrState(c.callId, IvrState.Connected);
  return c;
}

const rows = async (accountId: number) =>
  (
    await h.s.pool.query(
      'select call_id as "callId", call_start as "callStart", storage_key as "key", size_bytes::int as bytes, duration_ms::int as "durationMs", sha256 from call_recordings where account_id = $1',
      [accountId],
    )
  ).rows as { callId: string; callStart: Date; key: string; bytes: number; durationMs: number; sha256: string }[];

describe('call recording', () => {
  it('a consenting account: the party called hears the notice, and the call is recorded in stereo (left the caller, right the other party), linked to the CDR', async () => {
    const dev = await account(1_000_000);
    const cli = freshCli();
    await h.accountsSvc.addCli(dev.account.id, cli, true);
    await consents.set(dev.account.id, true, `customer:${dev.account.customerId}`, 'person');
    const other = await otherParty();
    try {
      const before = h.recordings.length;
      const c = await connect(cli);
      await other.peer.waitFor((r) => r.filter((p) => p.payloadType === 0).length > 150, 10_000); // the caller's audio relayed for a while
      // the notice reached the party called, whole, before the caller's audio
      expect(other.peer.audio(0).indexOf(promptAudio(['recording-notice']))).toBe(0);
      await new Promise((r) => setTimeout(r, 1500)); // both talk
      await c.hangup();
      clean(await other.done);
      const [event] = (await h.waitRecordings(before + 1)).slice(before);
      expect(event).toMatchObject({ callId: c.callId, outcome: 'stored' });
      const [row] = await rows(dev.account.id);
      expect(row).toMatchObject({ callId: c.callId });
      const file = readFileSync(join(dir, row!.key));
      expect(file.length).toBe(row!.bytes);
      expect(createHash('sha256').update(file).digest('hex')).toBe(row!.sha256);
      const wav = parseWav(file);
      expect([wav.encoding, wav.channels, wav.sampleRate]).toEqual(['pcm16', 2, 8000]);
      expect(row!.durationMs).toBe((wav.data.length / 4 / 8000) * 1000);
      expect(row!.durationMs).toBeGreaterThan(1000);
      const left = channel(wav.data, 0);
      const right = channel(wav.data, 1);
      expect(goertzel(left, CALLER_HZ)).toBeGreaterThan(100 * goertzel(left, OTHER_HZ));
      expect(goertzel(right, OTHER_HZ)).toBeGreaterThan(100 * goertzel(right, CALLER_HZ));
      // linked to the call's CDR by its key (call id, start)
      await h.drain();
      const cdr = await h.s.pool.query('select disposition from cdrs where call_id = $1 and start_time = $2', [row!.callId, row!.callStart]);
      expect(cdr.rows).toEqual([{ disposition: 'answered' }]);
      expect(filesIn(dir).filter((f) => f.endsWith('.partial'))).toEqual([]);
    } finally {
      await other.stop();
    }
  });

  it('an account that never consented: no notice, no file, no record; consent withdrawn: the next call is not recorded', async () => {
    const dev = await account(1_000_000);
    const cli = freshCli();
    await h.accountsSvc.addCli(dev.account.id, cli, true);
    const filesBefore = filesIn(dir).length;
    const eventsBefore = h.recordings.length;
    for (const consent of [undefined, 'withdrawn'] as const) {
      if (consent === 'withdrawn') {
        await consents.set(dev.account.id, true, `customer:${dev.account.customerId}`, 'person');
        await consents.set(dev.account.id, false, `customer:${dev.account.customerId}`, 'person');
      }
      const other = await otherParty();
      try {
        const settled = h.settled.length;
        const c = await connect(cli);
        await other.peer.waitFor((r) => r.filter((p) => p.payloadType === 0).length > 50, 10_000);
        expect(other.peer.audio(0).indexOf(promptAudio(['recording-notice']).subarray(0, 800))).toBe(-1);
        await c.hangup();
        clean(await other.done);
        await h.waitSettled(settled + 1);
        await h.waitIvrState(c.callId, IvrState.Ended);
      } finally {
        await other.stop();
      }
    }
    expect(h.recordings.length).toBe(eventsBefore);
    expect(filesIn(dir).length).toBe(filesBefore);
    expect(await rows(dev.account.id)).toEqual([]);
  });

  it('a recording store that cannot take the file: the call goes on as before, the failure is counted', async () => {
    const dev = await account(1_000_000);
    const cli = freshCli();
    await h.accountsSvc.addCli(dev.account.id, cli, true);
    await consents.set(dev.account.id, true, `customer:${dev.account.customerId}`, 'person');
    const failures = new RecordingFailures(h.s.redis, h.s.namespace);
    const failedBefore = (await failures.read()).count;
    // the store's directory becomes a file (as root, a read-only mode would not stop the writes)
    const saved = join(tmpdir(), `softswitch-recordings-saved-${process.pid}`);
    rmSync(saved, { recursive: true, force: true });
    const { renameSync } = await import('node:fs');
    renameSync(dir, saved);
    writeFileSync(dir, 'not a directory');
    const other = await otherParty();
    try {
      const before = h.recordings.length;
      const settled = h.settled.length;
      const c = await connect(cli);
      const [event] = (await h.waitRecordings(before + 1)).slice(before);
      expect(event).toMatchObject({ callId: c.callId, outcome: 'failed' });
      // the call goes on: both hear each other
      const heard = other.peer.received.length;
      await other.peer.waitFor((r) => r.length > heard + 50, 10_000);
      const callerHeard = c.rtp.received.length;
      await c.rtp.waitFor((r) => r.length > callerHeard + 50, 10_000);
      expect(c.bye).toBeUndefined();
      await c.hangup();
      clean(await other.done);
      const [call] = (await h.waitSettled(settled + 1)).slice(-1);
      expect(call!.disposition).toBe('answered');
      expect(await rows(dev.account.id)).toEqual([]);
      const after = await failures.read();
      expect(after.count).toBe(failedBefore + 1);
      expect(after.lastCause).toMatch(/not started/);
    } finally {
      await other.stop();
      rmSync(dir, { force: true });
      renameSync(saved, dir);
    }
    expect(statSync(dir).isDirectory()).toBe(true);
  });

  it('a device call of a consenting account is anchored through the media server and recorded; the party called hears the notice', async () => {
    const dev = await account(1_000_000);
    await consents.set(dev.account.id, true, `customer:${dev.account.customerId}`, 'person');
    const other = await otherParty();
    try {
      const before = h.recordings.length;
      const settled = h.settled.length;
      // the device (sipp) sends no RTP: the left channel is silence; the party called says OTHER_HZ
      const caller = h.run({ scenario: 'device-call.xml', service: `00${UK}`, user: dev.username, password: dev.password, pauseMs: 3000 });
      clean(await caller, await other.done);
      const [call] = (await h.waitSettled(settled + 1)).slice(-1);
      expect(call!.disposition).toBe('answered');
      const [event] = (await h.waitRecordings(before + 1)).slice(before);
      expect(event).toMatchObject({ callId: call!.facts.callId, outcome: 'stored' });
      expect(other.peer.audio(0).indexOf(promptAudio(['recording-notice']))).toBe(0);
      const [row] = await rows(dev.account.id);
      const wav = parseWav(readFileSync(join(dir, row!.key)));
      expect(wav.channels).toBe(2);
      const left = channel(wav.data, 0);
      const right = channel(wav.data, 1);
      expect(goertzel(right, OTHER_HZ)).toBeGreaterThan(1000);
      expect(goertzel(right, OTHER_HZ)).toBeGreaterThan(100 * (goertzel(left, OTHER_HZ) + 1));
    } finally {
      await other.stop();
    }
  });

  it('a device call of an account that did not consent keeps its media end to end: nothing from the media server, no recording', async () => {
    const dev = await account(1_000_000);
    const other = await otherParty();
    try {
      const before = h.recordings.length;
      const settled = h.settled.length;
      const files = filesIn(dir).length;
      const caller = h.run({ scenario: 'device-call.xml', service: `00${UK}`, user: dev.username, password: dev.password, pauseMs: 1500 });
      clean(await caller, await other.done);
      await h.waitSettled(settled + 1);
      expect(other.peer.received).toEqual([]); // the device's SDP went to the party called: no media server in between (sipp sends no RTP)
      expect(h.recordings.length).toBe(before);
      expect(filesIn(dir).length).toBe(files);
      expect(await rows(dev.account.id)).toEqual([]);
    } finally {
      await other.stop();
    }
  });
});
