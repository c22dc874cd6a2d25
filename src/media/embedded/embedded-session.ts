/**
 * A caller answered by the embedded endpoint.
 *
 *   Idle ──bridge──▶ Bridged ──release──▶ Idle        (play / collect only while Idle;
 *     │                 │                              inject in either state)
 *     └─destroy/hangup──┴──▶ Ended
 *
 * Audio we originate (prompts, injected warnings) is sent by the shared pacing clock, one 20 ms
 * frame per tick. While bridged, packets are relayed between the caller and the outbound leg
 * as they arrive (re-stamped with our SSRC/sequence/timestamps, transcoded between the laws if
 * the legs differ); an injected prompt replaces the far end's audio towards the caller while it
 * plays, the far end keeps hearing the caller.
 */
import { EventEmitter } from 'node:events';
import type {
  CallerDialog,
  CollectOptions,
  CollectResult,
  Digit,
  DtmfSource,
  MediaLeg,
  MediaSession,
  MediaSessionEvents,
  PlayOptions,
  PlayResult,
  Prompt,
  Recording,
  RecordingSink,
} from '../media-port.ts';
import { StereoRecorder } from './stereo-recorder.ts';
import { DigitEntry } from './digit-entry.ts';
import { parseDtmfInfo } from '../dtmf-info.ts';
import { ALAW_TO_ULAW, ULAW_TO_ALAW, mapBytes } from './g711.ts';
import type { PacingClock } from './pacing-clock.ts';
import type { MediaObserver } from '../prompts/prompt-check.ts';
import type { PromptStore } from './prompt-store.ts';
import type { RtpLeg } from './rtp-leg.ts';
import type { RtpPacket } from './rtp-packet.ts';
import { buildOffer, negotiate, parseSdp, SdpError } from './sdp.ts';
import { MediaNotAcceptableError } from '../media-port.ts';
import { TelephoneEventReceiver } from './telephone-event.ts';

export enum SessionState {
  Idle = 'idle',
  Bridged = 'bridged',
  Ended = 'ended',
}

const TRANSITIONS: Record<SessionState, readonly SessionState[]> = {
  [SessionState.Idle]: [SessionState.Bridged, SessionState.Ended],
  [SessionState.Bridged]: [SessionState.Idle, SessionState.Ended],
  [SessionState.Ended]: [],
};

export function nextSessionState(from: SessionState, to: SessionState): SessionState {
  if (!TRANSITIONS[from].includes(to)) throw new Error(`media session: illegal transition ${from} → ${to}`);
  return to;
}

/** What the session needs of its server. */
export interface SessionHost {
  clock: PacingClock;
  prompts: PromptStore;
  rtpTimeoutMs: number;
  observer: MediaObserver;
  /** A new RTP leg on a free port (throws MediaPortsExhaustedError). */
  openLeg(): Promise<RtpLeg>;
  closeLeg(leg: RtpLeg): Promise<void>;
  ended(session: EmbeddedSession): void;
  /** Where recordings are written; none: record() rejects. */
  recordings?: RecordingSink;
}

/** Audio played to the outbound leg's party alone (the recording notice). */
interface LegPlayer {
  leg: EmbeddedLeg;
  frames: Buffer[];
  index: number;
  done(): void;
}

interface Player {
  frames: Buffer[];
  index: number;
  loop: boolean;
  interruptible: boolean;
  finish(r: PlayResult): void;
}

class EmbeddedLeg implements MediaLeg {
  constructor(
    readonly rtp: RtpLeg,
    readonly localSdp: string,
  ) {}

  setRemoteSdp(sdp: string): Promise<void> {
    try {
      this.rtp.setNegotiated(negotiate(parseSdp(sdp)));
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err instanceof SdpError ? new MediaNotAcceptableError(err.message) : err);
    }
  }
}

export class EmbeddedSession implements MediaSession {
  state = SessionState.Idle;
  private readonly events = new EventEmitter();
  private readonly dtmfIn = new TelephoneEventReceiver();
  private player: Player | undefined;
  private entry: DigitEntry | undefined;
  /** Cancels the running play or collect (with 'stopped' or 'hangup'). */
  private cancelOp: ((r: 'stopped' | 'hangup') => void) | undefined;
  private leg: EmbeddedLeg | undefined;
  private bridged: EmbeddedLeg | undefined;
  private readonly unsubscribe: () => void;
  private destroying: Promise<void> | undefined;
  private legPlayer: LegPlayer | undefined;
  private recorder: StereoRecorder | undefined;

