/**
 * The media port: what the IVR and the B2BUA need of a media server. Two implementations satisfy
 * it and are checked by one shared behaviour suite (test/unit/media-port-contract.ts):
 *
 * - src/media/embedded: an RTP endpoint in this process (G.711, RFC 4733, SIP INFO DTMF), used in
 *   development, single-host deployments and every test;
 * - src/media/freeswitch: FreeSWITCH driven through drachtio-fsmrf (production).
 *
 * A call through the media layer:
 *
 * ```
 *   answer(req, res) ──▶ session ──▶ play / collect … ──▶ createLeg() ──▶ leg.localSdp ──▶ carrier INVITE
 *                                                                        leg.setRemoteSdp(answer SDP)
 *                          bridge(leg) ──▶ inject(warning) … ──▶ release() ──▶ play / collect … ──▶ destroy()
 * ```
 *
 * Expected outcomes (a timeout, a hangup during a prompt) are values; only broken invariants and
 * resource errors (MediaPortsExhaustedError, which the SIP side turns into 503) are thrown.
 */
import type { PromptName } from './prompts/catalog.ts';
import { ERRORS } from '../errors.ts';

/** A DTMF key. */
export type Digit = '0' | '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8' | '9' | '*' | '#' | 'A' | 'B' | 'C' | 'D';

/** Something to play: a prompt from the catalog, or a stretch of silence. */
export type Prompt = PromptName | { silenceMs: number };

export interface PlayOptions {
  /** Stop at the first DTMF key (the key is reported and consumed). Default false. */
  interruptible?: boolean;
  /** Repeat the list until stopped by the next operation (ringback). Default false. */
  loop?: boolean;
}

export type PlayResult =
  | { kind: 'done' }
  | { kind: 'interrupted'; digit: Digit }
  /** Superseded by another play, collect, bridge or destroy. */
  | { kind: 'stopped' }
  | { kind: 'hangup' };

/**
 * Digit collection with the semantics of FreeSWITCH's play_and_get_digits, so both
 * implementations agree: each try flushes earlier keys, plays `prompts` (the first key stops
 * them and counts), then waits up to `firstDigitMs` for a key and `interDigitMs` between keys.
 * A try succeeds on the terminator or when `max` keys are in, or at an inter-digit timeout with at
 * least `min` keys; anything else fails the try, plays `retryPrompts`, and tries again.
 */
export interface CollectOptions {
  min: number;
  max: number;
  /** Keys that end the entry (not included in the digits). Default '#'. */
  terminators?: string;
  firstDigitMs: number;
  interDigitMs: number;
  /** Extra tries after the first. Default 0. */
  retries?: number;
  prompts?: readonly Prompt[];
  retryPrompts?: readonly Prompt[];
}

export type CollectResult = { kind: 'digits'; digits: string; terminator?: string } | { kind: 'timeout' } | { kind: 'stopped' } | { kind: 'hangup' };

export type DtmfSource = 'rfc4733' | 'info' | 'media-server';

export interface DtmfEvent {
  digit: Digit;
  source: DtmfSource;
  durationMs?: number;
}

/** Which side of the session went quiet. */
export type MediaLegName = 'caller' | 'outbound';

export type EndReason = 'caller-hangup' | 'destroyed' | 'media-server-hangup';

export interface MediaSessionEvents {
  dtmf: (e: DtmfEvent) => void;
  /** No RTP from that side for the configured time (reported once per silence). The session stays up: the owner decides. */
  'rtp-timeout': (e: { leg: MediaLegName; silentMs: number }) => void;
  /** The session is over (caller hung up, destroyed); all its media resources are released. */
  ended: (e: { reason: EndReason }) => void;
}

/**
 * The media side of an outbound (carrier) leg: offer `localSdp` in the outbound INVITE, then
 * give the carrier's answer (or early-media) SDP to `setRemoteSdp`.
 */
