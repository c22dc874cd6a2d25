/**
 * The media port over FreeSWITCH, through drachtio-fsmrf:
 *
 * | port                 | FreeSWITCH                                                              |
 * |----------------------|-------------------------------------------------------------------------|
 * | answer               | MediaServer#createEndpoint(caller SDP), then the caller answered (createUAS) |
 * | play                 | Endpoint#play (file list); interruptible: first DTMF event → uuid_break |
 * | collect              | Endpoint#playCollect (play_and_get_digits); no terminator → 'none'      |
 * | createLeg / leg SDP  | MediaServer#createEndpoint (3pcc: FS offers) / Endpoint#modify(answer)  |
 * | bridge / release     | uuid_bridge / uuid_transfer to park, then the leg's endpoint destroyed  |
 * | inject               | uuid_broadcast <uuid> <files> aleg                                      |
 * | receiveInfo          | uuid_recv_dtmf (the key enters FS as if received on the channel)       |
 * | rtp-timeout          | FS hangs up with MEDIA_TIMEOUT → reported, then the session ends        |
 * | missing prompt       | "File Not Found" → reported to the observer (file_exists finds which)   |
 * | announce             | Endpoint#play on the outbound leg's endpoint (before the bridge)        |
 * | record               | RECORD_STEREO=true, uuid_record <uuid> start <file> on the caller's channel (left: what the caller sends, right: what they hear) |
 * | recording stopped    | uuid_record <uuid> stop <file> (release), or FreeSWITCH closes it at hang-up; then its size and SHA-256 from the store |
 *
 * The RTP timeout: FreeSWITCH reads `media_timeout` when a channel's RTP starts, so setting it on a
 * live channel does nothing. Every INVITE to FreeSWITCH (the caller's endpoint and each outbound
 * leg's) carries `X-Media-Timeout: <ms>`, and the shipped dialplan sets `media_timeout` from it
 * before `answer` (freeswitch/conf/dialplan/drachtio_mrf.xml).
 *
 * The caller's INFO reaches this process (the caller's dialog is ours), so INFO DTMF is passed
 * into FreeSWITCH with uuid_recv_dtmf; RFC 4733 keys arrive in FreeSWITCH directly.
 */
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import type {
  AnswerOptions,
  CallerDialog,
  UasFactory,
  CollectOptions,
  CollectResult,
  InviteRequest,
  InviteResponse,
  MediaLeg,
  MediaServer,
  MediaSession,
  MediaSessionEvents,
  PlayOptions,
  PlayResult,
  Prompt,
  Recording,
  RecordingFacts,
  RecordingSink,
} from '../media-port.ts';
import { isDigit, MediaNotAcceptableError } from '../media-port.ts';
import { promptPath } from '../prompts/catalog.ts';
import { assertPromptCatalogue, silentObserver } from '../prompts/prompt-check.ts';
import type { MediaObserver } from '../prompts/prompt-check.ts';
import { parseDtmfInfo } from '../dtmf-info.ts';
import type { FsEndpoint, FsMediaServer } from './fsmrf-types.ts';

/** The INVITE header the shipped dialplan turns into `media_timeout` (ms) before it answers. */
export const MEDIA_TIMEOUT_HEADER = 'X-Media-Timeout';

export interface FreeSwitchMediaOptions {
  /** A connected drachtio-fsmrf MediaServer (mrf.connect(...)). */
  ms: FsMediaServer;
  /** drachtio-srf (its createUAS answers the caller with FreeSWITCH's SDP). */
  uas: UasFactory;
  /** The sounds folder as FreeSWITCH sees it (holds <lang>/prepaid/*.wav). */
  soundsDir: string;
  language?: string;
  /** FreeSWITCH media_timeout in ms (0 disables). Default 30 s. */
  rtpTimeoutMs?: number;
  observer?: MediaObserver;
  /**
   * The recording store: FreeSWITCH writes each recording itself at `pathOf(key)` (the store's
   * directory as FreeSWITCH sees it: a shared volume), and the store then describes the file.
   */
  recordings?: RecordingSink;
}

/** The terminator argument of play_and_get_digits: fsmrf turns an empty one into '#', so "no terminator" is 'none' (no key matches it). */
export function fsTerminators(terminators: string | undefined): string {
  const t = terminators ?? '#';
  return t === '' ? 'none' : t;
}