  constructor(
    readonly id: string,
    readonly dialog: CallerDialog,
    readonly caller: RtpLeg,
    private readonly host: SessionHost,
    private readonly language: string,
  ) {
    caller.onPacket((p) => this.fromCaller(p));
    this.unsubscribe = host.clock.subscribe((_tick, at) => this.onTick(at));
    dialog.on('destroy', () => {
      void this.end('hangup');
    });
    if (dialog.connected === false)
      queueMicrotask(() => {
        void this.end('hangup');
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

  // ---- prompts and digits

  play(prompts: readonly Prompt[], opts: PlayOptions = {}): Promise<PlayResult> {
    if (this.state === SessionState.Ended) return Promise.resolve({ kind: 'hangup' });
    if (this.state === SessionState.Bridged) throw new Error('media session: play while bridged (use inject)');
    this.stopOp('stopped');
    return new Promise<PlayResult>((resolve) => {
      const done = (r: PlayResult): void => {
        if (this.cancelOp === cancel) this.cancelOp = undefined;
        resolve(r);
      };
      const cancel = (r: 'stopped' | 'hangup'): void => {
        this.stopPlayer({ kind: r });
      };
      this.cancelOp = cancel;
      this.startPlayer(prompts, opts.interruptible ?? false, opts.loop ?? false, done);
    });
  }

  async collect(opts: CollectOptions): Promise<CollectResult> {
    if (this.state === SessionState.Ended) return { kind: 'hangup' };
    if (this.state === SessionState.Bridged) throw new Error('media session: collect while bridged');
    this.stopOp('stopped');
    let cancelled: 'stopped' | 'hangup' | undefined;
    const cancel = (r: 'stopped' | 'hangup'): void => {
      cancelled = r;
      this.entry?.cancel();
      this.stopPlayer({ kind: r });
    };
    this.cancelOp = cancel;
    const rules = {
      min: opts.min,
      max: opts.max,
      terminators: opts.terminators ?? '#',
      firstDigitMs: opts.firstDigitMs,
      interDigitMs: opts.interDigitMs,
    };
    const tries = 1 + (opts.retries ?? 0);
    try {
      for (let t = 0; t < tries; t++) {
        const entry = new DigitEntry(rules, this.host.clock.timers);
        this.entry = entry;
        const prompts = opts.prompts ?? [];
        if (prompts.length > 0) {
          this.startPlayer(prompts, false, false, () => entry.promptEnded());
        } else {
          entry.promptEnded();
        }
        const outcome = await entry.outcome;
        this.entry = undefined;
        if (cancelled !== undefined) return { kind: cancelled };
        if (outcome.ok) {
          this.stopPlayer({ kind: 'stopped' });
          return outcome.terminator === undefined
            ? { kind: 'digits', digits: outcome.digits }
            : { kind: 'digits', digits: outcome.digits, terminator: outcome.terminator };
        }
        this.stopPlayer({ kind: 'stopped' });
        if (t + 1 < tries && (opts.retryPrompts?.length ?? 0) > 0) {
          await new Promise<void>((resolve) => this.startPlayer(opts.retryPrompts ?? [], false, false, () => resolve()));
          if (cancelled !== undefined) return { kind: cancelled };
        }
      }
      return { kind: 'timeout' };
    } finally {
      this.entry = undefined;
      if (this.cancelOp === cancel) this.cancelOp = undefined;
    }
  }

  receiveInfo(contentType: string | undefined, body: string | undefined): boolean {
    const key = parseDtmfInfo(contentType, body);
    if (key === undefined) return false;
    this.onDigit(key.digit, 'info', key.durationMs);
    return true;
  }

  private onDigit(digit: Digit, source: DtmfSource, durationMs?: number): void {
    if (this.state === SessionState.Ended) return;
    this.events.emit('dtmf', durationMs === undefined ? { digit, source } : { digit, source, durationMs });
    if (this.entry !== undefined) {
      if (this.entry.key(digit)) this.stopPlayer({ kind: 'interrupted', digit });
      return;
    }
    if (this.player?.interruptible === true) this.stopPlayer({ kind: 'interrupted', digit });
  }

  // ---- playback (paced by the shared clock)

  private startPlayer(prompts: readonly Prompt[], interruptible: boolean, loop: boolean, finish: (r: PlayResult) => void): void {
    this.stopPlayer({ kind: 'stopped' });
    const codec = this.caller.negotiated?.codec ?? 'PCMU';
    const { frames, missing } = this.host.prompts.playable(this.language, prompts, codec);
    if (missing.length > 0) this.host.observer.promptMissing({ server: 'embedded', files: missing, sessionId: this.id });
    if (frames.length === 0) {
      finish({ kind: 'done' });
      return;
    }
    this.player = { frames, index: 0, loop, interruptible, finish };
  }

  private stopPlayer(r: PlayResult): void {
    const p = this.player;
    if (p === undefined) return;
    this.player = undefined;
    p.finish(r);
  }

  private stopOp(r: 'stopped' | 'hangup'): void {
    const c = this.cancelOp;
    this.cancelOp = undefined;
    c?.(r);
    this.stopPlayer({ kind: r });
  }

  private onTick(at: number): void {
    const p = this.player;
    if (p !== undefined) {
      const frame = p.frames[p.index];
      const n = this.caller.negotiated;
      if (frame !== undefined && n !== undefined) this.caller.send(this.caller.stream.paced(n.codecPt, at), frame);
      p.index++;
      if (p.index >= p.frames.length) {
        if (p.loop) p.index = 0;
        else this.stopPlayer({ kind: 'done' });
      }
    }
    const lp = this.legPlayer;
    if (lp !== undefined) {
      const frame = lp.frames[lp.index];
      const n = lp.leg.rtp.negotiated;
      if (frame !== undefined && n !== undefined) lp.leg.rtp.send(lp.leg.rtp.stream.paced(n.codecPt, at), frame);
      lp.index++;
      if (lp.index >= lp.frames.length) this.stopLegPlayer();
    }
    this.recorder?.tick();
    this.checkTimeouts();
  }

  private stopLegPlayer(): void {
    const lp = this.legPlayer;
    this.legPlayer = undefined;
    lp?.done();
  }

  // ---- the recording notice and the recording

  announce(leg: MediaLeg, prompts: readonly Prompt[]): Promise<void> {
    if (leg !== this.leg || !(leg instanceof EmbeddedLeg)) throw new Error('media session: announce to a leg this session did not create');
    if (this.state === SessionState.Ended || leg.rtp.negotiated === undefined) return Promise.resolve();
    this.stopLegPlayer();
    const { frames, missing } = this.host.prompts.playable(this.language, prompts, leg.rtp.negotiated.codec);
    if (missing.length > 0) this.host.observer.promptMissing({ server: 'embedded', files: missing, sessionId: this.id });
    if (frames.length === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.legPlayer = { leg, frames, index: 0, done: resolve };
    });
  }

  async record(key: string): Promise<Recording> {
    if (this.state !== SessionState.Bridged) throw new Error('media session: record while not bridged');
    if (this.recorder !== undefined && !this.recorder.stopped) throw new Error('media session: already recording');
    const sink = this.host.recordings;
    if (sink === undefined) throw new Error('media session: no recording store');
    const file = await sink.create(key);
    if (this.isEnded() || this.bridged === undefined) {
      await file.abort();
      throw new Error('media session: the call ended before the recording started');
    }
    const recorder = new StereoRecorder(key, file);
    this.recorder = recorder;
    return { key, stop: () => recorder.stop() };
  }

  /** The recording ends with the bridge (its holder's stop() gets the outcome). */
  private stopRecording(): void {
    const r = this.recorder;
    this.recorder = undefined;
    if (r !== undefined)
      r.stop().catch(() => {
        /* reported to whoever holds the recording */
      });
  }

  private checkTimeouts(): void {
    const limit = this.host.rtpTimeoutMs;
    if (limit <= 0) return;
    const now = this.host.clock.now();
    const check = (leg: RtpLeg, name: 'caller' | 'outbound'): void => {
      if (leg.timeoutReported || leg.negotiated === undefined || !leg.negotiated.receive) return;
      const silent = now - leg.lastRxAt;
      if (silent >= limit) {
        leg.timeoutReported = true;
        this.events.emit('rtp-timeout', { leg: name, silentMs: Math.round(silent) });
      }
    };
    check(this.caller, 'caller');
    if (this.bridged !== undefined) check(this.bridged.rtp, 'outbound');
  }

  // ---- outbound leg, bridge, relay

  async createLeg(): Promise<MediaLeg> {
    if (this.state === SessionState.Ended) throw new Error('media session: createLeg after end');
    if (this.leg !== undefined) throw new Error('media session: an outbound leg already exists (release it first)');
    const rtp = await this.host.openLeg();
    if (this.isEnded()) {
      await this.host.closeLeg(rtp);
      throw new Error('media session: ended while opening a leg');
    }
    const leg = new EmbeddedLeg(rtp, buildOffer(rtp.address, rtp.port, this.caller.negotiated?.codec ?? 'PCMU'));
    rtp.onPacket((p) => this.fromOutbound(leg, p));
    this.leg = leg;
    return leg;
  }

  bridge(leg: MediaLeg): Promise<void> {
    if (leg !== this.leg || !(leg instanceof EmbeddedLeg)) throw new Error('media session: bridge to a leg this session did not create');
    if (leg.rtp.negotiated === undefined) throw new Error('media session: bridge before the leg has the remote SDP');
    this.stopOp('stopped');
    this.state = nextSessionState(this.state, SessionState.Bridged);
    this.bridged = leg;
    return Promise.resolve();
  }

  inject(prompts: readonly Prompt[]): Promise<void> {
    if (this.state === SessionState.Ended) return Promise.resolve();
    if (this.state === SessionState.Idle) {
      void this.play(prompts);
      return Promise.resolve();
    }
    this.startPlayer(prompts, false, false, () => undefined);
    return Promise.resolve();
  }

  async release(): Promise<void> {
    const leg = this.leg;
    this.leg = undefined;
    this.stopRecording();
    this.stopLegPlayer();
    if (this.state === SessionState.Bridged) {
      this.stopPlayer({ kind: 'stopped' });
      this.bridged = undefined;
      this.state = nextSessionState(this.state, SessionState.Idle);
    }
    if (leg !== undefined) await this.host.closeLeg(leg.rtp);
  }

  private fromCaller(pkt: RtpPacket): void {
    const n = this.caller.negotiated;
    if (n === undefined) return;
    if (n.eventPt !== undefined && pkt.payloadType === n.eventPt) {
      const key = this.dtmfIn.receive(pkt.ssrc, pkt.timestamp, pkt.payload);
      if (key !== undefined) this.onDigit(key.digit, 'rfc4733');
    }
    if (this.recorder !== undefined && pkt.payloadType === n.codecPt) this.recorder.fromCaller(pkt.payload, n.codec);
    if (this.bridged !== undefined) this.relay(pkt, this.caller, this.bridged.rtp);
  }

  private fromOutbound(leg: EmbeddedLeg, pkt: RtpPacket): void {
    if (this.bridged !== leg) return; // not bridged yet
    const n = leg.rtp.negotiated;
    if (this.recorder !== undefined && n !== undefined && pkt.payloadType === n.codecPt) this.recorder.fromOther(pkt.payload, n.codec);
    if (this.player !== undefined) return; // a warning is playing to the caller
    this.relay(pkt, leg.rtp, this.caller);
  }

  private relay(pkt: RtpPacket, from: RtpLeg, to: RtpLeg): void {
    const src = from.negotiated;
    const dst = to.negotiated;
    if (src === undefined || dst === undefined) return;
    const now = this.host.clock.now();
    if (pkt.payloadType === src.codecPt) {
      const payload = src.codec === dst.codec ? pkt.payload : mapBytes(pkt.payload, src.codec === 'PCMU' ? ULAW_TO_ALAW : ALAW_TO_ULAW);
      to.send(to.stream.relayed(dst.codecPt, pkt.ssrc, pkt.timestamp, pkt.marker, now), payload);
    } else if (src.eventPt !== undefined && pkt.payloadType === src.eventPt && dst.eventPt !== undefined) {
      to.send(to.stream.relayed(dst.eventPt, pkt.ssrc, pkt.timestamp, pkt.marker, now), pkt.payload);
    }
  }

  // ---- the end

  /** (A method, so the compiler does not narrow the state across awaits.) */
  private isEnded(): boolean {
    return this.state === SessionState.Ended;
  }

  destroy(): Promise<void> {
    return this.end('destroyed');
  }

  private end(why: 'destroyed' | 'hangup'): Promise<void> {
    if (this.destroying !== undefined) return this.destroying;
    this.destroying = (async () => {
      this.stopOp(why === 'hangup' ? 'hangup' : 'stopped');
      this.state = nextSessionState(this.state, SessionState.Ended);
      this.unsubscribe();
      this.stopRecording();
      this.stopLegPlayer();
      this.bridged = undefined;
      const leg = this.leg;
      this.leg = undefined;
      if (why === 'destroyed') {
        try {
          await this.dialog.destroy();
        } catch {
          // the dialog was already gone
        }
      }
      await Promise.all([this.host.closeLeg(this.caller), ...(leg === undefined ? [] : [this.host.closeLeg(leg.rtp)])]);
      this.host.ended(this);
      this.events.emit('ended', { reason: why === 'hangup' ? 'caller-hangup' : 'destroyed' });
    })();
    return this.destroying;
  }
}
