/**
 * Call recordings: a customer lists, plays and downloads their own (and no one else's); the audio
 * route answers byte ranges (206 with Content-Range, 416 for a range outside the file); operators
 * with the recordings scope find a call's recordings and play them (a restricted customer's only
 * with a stated purpose); every access is audit-logged; self-care plays them in an audio element.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWav } from '../../src/media/embedded/wav.ts';
import { recordingKey } from '../../src/recordings/recording-store.ts';
import { body, consoleSession, expectProblem, harness, PROBLEM, selfCareSession } from './api-harness.ts';
import { RecordingFailures } from '../../src/recordings/recordings.ts';
import type { Harness } from './api-harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'api-recordings-'));
let h: Harness;
let recordingsKey: string;
beforeAll(async () => {
  h = await harness('recaccess', { recordings: { dir } });
  recordingsKey = (await h.ctx.keys.create('listening', ['recordings'], 'test')).key;
});
afterAll(async () => {
  await h?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function customerSession() {
  const c = await h.customerWithAccount();
  const login = await h.app.inject({ method: 'POST', url: '/v1/self/login', payload: { username: c.account.username, password: 'correct horse battery' } });
  return { ...c, token: body(login).token as string };
}

/** A recorded call of the account: the file in the store, its record in Postgres. */
async function recorded(accountId: number, callId = `rec-${randomUUID()}`) {
  const samples = Buffer.alloc(8000, 0x7f);
  for (let i = 0; i < samples.length; i++) samples[i] = i % 251;
  const wav = buildWav('pcmu', samples);
  const key = recordingKey(new Date(), randomUUID());
  await h.ctx.recordingStore.put(key, wav);
  const r = await h.ctx.recordings.add({
    callId,
    callStart: new Date(),
    accountId,
    storageKey: key,
    sizeBytes: wav.length,
    durationMs: 1000,
    sha256: 'a'.repeat(64),
  });
  return { ...r, wav };
}

const audits = async (action: string, accountId: number) =>
  (await h.s.pool.query('select actor, detail from audit_log where action = $1 and subject_account_id = $2 order by id', [action, accountId])).rows as {
    actor: string;
    detail: Record<string, unknown>;
  }[];