export interface MediaLeg {
  readonly localSdp: string;
  setRemoteSdp(sdp: string): Promise<void>;
}

/** One answered caller. */
export interface MediaSession {
  readonly id: string;
  /** The caller's SIP dialog (drachtio-srf Dialog): the session hangs it up on destroy. */
  readonly dialog: CallerDialog;
  play(prompts: readonly Prompt[], opts?: PlayOptions): Promise<PlayResult>;
  collect(opts: CollectOptions): Promise<CollectResult>;
  /** Media for an outbound leg (not yet connected to the caller). One at a time. */
  createLeg(): Promise<MediaLeg>;
  /** Connect the caller with the leg (stops any playback). */
  bridge(leg: MediaLeg): Promise<void>;
  /** Play into the caller's direction of a bridged call (the far end goes on hearing the caller). Resolves when accepted. */
  inject(prompts: readonly Prompt[]): Promise<void>;
  /** Disconnect and free the outbound leg's media; the caller stays on the session (for another call). */
  release(): Promise<void>;
  /**
   * Play to the party on the outbound leg only (before bridging: "this call may be recorded"); the
   * caller hears nothing of it. Resolves when played, or at once when the session or leg is gone.
   */
  announce(leg: MediaLeg, prompts: readonly Prompt[]): Promise<void>;
  /**
   * Record the bridged call into one stereo WAV under `key` in the recording store (left: the
   * caller, right: the outbound leg's party), until stop(), release() or the end of the session.
   * Rejects when the store cannot take the file (the call goes on, unrecorded).
   */
  record(key: string): Promise<Recording>;
  /** A SIP INFO the caller sent in this dialog: DTMF bodies are consumed (returns true). Wired automatically by answer(). */
  receiveInfo(contentType: string | undefined, body: string | undefined): boolean;
  /** Hang up the caller (if still there) and free everything. Idempotent. */
  destroy(): Promise<void>;
  on<E extends keyof MediaSessionEvents>(event: E, fn: MediaSessionEvents[E]): void;
  off<E extends keyof MediaSessionEvents>(event: E, fn: MediaSessionEvents[E]): void;
}

/**
 * Where the recordings' bytes go: the recording store's writer (src/recordings implements it on a
 * directory; FreeSWITCH writes into the same layout by itself). Keys are relative paths.
 */
export interface RecordingSink {
  /** A new file for `key`. Rejects when the store cannot take it. */
  create(key: string): Promise<RecordingFile>;
  /** Where a media server that writes files itself (FreeSWITCH) puts `key`; undefined: it cannot. */
  pathOf?(key: string): string | undefined;
  /** Size and SHA-256 of a file a media server wrote itself under `key`. */
  describe?(key: string): Promise<{ bytes: number; sha256: string }>;
}

/** A recording being written: bytes are appended after a header written last. */
export interface RecordingFile {
  /** Appends bytes (buffered; a write error is reported by finish()). */
  append(chunk: Buffer): void;
  /** Writes `header` at the start and makes the file visible under its key. Rejects on a storage failure (the file is dropped). */
  finish(header: Buffer): Promise<{ bytes: number; sha256: string }>;
  /** Drops what was written. */
  abort(): Promise<void>;
}

/** A finished recording: its key in the store, size, length and SHA-256 of the file. */
export interface RecordingFacts {
  key: string;
  bytes: number;
  durationMs: number;
  sha256: string;
}

/** A recording in progress. */
export interface Recording {
  readonly key: string;
  /** Stops recording and closes the file (idempotent: later calls get the same outcome). Rejects on a storage failure. */
  stop(): Promise<RecordingFacts>;
}

export interface AnswerOptions {
  /** Headers for the 200 OK to the caller. */
  headers?: Record<string, string>;
  /** Prompt language (a folder under freeswitch/sounds). Default the server's. */
  language?: string;
}

