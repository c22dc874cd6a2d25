/**
 * The embedded media server: answers callers with an RTP endpoint in this process. Loopback or
 * any configured local address; ports from a range; one shared pacing clock for all sessions.
 */
import { randomUUID } from 'node:crypto';
import type { AnswerOptions, CallerDialog, InviteRequest, InviteResponse, MediaServer, MediaSession, RecordingSink, UasFactory } from '../media-port.ts';
import { MediaNotAcceptableError } from '../media-port.ts';
import { EmbeddedSession } from './embedded-session.ts';
import type { SessionHost } from './embedded-session.ts';
import { PacingClock } from './pacing-clock.ts';
import { PortAllocator } from './port-allocator.ts';
import { PromptStore } from './prompt-store.ts';
import { silentObserver } from '../prompts/prompt-check.ts';
import type { MediaObserver } from '../prompts/prompt-check.ts';
import { RtpLeg } from './rtp-leg.ts';
import { buildAnswer, negotiate, parseSdp, SdpError } from './sdp.ts';
import type { Negotiated } from './sdp.ts';

export interface EmbeddedMediaOptions {
  /** drachtio-srf (its createUAS answers the caller). */
  uas: UasFactory;
  /** Local address for RTP (bound and advertised). Default 127.0.0.1. */
  address?: string;
  portMin: number;
  portMax: number;
  /** The folder holding <lang>/prepaid/*.wav (freeswitch/sounds). */
  soundsDir: string;
  language?: string;
  /** No RTP from a side for this long → 'rtp-timeout'. 0 disables. Default 30 s. */
  rtpTimeoutMs?: number;
  /** Shared pacing clock (tests pass one with a fake ClockPort). */
  clock?: PacingClock;
  /** Told about prompts that cannot be played (skipped; the rest of the list plays). */
  observer?: MediaObserver;
  /** Where call recordings are written (none: calls cannot be recorded). */
  recordings?: RecordingSink;
}

export class EmbeddedMediaServer implements MediaServer {
  readonly ports: PortAllocator;
  readonly clock: PacingClock;
  private readonly prompts: PromptStore;
  private readonly sessions = new Set<EmbeddedSession>();
  private readonly host: SessionHost;
  private readonly address: string;

  constructor(private readonly opts: EmbeddedMediaOptions) {
    this.address = opts.address ?? '127.0.0.1';
    this.ports = new PortAllocator({ address: this.address, min: opts.portMin, max: opts.portMax });
    this.clock = opts.clock ?? new PacingClock();
    this.prompts = new PromptStore(opts.soundsDir);
    this.host = {
      clock: this.clock,
      prompts: this.prompts,
      rtpTimeoutMs: opts.rtpTimeoutMs ?? 30_000,
      observer: opts.observer ?? silentObserver,
      openLeg: () => this.openLeg(),
      closeLeg: (leg) => this.closeLeg(leg),
      ended: (s) => {
        this.sessions.delete(s);
      },
      ...(opts.recordings === undefined ? {} : { recordings: opts.recordings }),
    };
  }

  /** The start-up check of the prompt catalogue (MissingPromptsError when a file is missing). */
  checkPrompts(languages: readonly string[] = [this.opts.language ?? 'en']): Promise<void> {
    return this.prompts.check(languages);
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  answer(req: InviteRequest, res: InviteResponse, opts: AnswerOptions = {}): Promise<MediaSession> {
    return this.answerOffer(
      req.body ?? '',
      (localSdp) => this.opts.uas.createUAS(req, res, { localSdp, ...(opts.headers === undefined ? {} : { headers: opts.headers }) }),
      opts,
    );
  }

  async answerOffer(sdp: string, acknowledge: (localSdp: string) => Promise<CallerDialog>, opts: Pick<AnswerOptions, 'language'> = {}): Promise<MediaSession> {
    let offer: Negotiated;
    try {
      if (sdp.trim() === '') throw new SdpError('no SDP offer (late offer is not supported)');
      offer = negotiate(parseSdp(sdp));
    } catch (err) {
      if (err instanceof SdpError) throw new MediaNotAcceptableError(err.message);
      throw err;
    }
    const leg = await this.openLeg();
    leg.setNegotiated(offer);
    try {
      const localSdp = buildAnswer(offer, leg.address, leg.port);
      const dialog = await acknowledge(localSdp);
      const session = new EmbeddedSession(randomUUID(), dialog, leg, this.host, opts.language ?? this.opts.language ?? 'en');
      this.sessions.add(session);
      return session;
    } catch (err) {
      await this.closeLeg(leg);
      throw err;
    }
  }

  async open(offerSdp: string, opts: AnswerOptions = {}): Promise<{ session: MediaSession; localSdp: string }> {
    let offer: Negotiated;
    try {
      offer = negotiate(parseSdp(offerSdp));
    } catch (err) {
      if (err instanceof SdpError) throw new MediaNotAcceptableError(err.message);
      throw err;
    }
    const leg = await this.openLeg();
    leg.setNegotiated(offer);
    // the caller's dialog is the B2BUA's: nothing to hang up here
    const detached = { connected: true, on: () => detached, destroy: () => undefined };
    const session = new EmbeddedSession(randomUUID(), detached, leg, this.host, opts.language ?? this.opts.language ?? 'en');
    this.sessions.add(session);
    return { session, localSdp: buildAnswer(offer, leg.address, leg.port) };
  }

  async close(): Promise<void> {
    await Promise.all([...this.sessions].map((s) => s.destroy()));
    await this.ports.closeAll();
  }

  private async openLeg(): Promise<RtpLeg> {
    const { port, socket } = await this.ports.allocate();
    return new RtpLeg(socket, port, this.address, () => this.clock.now());
  }

  private async closeLeg(leg: RtpLeg): Promise<void> {
    leg.close();
    await this.ports.release(leg.port);
  }
}