describe('call recordings: the customer', () => {
  it('lists their own recordings only, newest first; the list is audited', async () => {
    const me = await customerSession();
    const other = await customerSession();
    const a = await recorded(me.account.id);
    const b = await recorded(me.account.id);
    await recorded(other.account.id);
    const r = await h.call('GET', '/v1/self/recordings', { key: me.token });
    expect(r.statusCode).toBe(200);
    expect((body(r).items as { id: string }[]).map((x) => x.id)).toEqual([b.id, a.id]);
    expect((body(r).items as Record<string, unknown>[])[0]).toMatchObject({ callId: b.callId, durationMs: 1000, sizeBytes: b.wav.length });
    expect(await audits('recording.list', me.account.id)).toEqual([{ actor: `customer:${me.customerId}`, detail: { count: 2 } }]);
    expectProblem(expect, await h.call('GET', '/v1/self/recordings', { key: null }), 401, 'UNAUTHENTICATED');
  });

  it('plays a whole recording and byte ranges of it (206, Content-Range); each access audited', async () => {
    const me = await customerSession();
    const rec = await recorded(me.account.id);
    const size = rec.wav.length;
    const url = `/v1/self/recordings/${rec.id}/audio`;
    const whole = await h.call('GET', url, { key: me.token });
    expect(whole.statusCode).toBe(200);
    expect(whole.headers['content-type']).toBe('audio/wav');
    expect(whole.headers['accept-ranges']).toBe('bytes');
    expect(Number(whole.headers['content-length'])).toBe(size);
    expect(whole.headers['content-disposition']).toBe(`inline; filename="recording-${rec.id}.wav"`);
    expect(whole.rawPayload.equals(rec.wav)).toBe(true);
    const part = async (range: string, start: number, end: number) => {
      const r = await h.call('GET', url, { key: me.token, headers: { range } });
      expect(r.statusCode, range).toBe(206);
      expect(r.headers['content-range']).toBe(`bytes ${start}-${end}/${size}`);
      expect(Number(r.headers['content-length'])).toBe(end - start + 1);
      expect(r.rawPayload.equals(rec.wav.subarray(start, end + 1)), range).toBe(true);
    };
    await part('bytes=0-99', 0, 99);
    await part('bytes=100-', 100, size - 1);
    await part('bytes=-10', size - 10, size - 1);
    await part(`bytes=${size - 5}-${size + 1000}`, size - 5, size - 1);
    const played = await audits('recording.play', me.account.id);
    expect(played).toHaveLength(5);
    expect(played[0]).toEqual({ actor: `customer:${me.customerId}`, detail: { recordingId: rec.id, callId: rec.callId } });
    expect(played[1]!.detail).toMatchObject({ range: '0-99' });
  });

  it('a range outside the file, backwards, of another unit or of several parts is 416 problem+json with Content-Range bytes */size', async () => {
    const me = await customerSession();
    const rec = await recorded(me.account.id);
    const size = rec.wav.length;
    for (const range of [`bytes=${size}-`, 'bytes=50-10', 'items=0-10', 'bytes=0-1,5-6', 'bytes=-0', 'bytes=-', 'bytes=x-1']) {
      const r = await h.call('GET', `/v1/self/recordings/${rec.id}/audio`, { key: me.token, headers: { range } });
      expect(r.statusCode, range).toBe(416);
      expect(r.headers['content-type']).toBe(PROBLEM);
      expect(r.headers['content-range'], range).toBe(`bytes */${size}`);
      expect(body(r).code).toBe('RANGE_NOT_SATISFIABLE');
    }
  });

  it('downloads a recording as an attachment (audited as a download)', async () => {
    const me = await customerSession();
    const rec = await recorded(me.account.id);
    const r = await h.call('GET', `/v1/self/recordings/${rec.id}/audio?download=true`, { key: me.token });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-disposition']).toBe(`attachment; filename="recording-${rec.id}.wav"`);
    expect(r.rawPayload.equals(rec.wav)).toBe(true);
    expect(await audits('recording.download', me.account.id)).toHaveLength(1);
  });

  it("another customer's recording is not found, exactly as one that does not exist; nothing is served or audited for it", async () => {
    const me = await customerSession();
    const other = await customerSession();
    const theirs = await recorded(other.account.id);
    const r = await h.call('GET', `/v1/self/recordings/${theirs.id}/audio`, { key: me.token });
    expectProblem(expect, r, 404, 'UNKNOWN_RECORDING');
    expectProblem(expect, await h.call('GET', `/v1/self/recordings/${randomUUID()}/audio`, { key: me.token }), 404, 'UNKNOWN_RECORDING');
    expect(await audits('recording.play', other.account.id)).toEqual([]);
    // an operator key is not a customer session
    expectProblem(expect, await h.call('GET', `/v1/self/recordings/${theirs.id}/audio`, { key: recordingsKey }), 403, 'FORBIDDEN');
  });
});

describe('call recordings: operators', () => {
  it('find a call by its call id and play it with the recordings scope (audited); read and billing keys cannot', async () => {
    const me = await customerSession();
    const rec = await recorded(me.account.id);
    for (const key of [h.keys.read, h.keys.billing]) {
      expectProblem(expect, await h.call('GET', `/v1/recordings?callId=${rec.callId}`, { key }), 403, 'FORBIDDEN');
      expectProblem(expect, await h.call('GET', `/v1/recordings/${rec.id}/audio`, { key }), 403, 'FORBIDDEN');
    }
    const found = await h.call('GET', `/v1/recordings?callId=${encodeURIComponent(rec.callId)}`, { key: recordingsKey });
    expect(found.statusCode).toBe(200);
    expect((body(found).items as { id: string }[]).map((x) => x.id)).toEqual([rec.id]);
    const played = await h.call('GET', `/v1/recordings/${rec.id}/audio`, { key: recordingsKey, headers: { range: 'bytes=0-43' } });
    expect(played.statusCode).toBe(206);
    expect(played.rawPayload.toString('ascii', 0, 4)).toBe('RIFF');
    expect((await audits('recording.find', me.account.id)).map((a) => a.actor)).toEqual([expect.stringMatching(/^apikey:/)]);
    expect(await audits('recording.play', me.account.id)).toEqual([
      { actor: expect.stringMatching(/^apikey:/), detail: { recordingId: rec.id, callId: rec.callId, range: '0-43' } },
    ]);
    expectProblem(expect, await h.call('GET', `/v1/recordings/${randomUUID()}/audio`, { key: recordingsKey }), 404, 'UNKNOWN_RECORDING');
  });

  it("a restricted customer's recording is played only for a stated purpose, which the audit keeps", async () => {
    const me = await customerSession();
    const rec = await recorded(me.account.id);
    expect((await h.call('POST', `/v1/customers/${me.customerId}/restriction`, { body: {} })).statusCode).toBe(200);
    expectProblem(expect, await h.call('GET', `/v1/recordings/${rec.id}/audio`, { key: recordingsKey }), 403, 'PURPOSE_REQUIRED');
    expectProblem(expect, await h.call('GET', `/v1/recordings?callId=${rec.callId}`, { key: recordingsKey }), 403, 'PURPOSE_REQUIRED');
    const ok = await h.call('GET', `/v1/recordings/${rec.id}/audio`, { key: recordingsKey, headers: { 'x-purpose': 'legal_claim' } });
    expect(ok.statusCode).toBe(200);
    expect((await audits('recording.play', me.account.id))[0]!.detail).toMatchObject({ purpose: 'legal_claim' });
  });
});

