/**
 * A fake drachtio-fsmrf MediaServer/Endpoint that behaves like FreeSWITCH 1.10 with the shipped
 * configuration (freeswitch/conf, read by ./freeswitch-config.ts) for what the adapter uses:
 *
 * - each INVITE runs the drachtio_mrf dialplan extension: `set` actions (with `${sip_h_X-…}` taken
 *   from the INVITE's headers) before `answer`; `media_timeout` counts only when set before the
 *   answer (the RTP session reads it when it starts: a later `Endpoint#set` is logged and ignored);
 *   channel variables fall back to the global ones;
 * - the SDP FreeSWITCH offers for a 3pcc endpoint: an RTP/SAVP line with a=crypto lines before the
 *   RTP/AVP line unless `rtp_secure_media` is `forbidden`;
 * - RTP timeout: an endpoint whose far end sends nothing for media_timeout ms (counted from the
 *   moment it has the far end's SDP) hangs up with MEDIA_TIMEOUT;
 * - playback takes time and can be broken (uuid_break); a file list sleeps `playback_sleep_val`
 *   (default 250 ms) between files; a missing file is skipped, and when the last file of the list
 *   is missing fsmrf rejects with "File Not Found" (FreeSWITCH's playback result is that of the
 *   last file);
 * - play_and_get_digits rules (flush, prompt stopped by the first key, first-digit and
 *   inter-digit timeouts, terminators, tries, invalid file), with fsmrf's defaulting of an empty
 *   terminator list to '#'; keys arrive as DTMF events; uuid_recv_dtmf injects a key;
 *   uuid_broadcast and uuid_bridge are recorded; `file_exists` answers from the local sounds copy;
 * - uuid_record <uuid> start <file>: FreeSWITCH opens the file at once (-ERR when it cannot) and
 *   writes the channel's audio until `stop` or the hang-up: a WAV of 16-bit PCM at 8 kHz, two
 *   channels when RECORD_STEREO is true (here: silence as long as the recording ran).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { wavHeader } from '../../../src/media/embedded/wav.ts';
import { EventEmitter } from 'node:events';
import { DigitEntry } from '../../../src/media/embedded/digit-entry.ts';
import { realClock } from '../../../src/media/embedded/pacing-clock.ts';
import type { FsEndpoint, FsEndpointOptions, FsMediaServer, FsPlayCollectOptions, FsPlayCollectResult } from '../../../src/media/freeswitch/fsmrf-types.ts';
import { isDigit } from '../../../src/media/media-port.ts';
import type { InviteRequest, InviteResponse } from '../../../src/media/media-port.ts';
import { FakeDialog } from './fake-dialog.ts';
import { loadShippedFsConfig } from './freeswitch-config.ts';
import type { FsShippedConfig } from './freeswitch-config.ts';

let uuids = 0;

export interface FakeFsOptions {
  /** How long each prompt file plays (ms). Default 60. */
  fileMs?: number;
  /** The FreeSWITCH configuration the channels run through. Default: the shipped freeswitch/conf. */
  config?: FsShippedConfig;
  /** FreeSWITCH's sounds folder and the local folder holding the same files (for missing files and file_exists). */
  sounds?: { fsDir: string; localDir: string };
}

const CRYPTO_SUITES = [
  'AEAD_AES_256_GCM_8',
  'AEAD_AES_256_GCM',
  'AEAD_AES_128_GCM_8',
  'AEAD_AES_128_GCM',
  'AES_256_CM_HMAC_SHA1_80',
  'AES_192_CM_HMAC_SHA1_80',
  'AES_CM_128_HMAC_SHA1_80',
  'AES_256_CM_HMAC_SHA1_32',
  'AES_192_CM_HMAC_SHA1_32',
  'AES_CM_128_HMAC_SHA1_32',
  'AES_CM_128_NULL_AUTH',
];