/** Whether an SDP offer needs a DTLS handshake (WebRTC): not for this media path. */
function needsDtls(sdp: string): boolean {
  return /^m=audio \d+ UDP\/TLS\//m.test(sdp) || /^a=fingerprint:/m.test(sdp);
}

/** Files of a list that FreeSWITCH does not find (asked with file_exists); the whole list when it cannot say. */
async function notFound(ms: FsMediaServer, files: readonly string[]): Promise<string[]> {
  const real = files.filter((f) => !/^[a-z_]+:\/\//.test(f));
  try {
    const found = await Promise.all(real.map(async (f) => String(await ms.api(`file_exists ${f}`)).trim() === 'true'));
    const missing = real.filter((_f, i) => !found[i]);
    return missing.length > 0 ? missing : real;
  } catch {
    return real;
  }
}

/**
 * The start-up check: every prompt of the catalogue exists where FreeSWITCH reads it (asked over
 * the event socket with file_exists). Throws MissingPromptsError naming what is missing.
 */
export async function checkFreeSwitchPrompts(ms: FsMediaServer, soundsDir: string, languages: readonly string[] = ['en']): Promise<void> {
  await assertPromptCatalogue(
    `${soundsDir} (on the FreeSWITCH host)`,
    async (p) => String(await ms.api(`file_exists ${soundsDir}/${p}`)).trim() === 'true',
    languages,
  );
}

/** FreeSWITCH file strings for prompts. */
export function fsFiles(soundsDir: string, language: string, prompts: readonly Prompt[]): string[] {
  return prompts.map((p) => (typeof p === 'object' ? `silence_stream://${Math.max(0, Math.round(p.silenceMs))}` : `${soundsDir}/${promptPath(language, p)}`));
}

/** One FreeSWITCH argument holding a list of files (play_and_get_digits, uuid_broadcast). */
export function fsFileString(files: readonly string[]): string {
  if (files.length === 1) return files[0] ?? '';
  return `file_string://${files.join('!')}`;
}

enum FsState {
  Idle = 'idle',
  Bridged = 'bridged',
  Ended = 'ended',
}

class FsLeg implements MediaLeg {
  constructor(readonly endpoint: FsEndpoint) {}
  get localSdp(): string {
    return this.endpoint.local.sdp;
  }
  async setRemoteSdp(sdp: string): Promise<void> {
    await this.endpoint.modify(sdp);
  }
}

class FreeSwitchSession implements MediaSession {
  private state = FsState.Idle;
  private readonly events = new EventEmitter();
  private leg: FsLeg | undefined;
  /** Stops the running play/collect. */
  private cancelOp: ((r: 'stopped' | 'hangup') => void) | undefined;
  private interrupt: ((digit: string) => void) | undefined;
  private ending: Promise<void> | undefined;
  /** The recording in progress: its key, file as FreeSWITCH writes it, start, and the stop (once). */
  private recording: { key: string; path: string; startedAt: number; stopping?: Promise<RecordingFacts> } | undefined;

  constructor(
    readonly id: string,
    readonly dialog: CallerDialog,
    private readonly ep: FsEndpoint,
    private readonly ms: FsMediaServer,
    private readonly files: (prompts: readonly Prompt[]) => string[],
    private readonly rtpTimeoutMs: number,
    private readonly inviteHeaders: Record<string, string>,
    private readonly observer: MediaObserver,
    private readonly onEnded: (s: FreeSwitchSession) => void,
    private readonly recordings?: RecordingSink,
  ) {
    ep.on('dtmf', (e) => {
      const digit = e.dtmf.toUpperCase();
      if (!isDigit(digit)) return;
      const durationMs = e.duration === undefined ? undefined : Number(e.duration) / 8;
      this.events.emit(
        'dtmf',
        durationMs === undefined || !Number.isFinite(durationMs) ? { digit, source: 'media-server' } : { digit, source: 'media-server', durationMs },
      );
      this.interrupt?.(digit);
    });
    ep.on('destroy', (e) => {
      if (e.reason === 'MEDIA_TIMEOUT') this.events.emit('rtp-timeout', { leg: 'caller', silentMs: this.rtpTimeoutMs });
      void this.end('media-server-hangup');
    });
    dialog.on('destroy', () => {
      void this.end('caller-hangup');
    });
    if (dialog.connected === false)
      queueMicrotask(() => {
        void this.end('caller-hangup');
      }); // hung up before we listened
    dialog.on('info', (req, res) => {
      this.receiveInfo(req.get('Content-Type'), req.body);
      res.send(200);
    });
  }

  on<E extends keyof MediaSessionEvents>(event: E, fn: MediaSessionEvents[E]): void {
    this.events.on(event, fn);
  }
  off<E extends keyof MediaSessionEvents>(event: E, fn: MediaSessionEvents[E]): void {
    this.events.off(event, fn);
  }

  private stopOp(r: 'stopped' | 'hangup'): void {
    const c = this.cancelOp;
    this.cancelOp = undefined;
    c?.(r);
  }

  private async breakMedia(): Promise<void> {
    try {
      await this.ep.api('uuid_break', `${this.ep.uuid} all`);
    } catch {
      // the channel is gone
    }
  }

  async play(prompts: readonly Prompt[], opts: PlayOptions = {}): Promise<PlayResult> {
    if (this.state === FsState.Ended) return { kind: 'hangup' };
    if (this.state === FsState.Bridged) throw new Error('media session: play while bridged (use inject)');
    this.stopOp('stopped');
    const files = this.files(prompts);
    return new Promise<PlayResult>((resolve) => {
      let settled = false;
      const settle = (r: PlayResult): void => {
        if (settled) return;
        settled = true;
        if (this.cancelOp === cancel) this.cancelOp = undefined;
        if (this.interrupt === onKey) this.interrupt = undefined;
        resolve(r);
      };
      const cancel = (r: 'stopped' | 'hangup'): void => {
        settle({ kind: r });
        if (r === 'stopped') void this.breakMedia();
      };
      const onKey = (digit: string): void => {
        if (!isDigit(digit)) return;
        settle({ kind: 'interrupted', digit });
        void this.breakMedia();
      };
      this.cancelOp = cancel;
      if (opts.interruptible === true) this.interrupt = onKey;
      void (async () => {
        try {
          do {
            try {
              await this.ep.play(files);
            } catch (err) {
              // a missing file: FreeSWITCH played the rest of the list; report it and go on
              if (this.isEnded() || (err as Error).message !== 'File Not Found') throw err;
              this.reportMissing(files);
            }
          } while (opts.loop === true && !settled && !this.isEnded());
          settle(this.isEnded() ? { kind: 'hangup' } : { kind: 'done' });
        } catch {
          settle({ kind: 'hangup' });
        }
      })();
    });
  }

  private reportMissing(files: readonly string[]): void {
    void notFound(this.ms, files).then((missing) => this.observer.promptMissing({ server: 'freeswitch', files: missing, sessionId: this.id }));
  }

  async collect(opts: CollectOptions): Promise<CollectResult> {
    if (this.state === FsState.Ended) return { kind: 'hangup' };
    if (this.state === FsState.Bridged) throw new Error('media session: collect while bridged');
    this.stopOp('stopped');
    const prompts = opts.prompts ?? [];
    const file = prompts.length === 0 ? 'silence_stream://10' : fsFileString(this.files(prompts));
    const retryFiles = opts.retryPrompts ?? [];
    return new Promise<CollectResult>((resolve) => {
      let settled = false;
      const settle = (r: CollectResult): void => {
        if (settled) return;
        settled = true;
        if (this.cancelOp === cancel) this.cancelOp = undefined;
        resolve(r);
      };
      const cancel = (r: 'stopped' | 'hangup'): void => {
        settle({ kind: r });
        if (r === 'stopped') void this.breakMedia();
      };
      this.cancelOp = cancel;
      this.ep
        .playCollect({
          file,
          min: opts.min,
          max: opts.max,
          tries: 1 + (opts.retries ?? 0),
          timeout: opts.firstDigitMs,
          digitTimeout: opts.interDigitMs,
          terminators: fsTerminators(opts.terminators),
          invalidFile: retryFiles.length === 0 ? 'silence_stream://250' : fsFileString(this.files(retryFiles)),
          regexp: '^[0-9*#ABCD]+$',
        })
        .then(
          (r) => {
            if (this.isEnded()) return settle({ kind: 'hangup' });
            const digits = r.digits ?? '';
            if (digits === '') return settle({ kind: 'timeout' });
            const t = r.terminatorUsed;
            settle(t === undefined || t === '' ? { kind: 'digits', digits } : { kind: 'digits', digits, terminator: t });
          },
          () => settle({ kind: 'hangup' }),
        );
    });
  }

  receiveInfo(contentType: string | undefined, body: string | undefined): boolean {
    const key = parseDtmfInfo(contentType, body);
    if (key === undefined) return false;
    if (this.state !== FsState.Ended) void this.ep.api('uuid_recv_dtmf', `${this.ep.uuid} ${key.digit}`).catch(() => undefined);
    return true;
  }

  async createLeg(): Promise<MediaLeg> {
    if (this.state === FsState.Ended) throw new Error('media session: createLeg after end');
    if (this.leg !== undefined) throw new Error('media session: an outbound leg already exists (release it first)');
    // 3pcc (FreeSWITCH offers); the dialplan sets media_timeout from the header before it answers
    const endpoint = await this.ms.createEndpoint({ headers: this.inviteHeaders });
    if (this.isEnded()) {
      await endpoint.destroy();
      throw new Error('media session: ended while opening a leg');
    }
    endpoint.on('destroy', (e) => {
      if (e.reason === 'MEDIA_TIMEOUT') this.events.emit('rtp-timeout', { leg: 'outbound', silentMs: this.rtpTimeoutMs });
    });
    this.leg = new FsLeg(endpoint);
    return this.leg;
  }

  async bridge(leg: MediaLeg): Promise<void> {
    if (leg !== this.leg || !(leg instanceof FsLeg)) throw new Error('media session: bridge to a leg this session did not create');
    if (this.state !== FsState.Idle) throw new Error(`media session: illegal transition ${this.state} → bridged`);
    this.stopOp('stopped');
    await this.ep.bridge(leg.endpoint);
    this.state = FsState.Bridged;
  }

  async inject(prompts: readonly Prompt[]): Promise<void> {
    if (this.state === FsState.Ended) return;
    await this.ep.api('uuid_broadcast', `${this.ep.uuid} ${fsFileString(this.files(prompts))} aleg`);
  }

  async announce(leg: MediaLeg, prompts: readonly Prompt[]): Promise<void> {
    if (leg !== this.leg || !(leg instanceof FsLeg)) throw new Error('media session: announce to a leg this session did not create');
    if (this.state === FsState.Ended) return;
    try {
      await leg.endpoint.play(this.files(prompts));
    } catch {
      // a missing file or the leg gone: the call goes on
    }
  }

  async record(key: string): Promise<Recording> {
    if (this.state !== FsState.Bridged) throw new Error('media session: record while not bridged');
    if (this.recording !== undefined && this.recording.stopping === undefined) throw new Error('media session: already recording');
    const path = this.recordings?.pathOf?.(key);
    if (path === undefined || this.recordings?.describe === undefined) throw new Error('media session: no recording store FreeSWITCH can write to');
    await this.ep.set('RECORD_STEREO', 'true');
    const reply = String(((await this.ep.api('uuid_record', `${this.ep.uuid} start ${path}`)) as { body?: unknown } | undefined)?.body ?? '');
    if (reply.startsWith('-ERR')) throw new Error(`uuid_record: ${reply.trim()}`);
    const r: { key: string; path: string; startedAt: number; stopping?: Promise<RecordingFacts> } = { key, path, startedAt: Date.now() };
    this.recording = r;
    return { key, stop: () => this.stopRecording(r) };
  }

  /** Stops the recording (uuid_record stop while the channel lives; FreeSWITCH closes the file itself at hang-up) and describes the file. */
  private stopRecording(r: { key: string; path: string; startedAt: number; stopping?: Promise<RecordingFacts> }): Promise<RecordingFacts> {
    r.stopping ??= (async () => {
      const durationMs = Date.now() - r.startedAt;
      if (!this.isEnded()) await this.ep.api('uuid_record', `${this.ep.uuid} stop ${r.path}`).catch(() => undefined);
      const d = await this.recordings!.describe!(r.key);
      return { key: r.key, bytes: d.bytes, sha256: d.sha256, durationMs };
    })();
    return r.stopping;
  }

  async release(): Promise<void> {
    const leg = this.leg;
    this.leg = undefined;
    if (this.recording !== undefined) this.stopRecording(this.recording).catch(() => undefined);
    if (this.state === FsState.Bridged) {
      this.state = FsState.Idle;
      try {
        await this.ep.unbridge();
      } catch {
        // the bridge was already gone (the leg hung up)
      }
    }
    if (leg !== undefined) {
      leg.endpoint.removeAllListeners('destroy');
      await leg.endpoint.destroy();
    }
  }

  destroy(): Promise<void> {
    return this.end('destroyed');
  }

  private isEnded(): boolean {
    return this.state === FsState.Ended;
  }

  private end(reason: 'destroyed' | 'caller-hangup' | 'media-server-hangup'): Promise<void> {
    if (this.ending !== undefined) return this.ending;
    this.ending = (async () => {
      this.stopOp(reason === 'destroyed' ? 'stopped' : 'hangup');
      this.state = FsState.Ended;
      this.interrupt = undefined;
      const leg = this.leg;
      this.leg = undefined;
      const quietly = async (f: () => unknown): Promise<void> => {
        try {
          await f();
        } catch {
          /* already gone */
        }
      };
      this.ep.removeAllListeners('destroy');
      await Promise.all([
        quietly(() => this.ep.destroy()),
        ...(leg === undefined ? [] : [quietly(() => leg.endpoint.destroy())]),
        ...(reason === 'caller-hangup' ? [] : [quietly(() => this.dialog.destroy())]),
      ]);
      this.onEnded(this);
      this.events.emit('ended', { reason });
    })();
    return this.ending;
  }
}

export class FreeSwitchMediaServer implements MediaServer {
  private readonly sessions = new Set<FreeSwitchSession>();

  constructor(private readonly opts: FreeSwitchMediaOptions) {}

  get sessionCount(): number {
    return this.sessions.size;
  }

  /** Headers of every INVITE to FreeSWITCH: the RTP timeout the dialplan applies before answering. */
  private inviteHeaders(): Record<string, string> {
    const timeout = this.opts.rtpTimeoutMs ?? 30_000;
    return timeout > 0 ? { [MEDIA_TIMEOUT_HEADER]: String(timeout) } : {};
  }

  /** The start-up check of the prompt catalogue (MissingPromptsError when FreeSWITCH lacks one). */
  checkPrompts(languages: readonly string[] = [this.opts.language ?? 'en']): Promise<void> {
    return checkFreeSwitchPrompts(this.opts.ms, this.opts.soundsDir, languages);
  }

  answer(req: InviteRequest, res: InviteResponse, opts: AnswerOptions = {}): Promise<MediaSession> {
    return this.answerOffer(
      req.body ?? '',
      (localSdp) => this.opts.uas.createUAS(req, res, { localSdp, ...(opts.headers === undefined ? {} : { headers: opts.headers }) }),
      opts,
    );
  }

  async answerOffer(
    offer: string,
    acknowledge: (localSdp: string) => Promise<CallerDialog>,
    opts: Pick<AnswerOptions, 'language'> = {},
  ): Promise<MediaSession> {
    if (offer.trim() === '') throw new MediaNotAcceptableError('no SDP offer (late offer is not supported)');
    if (needsDtls(offer)) throw new MediaNotAcceptableError('DTLS-SRTP offers are not supported');
    const headers = this.inviteHeaders();
    // drachtio-fsmrf's connectCaller would put the same headers on the caller's 200 OK: do its two steps here
    const endpoint = await this.opts.ms.createEndpoint({ remoteSdp: offer, headers });
    let dialog: CallerDialog;
    try {
      dialog = await acknowledge(endpoint.local.sdp);
    } catch (err) {
      await Promise.resolve(endpoint.destroy()).catch(() => undefined);
      throw err;
    }
    const timeout = this.opts.rtpTimeoutMs ?? 30_000;
    const language = opts.language ?? this.opts.language ?? 'en';
    const files = (p: readonly Prompt[]) => fsFiles(this.opts.soundsDir, language, p);
    const session = new FreeSwitchSession(
      randomUUID(),
      dialog,
      endpoint,
      this.opts.ms,
      files,
      timeout,
      headers,
      this.opts.observer ?? silentObserver,
      (s) => {
        this.sessions.delete(s);
      },
      this.opts.recordings,
    );
    this.sessions.add(session);
    return session;
  }

  /** An endpoint for a caller the B2BUA answers itself (a device call anchored for recording): FreeSWITCH's answer to `offer` is `localSdp`. */
  async open(offer: string, opts: AnswerOptions = {}): Promise<{ session: MediaSession; localSdp: string }> {
    // the caller's dialog is the B2BUA's: nothing to hang up here, and no SIP to send
    const detached: CallerDialog = { connected: true, on: () => detached, destroy: () => undefined };
    let localSdp = '';
    const session = await this.answerOffer(
      offer,
      async (sdp) => {
        localSdp = sdp;
        return detached;
      },
      opts,
    );
    return { session, localSdp };
  }

  async close(): Promise<void> {
    await Promise.all([...this.sessions].map((s) => s.destroy()));
  }
}