describe('call recordings: the operator console', () => {
  /** A recorded call with its call record, so the account page lists it. */
  async function recordedWithCdr(accountId: number) {
    const callId = `conrec-${randomUUID()}`;
    await h.s.pool.query('select ensure_cdr_partition(now())');
    const rec = await recorded(accountId, callId);
    await h.s.pool.query(
      `insert into cdrs (call_id, account_id, event_id, kind, dialled_number, start_time, end_time, duration_ms, billed_seconds, cost, disposition)
       values ($1, $2, $3, 'access_number', '+442079460123', $4, $4::timestamptz + interval '1 second', 1000, 1, 1000, 'answered')`,
      [callId, accountId, `call:${accountId}:${callId}`, rec.callStart],
    );
    return rec;
  }
  const page = (cookie: string, url: string, headers: Record<string, string> = {}) => h.app.inject({ method: 'GET', url, headers: { cookie, ...headers } });

  it("finds a call's recording by call id, plays it by byte ranges and downloads it with a recordings key; each access audited by the API", async () => {
    const me = await customerSession();
    const rec = await recordedWithCdr(me.account.id);
    const op = await consoleSession(h, recordingsKey);
    const form = await page(op, '/console/recordings');
    expect(form.statusCode).toBe(200);
    expect(form.body).toContain('<a href="/console/recordings" aria-current="page">');
    expect(form.body).toContain('name="callId"');
    const found = await page(op, `/console/recordings?callId=${encodeURIComponent(rec.callId)}`);
    expect(found.statusCode).toBe(200);
    expect(found.body).toContain(`<audio controls preload="none" src="/console/recordings/${rec.id}/audio"`);
    expect(found.body).toContain(`href="/console/recordings/${rec.id}/audio?download=1" download`);
    expect(found.body).toContain('+442079460123');
    expect(found.headers['content-security-policy']).toContain("media-src 'self'");
    const part = await page(op, `/console/recordings/${rec.id}/audio`, { range: 'bytes=0-9' });
    expect(part.statusCode).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 0-9/${rec.wav.length}`);
    expect(part.headers['accept-ranges']).toBe('bytes');
    expect(part.headers['cache-control']).toBe('private, no-store');
    expect(part.rawPayload.equals(rec.wav.subarray(0, 10))).toBe(true);
    const whole = await page(op, `/console/recordings/${rec.id}/audio`);
    expect(whole.statusCode).toBe(200);
    expect(whole.rawPayload.equals(rec.wav)).toBe(true);
    expect((await page(op, `/console/recordings/${rec.id}/audio`, { range: `bytes=${rec.wav.length}-` })).statusCode).toBe(416);
    const dl = await page(op, `/console/recordings/${rec.id}/audio?download=1`);
    expect(dl.headers['content-disposition']).toBe(`attachment; filename="recording-${rec.id}.wav"`);
    expect(dl.rawPayload.equals(rec.wav)).toBe(true);
    const none = await page(op, `/console/recordings?callId=no-such-call`);
    expect(none.body).toContain('data-testid="no-recording"');
    // the API wrote the audit rows, with the console's key as actor
    const keyActor = expect.stringMatching(/^apikey:/);
    expect(await audits('recording.find', me.account.id)).toEqual([{ actor: keyActor, detail: { callId: rec.callId } }]);
    expect(await audits('recording.play', me.account.id)).toEqual([
      { actor: keyActor, detail: { recordingId: rec.id, callId: rec.callId, range: '0-9' } },
      { actor: keyActor, detail: { recordingId: rec.id, callId: rec.callId } },
      // the range outside the file is refused after the access is written
      { actor: keyActor, detail: { recordingId: rec.id, callId: rec.callId } },
    ]);
    expect(await audits('recording.download', me.account.id)).toHaveLength(1);
    // signed out: to the login page, no audio
    const anon = await h.app.inject({ method: 'GET', url: `/console/recordings/${rec.id}/audio` });
    expect(anon.statusCode).toBe(303);
    expect(anon.headers.location).toBe('/console/login');
  });

  it('the account page links the calls that were recorded to their recording (admin key); the lookup of the account is audited', async () => {
    const me = await customerSession();
    const rec = await recordedWithCdr(me.account.id);
    const op = await consoleSession(h, h.keys.admin);
    const acct = await page(op, `/console/accounts/${me.account.id}`);
    expect(acct.statusCode).toBe(200);
    expect(acct.body).toContain(`href="/console/recordings?callId=${encodeURIComponent(rec.callId)}"`);
    expect(acct.body).toContain('<a href="/console/recordings">Recordings</a>');
    expect((await audits('recording.find', me.account.id)).map((a) => a.detail)).toEqual([{ count: 1 }]);
  });

  it('a key without the recordings scope sees no recording: no link, 403 for the page and for the audio; nothing played or audited', async () => {
    const me = await customerSession();
    const rec = await recordedWithCdr(me.account.id);
    for (const key of [h.keys.read, h.keys.billing]) {
      const op = await consoleSession(h, key);
      const acct = await page(op, `/console/accounts/${me.account.id}`);
      expect(acct.statusCode).toBe(200);
      expect(acct.body).toContain('+442079460123'); // the call is listed…
      expect(acct.body).not.toContain('/console/recordings'); // …with no recording link, and no menu entry
      const lookup = await page(op, `/console/recordings?callId=${encodeURIComponent(rec.callId)}`);
      expect(lookup.statusCode).toBe(403);
      expect(lookup.body).not.toContain(rec.id);
      const audio = await page(op, `/console/recordings/${rec.id}/audio`);
      expect(audio.statusCode).toBe(403);
      expect(audio.rawPayload.includes(rec.wav.subarray(44, 100))).toBe(false);
    }
    expect(await audits('recording.find', me.account.id)).toEqual([]);
    expect(await audits('recording.play', me.account.id)).toEqual([]);
  });

  it("a restricted customer's recording: the console asks for the purpose, then plays it for that purpose, which the audit keeps", async () => {
    const me = await customerSession();
    const rec = await recordedWithCdr(me.account.id);
    expect((await h.call('POST', `/v1/customers/${me.customerId}/restriction`, { body: {} })).statusCode).toBe(200);
    const op = await consoleSession(h, recordingsKey);
    const asked = await page(op, `/console/recordings?callId=${encodeURIComponent(rec.callId)}`);
    expect(asked.statusCode).toBe(200);
    expect(asked.body).toContain('data-testid="restricted"');
    expect(asked.body).toContain(`<input type="hidden" name="callId" value="${rec.callId}">`);
    expect(asked.body).not.toContain('<audio');
    expect((await page(op, `/console/recordings/${rec.id}/audio`)).statusCode).toBe(403);
    const shown = await page(op, `/console/recordings?callId=${encodeURIComponent(rec.callId)}&purpose=legal_claim`);
    expect(shown.body).not.toContain('data-testid="restricted"');
    expect(shown.body).toContain(`src="/console/recordings/${rec.id}/audio?purpose=legal_claim"`);
    const played = await page(op, `/console/recordings/${rec.id}/audio?purpose=legal_claim`, { range: 'bytes=0-3' });
    expect(played.statusCode).toBe(206);
    expect(played.rawPayload.toString('ascii')).toBe('RIFF');
    expect((await audits('recording.find', me.account.id)).map((a) => a.detail)).toEqual([{ callId: rec.callId, purpose: 'legal_claim' }]);
    expect((await audits('recording.play', me.account.id)).map((a) => a.detail)).toEqual([
      { recordingId: rec.id, callId: rec.callId, range: '0-3', purpose: 'legal_claim' },
    ]);
    // an unknown purpose is no purpose
    expect((await page(op, `/console/recordings/${rec.id}/audio?purpose=marketing`)).statusCode).toBe(400);
  });

  it("the API lists an account's recordings for operators (recordings scope, audited); neither call id nor account is refused", async () => {
    const me = await customerSession();
    const a = await recorded(me.account.id);
    const b = await recorded(me.account.id);
    const r = await h.call('GET', `/v1/recordings?accountId=${me.account.id}`, { key: recordingsKey });
    expect(r.statusCode).toBe(200);
    expect((body(r).items as { id: string }[]).map((x) => x.id)).toEqual([b.id, a.id]);
    expect((await audits('recording.find', me.account.id)).map((x) => x.detail)).toEqual([{ count: 2 }]);
    expectProblem(expect, await h.call('GET', `/v1/recordings?accountId=${me.account.id}`, { key: h.keys.read }), 403, 'FORBIDDEN');
    expectProblem(expect, await h.call('GET', '/v1/recordings', { key: recordingsKey }), 400, 'VALIDATION_FAILED');
  });
});

describe('call recordings: self-care', () => {
  it('the recordings page lists them with an audio element and a download link; the audio route serves byte ranges to the signed-in customer only', async () => {
    const c = await h.customerWithAccount({ username: 'webrecordings' });
    const rec = await recorded(c.account.id);
    const cookie = await selfCareSession(h, 'webrecordings');
    const page = await h.app.inject({ method: 'GET', url: '/my/recordings', headers: { cookie } });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain(`<audio controls preload="none" src="/my/recordings/${rec.id}/audio"`);
    expect(page.body).toContain(`href="/my/recordings/${rec.id}/audio?download=1"`);
    expect(page.headers['content-security-policy']).toContain("media-src 'self'");
    const part = await h.app.inject({ method: 'GET', url: `/my/recordings/${rec.id}/audio`, headers: { cookie, range: 'bytes=0-9' } });
    expect(part.statusCode).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 0-9/${rec.wav.length}`);
    expect(part.rawPayload.equals(rec.wav.subarray(0, 10))).toBe(true);
    const bad = await h.app.inject({ method: 'GET', url: `/my/recordings/${rec.id}/audio`, headers: { cookie, range: `bytes=${rec.wav.length}-` } });
    expect(bad.statusCode).toBe(416);
    const dl = await h.app.inject({ method: 'GET', url: `/my/recordings/${rec.id}/audio?download=1`, headers: { cookie } });
    expect(dl.headers['content-disposition']).toBe(`attachment; filename="recording-${rec.id}.wav"`);
    expect(dl.rawPayload.equals(rec.wav)).toBe(true);
    // signed out: to the login page, no audio
    const anon = await h.app.inject({ method: 'GET', url: `/my/recordings/${rec.id}/audio` });
    expect(anon.statusCode).toBe(303);
    expect(anon.headers.location).toBe('/my/login');
  });
});