export class FakeFsEndpoint extends EventEmitter implements FsEndpoint {
  readonly uuid = `fs-${++uuids}`;
  readonly local: { sdp: string };
  /** Every file played, in order (prompts, pagd prompts, invalid files, and the sleeps between files as silence_stream). */
  readonly heard: string[] = [];
  readonly broadcasts: string[] = [];
  /** Channel variables (dialplan `set`, then Endpoint#set). */
  readonly vars = new Map<string, string>();
  readonly apis: string[] = [];
  /** media_timeout as the RTP session took it at the answer (ms; 0: none). */
  readonly mediaTimeoutMs: number;
  remoteSdp: string | undefined;
  bridgedWith: FakeFsEndpoint | undefined;
  /** Recordings running on this channel (uuid_record start), by file. */
  readonly recordings = new Map<string, { startedAt: number; channels: number }>();
  destroyed = false;
  /** Whether the far end is sending RTP. */
  private peerSending = false;
  private silenceTimer: NodeJS.Timeout | undefined;
  private stopPlayback: (() => void) | undefined;
  private entry: DigitEntry | undefined;

  constructor(
    private readonly server: FakeFsMediaServer,
    readonly invite: { remoteSdp?: string; headers: Record<string, string> },
  ) {
    super();
    const port = 20000 + uuids * 2;
    for (const action of server.config.fsmrfActions) {
      if (action.application === 'set') {
        const eq = action.data.indexOf('=');
        const name = action.data.slice(0, eq);
        const value = action.data.slice(eq + 1).replace(/\$\{sip_h_([^}]+)\}/g, (_m, h: string) => invite.headers[h] ?? '');
        if (value === '') this.vars.delete(name);
        else this.vars.set(name, value);
      } else if (action.application === 'answer') break;
    }
    this.mediaTimeoutMs = Number(this.variable('media_timeout') ?? 0) || 0;
    const plain = `m=audio ${port} RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\n`;
    const head = `v=0\r\no=FreeSWITCH 1 1 IN IP4 127.0.0.1\r\ns=FreeSWITCH\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n`;
    if (invite.remoteSdp === undefined && this.variable('rtp_secure_media') !== 'forbidden') {
      const crypto = CRYPTO_SUITES.map((s, i) => `a=crypto:${i + 1} ${s} inline:${'k'.repeat(s.includes('256') ? 60 : 40)}\r\n`).join('');
      this.local = { sdp: `${head}m=audio ${port} RTP/SAVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\n${crypto}${plain}` };
    } else {
      this.local = { sdp: head + plain };
    }
    if (invite.remoteSdp !== undefined) this.mediaStarts(invite.remoteSdp);
  }

  /** A channel variable, falling back to the global one (as FreeSWITCH does). */
  variable(name: string): string | undefined {
    return this.vars.get(name) ?? this.server.config.globals.get(name);
  }

  /** The far end starts or stops sending RTP. */
  setPeerSending(on: boolean): void {
    this.peerSending = on;
    this.armSilence();
  }

  private mediaStarts(remoteSdp: string): void {
    this.remoteSdp = remoteSdp;
    this.armSilence();
  }

  private armSilence(): void {
    clearTimeout(this.silenceTimer);
    this.silenceTimer = undefined;
    if (this.destroyed || this.remoteSdp === undefined || this.peerSending || this.mediaTimeoutMs <= 0) return;
    this.silenceTimer = setTimeout(() => this.hangupFromServer('MEDIA_TIMEOUT'), this.mediaTimeoutMs);
    this.silenceTimer.unref();
  }

  private playOne(file: string): Promise<void> {
    this.heard.push(file);
    const silence = /^silence_stream:\/\/(\d+)/.exec(file);
    const ms = silence !== null ? Number(silence[1]) : this.server.fileMs;
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done(): void {
        clearTimeout(t);
        resolve();
      }
      this.stopPlayback = () => {
        this.stopPlayback = undefined;
        done();
      };
    });
  }

  /** Plays files until done or broken (missing files skipped); returns how it ended and whether the last file was found. */
  private async playFiles(files: string[], sleepMs = 0): Promise<{ broken: boolean; lastFound: boolean }> {
    let lastFound = true;
    for (const [i, f] of files.entries()) {
      let wasBroken = false;
      const parts = i > 0 && sleepMs > 0 ? [`silence_stream://${sleepMs}`, f] : [f];
      for (const part of parts) {
        lastFound = this.server.exists(part);
        if (!lastFound) continue;
        const p = this.playOne(part);
        const stop = this.stopPlayback;
        this.stopPlayback = () => {
          wasBroken = true;
          stop?.();
        };
        await p;
        this.stopPlayback = undefined;
        if (wasBroken) return { broken: true, lastFound };
      }
    }
    return { broken: false, lastFound };
  }

  async play(file: string | string[]): Promise<unknown> {
    this.assertAlive();
    const files = Array.isArray(file) ? file : [file];
    // fsmrf sets playback_delimiter for a list; FreeSWITCH then sleeps playback_sleep_val between the files
    const sleepMs = files.length > 1 ? Number(this.variable('playback_sleep_val') ?? 250) : 0;
    const r = await this.playFiles(files, sleepMs);
    if (!r.broken && !r.lastFound) throw new Error('File Not Found');
    return {};
  }

  async playCollect(opts: FsPlayCollectOptions): Promise<FsPlayCollectResult> {
    this.assertAlive();
    const terminators = opts.terminators || '#'; // drachtio-fsmrf's default for an empty list
    const files = (f: string): string[] => (f.startsWith('file_string://') ? f.slice('file_string://'.length).split('!') : [f]);
    for (let t = 0; t < opts.tries; t++) {
      const entry = new DigitEntry({ min: opts.min, max: opts.max, terminators, firstDigitMs: opts.timeout, interDigitMs: opts.digitTimeout }, realClock);
      this.entry = entry;
      void this.playFiles(files(opts.file)).then(() => entry.promptEnded());
      const outcome = await entry.outcome;
      this.entry = undefined;
      if (this.destroyed) return {};
      if (outcome.ok) return { digits: outcome.digits, ...(outcome.terminator === undefined ? {} : { terminatorUsed: outcome.terminator }) };
      if (t + 1 < opts.tries && opts.invalidFile !== undefined) await this.playFiles(files(opts.invalidFile));
    }
    return { digits: '' };
  }

  /** A key from the caller (RFC 2833 on the channel). */
  press(digit: string): void {
    if (!isDigit(digit)) throw new Error(`not a key: ${digit}`);
    this.emit('dtmf', { dtmf: digit, duration: '640', source: 'RTP' });
    if (this.entry !== undefined && this.entry.key(digit)) this.stopPlayback?.();
  }

  async api(command: string, args: string | string[] = ''): Promise<unknown> {
    const a = Array.isArray(args) ? args.join(' ') : args;
    this.apis.push(`${command} ${a}`);
    const [uuid, ...rest] = a.split(' ');
    if (uuid !== this.uuid) return { body: '-ERR No such channel!' };
    if (command === 'uuid_break') {
      this.stopPlayback?.();
      this.entry?.cancel();
    } else if (command === 'uuid_recv_dtmf') {
      for (const d of rest.join('')) this.press(d);
    } else if (command === 'uuid_broadcast') {
      this.broadcasts.push(rest.join(' '));
    } else if (command === 'uuid_record') {
      const [action, file = ''] = rest;
      if (action === 'start') {
        try {
          mkdirSync(dirname(file), { recursive: true });
          writeFileSync(file, wavHeader('pcm16', 1, 0));
        } catch {
          return { body: '-ERR Cannot record session!' };
        }
        this.recordings.set(file, { startedAt: Date.now(), channels: this.variable('RECORD_STEREO') === 'true' ? 2 : 1 });
      } else if (action === 'stop') {
        if (!this.closeRecording(file)) return { body: '-ERR Cannot stop record session!' };
      }
    }
    return { body: '+OK' };
  }

  set(param: string | Record<string, string>, value?: string): Promise<unknown> {
    if (typeof param === 'string') this.vars.set(param, value ?? '');
    else for (const [k, v] of Object.entries(param)) this.vars.set(k, v);
    return Promise.resolve({});
  }

  bridge(other: FsEndpoint): Promise<unknown> {
    this.assertAlive();
    if (!(other instanceof FakeFsEndpoint) || other.remoteSdp === undefined) return Promise.reject(new Error('-ERR cannot bridge'));
    this.bridgedWith = other;
    other.bridgedWith = this;
    return Promise.resolve();
  }

  unbridge(): Promise<unknown> {
    if (this.bridgedWith !== undefined) this.bridgedWith.bridgedWith = undefined;
    this.bridgedWith = undefined;
    return Promise.resolve();
  }

  modify(sdp: string): Promise<unknown> {
    this.mediaStarts(sdp);
    return Promise.resolve({});
  }

  /** Writes a recording's file as FreeSWITCH leaves it when it stops (false: no such recording). */
  private closeRecording(file: string): boolean {
    const r = this.recordings.get(file);
    if (r === undefined) return false;
    this.recordings.delete(file);
    const samples = Math.round(((Date.now() - r.startedAt) * 8000) / 1000);
    const data = Buffer.alloc(samples * 2 * r.channels);
    writeFileSync(file, Buffer.concat([wavHeader('pcm16', r.channels, data.length), data]));
    return true;
  }

  destroy(): Promise<unknown> {
    for (const file of [...this.recordings.keys()]) this.closeRecording(file);
    this.destroyed = true;
    clearTimeout(this.silenceTimer);
    this.stopPlayback?.();
    this.entry?.cancel();
    return Promise.resolve();
  }

  /** FreeSWITCH hangs the channel up (e.g. MEDIA_TIMEOUT). */
  hangupFromServer(reason: string): void {
    if (this.destroyed) return;
    for (const file of [...this.recordings.keys()]) this.closeRecording(file);
    this.destroyed = true;
    clearTimeout(this.silenceTimer);
    this.stopPlayback?.();
    this.entry?.cancel();
    this.emit('destroy', { reason });
  }

  private assertAlive(): void {
    if (this.destroyed) throw new Error('endpoint no longer active');
  }
}