/** The port. */
export interface MediaServer {
  /** Answer an INVITE with the media endpoint's SDP. Throws MediaPortsExhaustedError (→ 503) when no media port is free. */
  answer(req: InviteRequest, res: InviteResponse, opts?: AnswerOptions): Promise<MediaSession>;
  /**
   * Answer an offer that came back in the 200 to an INVITE sent without SDP (RFC 3725 flow I: a
   * callback's leg A, the customer's phone offering): `acknowledge` sends the endpoint's answer in
   * the ACK and resolves with that leg's dialog, which the session then owns as its caller's. The
   * same errors as answer(); when `acknowledge` throws, the endpoint is freed and the error passed on.
   */
  answerOffer(offer: string, acknowledge: (localSdp: string) => Promise<CallerDialog>, opts?: Pick<AnswerOptions, 'language'>): Promise<MediaSession>;
  /**
   * A session for a caller that the B2BUA answers itself (a device call anchored for recording):
   * the endpoint takes the caller's `offer` and gives `localSdp`, the answer to send in the caller's
   * 200 once the far end has answered. No SIP is sent; destroy() frees it. Not every server offers it.
   */
  open?(offer: string, opts?: AnswerOptions): Promise<{ session: MediaSession; localSdp: string }>;
  /** Sessions currently open. */
  readonly sessionCount: number;
  /** Destroy every session and release the server's resources. */
  close(): Promise<void>;
}

// ---- The slice of drachtio-srf the media layer uses (its objects satisfy these structurally).

export interface InviteRequest {
  readonly body?: string;
  get(name: string): string | undefined;
}
export interface InviteResponse {
  send(status: number, reason?: string, opts?: { headers?: Record<string, string> }): void;
}

export interface InfoRequest {
  get(name: string): string | undefined;
  readonly body?: string;
}
export interface InfoResponse {
  send(status: number, reason?: string): void;
}

export interface CallerDialog {
  /**
   * drachtio-srf sets this false as the dialog ends. It handles a BYE as soon as its frame is read,
   * possibly before the session had attached its 'destroy' listener (the BYE read together with the
   * confirmation of our 200): the session then looks here.
   */
  readonly connected?: boolean;
  on(event: 'destroy', fn: () => void): unknown;
  on(event: 'info', fn: (req: InfoRequest, res: InfoResponse) => void): unknown;
  destroy(): Promise<unknown> | unknown;
}

/** drachtio-srf's createUAS, used by the embedded server to answer. */
export interface UasFactory {
  createUAS(req: InviteRequest, res: InviteResponse, opts: { localSdp: string; headers?: Record<string, string> }): Promise<CallerDialog>;
}

/** Thrown by answer() or createLeg() when the RTP port range is used up: answer the caller 503. */
export class MediaPortsExhaustedError extends Error {
  readonly code = 'MEDIA_PORTS_EXHAUSTED' as const;
  readonly sipStatus = ERRORS.MEDIA_PORTS_EXHAUSTED.sip[0];
  readonly sipReason = ERRORS.MEDIA_PORTS_EXHAUSTED.sip[1];
  constructor(readonly range: readonly [number, number]) {
    super(`no free RTP port in ${range[0]}-${range[1]}`);
    this.name = 'MediaPortsExhaustedError';
  }
}

/** Thrown when the caller's SDP offers nothing the endpoint can use: answer 488. */
export class MediaNotAcceptableError extends Error {
  readonly code = 'MEDIA_NOT_ACCEPTABLE' as const;
  readonly sipStatus = ERRORS.MEDIA_NOT_ACCEPTABLE.sip[0];
  readonly sipReason = ERRORS.MEDIA_NOT_ACCEPTABLE.sip[1];
  constructor(detail: string) {
    super(detail);
    this.name = 'MediaNotAcceptableError';
  }
}

const DIGITS = new Set('0123456789*#ABCD');
export function isDigit(s: string): s is Digit {
  return s.length === 1 && DIGITS.has(s);
}