describe('call recordings: failures on the operator console', () => {
  it('the dashboard shows how many recordings could not be stored, and the last cause', async () => {
    const failures = new RecordingFailures(h.s.redis, h.s.namespace);
    await failures.record('not started: ENOTDIR: not a directory');
    const op = await consoleSession(h, h.keys.admin);
    const page = await h.app.inject({ method: 'GET', url: '/console', headers: { cookie: op } });
    const shown = /data-testid="recording-failures">([\s\S]*?)<\/dl>/.exec(page.body)?.[1] ?? '';
    expect(shown).toContain('<dd>1</dd>');
    expect(shown).toContain('not started: ENOTDIR: not a directory');
  });
});

describe('call recordings: retention and the privacy rights', () => {
  const age = async (id: string, days: number) =>
    h.s.pool.query('update call_recordings set created_at = now() - make_interval(days => $2) where id = $1', [id, days]);
  const fileExists = async (key: string) => (await h.ctx.recordingStore.size(key)) !== undefined;

  it('the retention job deletes recordings older than RECORDING_RETENTION_DAYS (90 by default), file and record; younger ones stay', async () => {
    const me = await customerSession();
    const old = await recorded(me.account.id);
    const young = await recorded(me.account.id);
    await age(old.id, 91);
    await age(young.id, 89);
    const r = await h.call('POST', '/v1/retention/run', { body: { jobs: ['recordings'] } });
    expect(r.statusCode).toBe(200);
    expect(body(r).recordingsDeleted).toBeGreaterThanOrEqual(1);
    expect(await h.ctx.recordings.get(old.id)).toBeUndefined();
    expect(await fileExists(old.storageKey)).toBe(false);
    expect(await h.ctx.recordings.get(young.id)).toBeDefined();
    expect(await fileExists(young.storageKey)).toBe(true);
    const { rows } = await h.s.pool.query("select detail from audit_log where action = 'retention.recordings_deleted' order by id desc limit 1");
    expect(rows[0].detail).toMatchObject({ days: 90 });
  });

  it('the retention job also deletes files no record names (a process died mid-call) of days wholly past the period; recent ones stay', async () => {
    const old = new Date(Date.now() - 100 * 86_400_000);
    const recent = new Date(Date.now() - 10 * 86_400_000);
    const orphan = recordingKey(old, randomUUID());
    const partial = `${recordingKey(old, randomUUID())}.partial`;
    const young = recordingKey(recent, randomUUID());
    for (const k of [orphan, partial, young]) await h.ctx.recordingStore.put(k, Buffer.from('RIFF'));
    const r = await h.call('POST', '/v1/retention/run', { body: { jobs: ['recordings'] } });
    expect(r.statusCode).toBe(200);
    expect(await fileExists(orphan)).toBe(false);
    expect(await fileExists(partial)).toBe(false);
    expect(await fileExists(young)).toBe(true);
    const { rows } = await h.s.pool.query("select detail from audit_log where action = 'retention.recordings_deleted' order by id desc limit 1");
    expect(rows[0].detail.filesWithoutRecord).toBeGreaterThanOrEqual(2);
  });

  it('the data export lists the recordings (with where to fetch the audio) and the consent history', async () => {
    const me = await customerSession();
    await h.call('PUT', '/v1/self/recording-consent', { key: me.token, body: { recording: true } });
    const rec = await recorded(me.account.id);
    const ex = body(await h.call('GET', '/v1/self/export', { key: me.token }));
    expect(ex.callRecordings).toEqual([
      expect.objectContaining({ id: rec.id, callId: rec.callId, accountId: me.account.id, audio: `/v1/self/recordings/${rec.id}/audio` }),
    ]);
    expect(ex.recordingConsentEvents).toEqual([expect.objectContaining({ accountId: me.account.id, action: 'opt_in', actor: `customer:${me.customerId}` })]);
    expect((ex.accounts as Record<string, unknown>[])[0]).toMatchObject({ recordingConsent: true });
  });

  it('erasure deletes the recordings (files and records) and the consent, and the SIP app sees recording off', async () => {
    const me = await customerSession();
    await h.call('PUT', '/v1/self/recording-consent', { key: me.token, body: { recording: true } });
    const a = await recorded(me.account.id);
    const b = await recorded(me.account.id);
    const r = await h.call('POST', `/v1/customers/${me.customerId}/erasure`, { body: {} });
    expect(r.statusCode).toBe(200);
    expect(body(r).recordingsDeleted).toBe(2);
    for (const x of [a, b]) {
      expect(await h.ctx.recordings.get(x.id)).toBeUndefined();
      expect(await fileExists(x.storageKey)).toBe(false);
    }
    expect((await h.s.pool.query('select count(*)::int as n from recording_consent_events where account_id = $1', [me.account.id])).rows[0].n).toBe(0);
    expect(await h.s.store.recordingConsent(me.account.id)).toBe(false);
  });

  it('restriction turns recording off (evidence: an opt-out by whoever restricted) and refuses turning it on until lifted; recordings are kept', async () => {
    const me = await customerSession();
    await h.call('PUT', '/v1/self/recording-consent', { key: me.token, body: { recording: true } });
    const rec = await recorded(me.account.id);
    expect((await h.call('POST', `/v1/customers/${me.customerId}/restriction`, { body: {} })).statusCode).toBe(200);
    expect(await h.s.store.recordingConsent(me.account.id)).toBe(false);
    const { rows } = await h.s.pool.query('select action, actor from recording_consent_events where account_id = $1 order by id', [me.account.id]);
    expect(rows.map((e) => e.action)).toEqual(['opt_in', 'opt_out']);
    expect(rows[1].actor).toMatch(/^apikey:/);
    expectProblem(
      expect,
      await h.call('PUT', '/v1/self/recording-consent', { key: me.token, body: { recording: true } }),
      400,
      'VALIDATION_FAILED',
      'processing is restricted: lift the restriction before turning call recording on',
    );
    expect(await h.ctx.recordings.get(rec.id)).toBeDefined();
    // the customer still hears their own
    expect((await h.call('GET', `/v1/self/recordings/${rec.id}/audio`, { key: me.token })).statusCode).toBe(200);
  });
});