export class FakeFsMediaServer implements FsMediaServer {
  readonly endpoints: FakeFsEndpoint[] = [];
  readonly dialogs: FakeDialog[] = [];
  readonly apis: string[] = [];
  readonly config: FsShippedConfig;
  readonly fileMs: number;
  private readonly sounds: { fsDir: string; localDir: string } | undefined;

  constructor(opts: FakeFsOptions = {}) {
    this.fileMs = opts.fileMs ?? 60;
    this.config = opts.config ?? loadShippedFsConfig();
    this.sounds = opts.sounds;
  }

  /** Whether FreeSWITCH finds a file (streams always play; files outside the mapped sounds folder are assumed present). */
  exists(file: string): boolean {
    if (/^[a-z_]+:\/\//.test(file) || this.sounds === undefined || !file.startsWith(`${this.sounds.fsDir}/`)) return true;
    return existsSync(this.sounds.localDir + file.slice(this.sounds.fsDir.length));
  }

  createEndpoint(opts: FsEndpointOptions = {}): Promise<FakeFsEndpoint> {
    const endpoint = new FakeFsEndpoint(this, {
      ...(opts.remoteSdp === undefined ? {} : { remoteSdp: opts.remoteSdp }),
      headers: { ...(opts.headers ?? {}) },
    });
    this.endpoints.push(endpoint);
    return Promise.resolve(endpoint);
  }

  /** drachtio-fsmrf's connectCaller: an endpoint for the caller's SDP, then the caller answered (the same headers on both). */
  async connectCaller(
    req: InviteRequest,
    _res: InviteResponse,
    opts: { headers?: Record<string, string> } = {},
  ): Promise<{ endpoint: FakeFsEndpoint; dialog: FakeDialog }> {
    const endpoint = await this.createEndpoint({
      ...(req.body === undefined ? {} : { remoteSdp: req.body }),
      ...(opts.headers ? { headers: opts.headers } : {}),
    });
    const dialog = new FakeDialog(endpoint.local.sdp);
    this.dialogs.push(dialog);
    return { endpoint, dialog };
  }

  api(command: string): Promise<string> {
    this.apis.push(command);
    const [cmd, ...rest] = command.split(' ');
    if (cmd === 'file_exists') return Promise.resolve(this.exists(rest.join(' ')) ? 'true' : 'false');
    return Promise.resolve('-ERR unknown command');
  }
}
