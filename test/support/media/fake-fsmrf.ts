/**
 * A fake drachtio-fsmrf MediaServer/Endpoint that behaves like FreeSWITCH for what the adapter
 * uses: playback takes time and can be broken (uuid_break), play_and_get_digits follows
 * FreeSWITCH's rules (flush, prompt stopped by the first key, first-digit and inter-digit
 * timeouts, terminators, tries, invalid file), keys arrive as DTMF events, uuid_recv_dtmf
 * injects a key, uuid_broadcast and uuid_bridge are recorded.
 */
import { EventEmitter } from 'node:events';
import { DigitEntry } from '../../../src/media/embedded/digit-entry.ts';
import { realClock } from '../../../src/media/embedded/pacing-clock.ts';
import type { FsEndpoint, FsMediaServer, FsPlayCollectOptions, FsPlayCollectResult } from '../../../src/media/freeswitch/fsmrf-types.ts';
import { isDigit } from '../../../src/media/media-port.ts';
import type { InviteRequest, InviteResponse } from '../../../src/media/media-port.ts';
import { FakeDialog } from './fake-dialog.ts';

let uuids = 0;

export class FakeFsEndpoint extends EventEmitter implements FsEndpoint {
  readonly uuid = `fs-${++uuids}`;
  readonly local = {
    sdp: `v=0\r\no=FreeSWITCH 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio ${20000 + uuids * 2} RTP/AVP 0 8 101\r\n`,
  };
  /** Every file played, in order (prompts, pagd prompts, invalid files). */
  readonly heard: string[] = [];
  readonly broadcasts: string[] = [];
  readonly vars = new Map<string, string>();
  readonly apis: string[] = [];
  remoteSdp: string | undefined;
  bridgedWith: FakeFsEndpoint | undefined;
  destroyed = false;
  private stopPlayback: (() => void) | undefined;
  private entry: DigitEntry | undefined;

  constructor(private readonly fileMs: number) {
    super();
  }

  private playOne(file: string): Promise<void> {
    this.heard.push(file);
    const silence = /^silence_stream:\/\/(\d+)/.exec(file);
    const ms = silence !== null ? Number(silence[1]) : this.fileMs;
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

  /** Plays files until done or broken; returns false when broken. */
  private async playFiles(files: string[]): Promise<boolean> {
    let broken = false;
    for (const f of files) {
      let wasBroken = false;
      const p = this.playOne(f);
      const stop = this.stopPlayback;
      this.stopPlayback = () => {
        wasBroken = true;
        stop?.();
      };
      await p;
      this.stopPlayback = undefined;
      if (wasBroken) {
        broken = true;
        break;
      }
    }
    return !broken;
  }

  async play(file: string | string[]): Promise<unknown> {
    this.assertAlive();
    await this.playFiles(Array.isArray(file) ? file : [file]);
    return {};
  }

  async playCollect(opts: FsPlayCollectOptions): Promise<FsPlayCollectResult> {
    this.assertAlive();
    const files = (f: string): string[] => (f.startsWith('file_string://') ? f.slice('file_string://'.length).split('!') : [f]);
    for (let t = 0; t < opts.tries; t++) {
      const entry = new DigitEntry(
        { min: opts.min, max: opts.max, terminators: opts.terminators, firstDigitMs: opts.timeout, interDigitMs: opts.digitTimeout },
        realClock,
      );
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
    this.remoteSdp = sdp;
    return Promise.resolve({});
  }

  destroy(): Promise<unknown> {
    this.destroyed = true;
    this.stopPlayback?.();
    this.entry?.cancel();
    return Promise.resolve();
  }

  /** FreeSWITCH hangs the channel up (e.g. MEDIA_TIMEOUT). */
  hangupFromServer(reason: string): void {
    this.destroyed = true;
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
  constructor(private readonly fileMs = 60) {}

  connectCaller(req: InviteRequest, _res: InviteResponse): Promise<{ endpoint: FakeFsEndpoint; dialog: FakeDialog }> {
    const endpoint = new FakeFsEndpoint(this.fileMs);
    endpoint.remoteSdp = req.body;
    const dialog = new FakeDialog(endpoint.local.sdp);
    this.endpoints.push(endpoint);
    this.dialogs.push(dialog);
    return Promise.resolve({ endpoint, dialog });
  }

  createEndpoint(): Promise<FakeFsEndpoint> {
    const endpoint = new FakeFsEndpoint(this.fileMs);
    this.endpoints.push(endpoint);
    return Promise.resolve(endpoint);
  }
}
