/**
 * Narrow views of drachtio-srf objects for tests (its bundled typings are incomplete); each is
 * the subset of the real API the tests use.
 */

export interface DialogView {
  readonly id: string;
  readonly sip: { readonly callId: string; readonly localTag: string; readonly remoteTag: string };
  readonly local: { readonly sdp: string; readonly contact: string; readonly uri: string };
  readonly remote: { readonly sdp: string };
  on(event: 'destroy', cb: (msg: unknown, reason?: string) => void): void;
  on(event: 'ack' | 'info' | 'modify', cb: (req: RequestView, res: ResponseView) => void): void;
  /** Sends a re-INVITE with `sdp` (srf ACKs the 200 itself); resolves with the remote SDP. */
  modify(sdp: string): Promise<string>;
  destroy(opts?: { headers?: Record<string, string> }): Promise<unknown>;
  request(opts: { method: string; headers?: Record<string, string>; body?: string }): Promise<ResponseView>;
}

export interface RequestView {
  readonly method: string;
  readonly body: string;
  readonly stackTxnId: string;
  get(name: string): string;
  on(event: 'cancel', cb: () => void): void;
}

export interface ResponseView {
  readonly status: number;
  send(status: number, opts?: { headers?: Record<string, string>; body?: string }, cb?: (err: unknown) => void, fnAck?: (ack: unknown) => void): void;
  send(status: number, reason: string, opts?: { headers?: Record<string, string>; body?: string }, cb?: (err: unknown) => void): void;
  get(name: string): string;
}

export const asDialog = (d: unknown): DialogView => d as DialogView;
export const asRequest = (r: unknown): RequestView => r as RequestView;
export const asResponse = (r: unknown): ResponseView => r as ResponseView;

export const SDP = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n';

type Handler = (req: unknown, res: unknown) => void;
type Options = Record<string, unknown>;

/** The drachtio-srf app API the tests use. */
export interface SrfApp {
  invite(handler: Handler): void;
  options(handler: Handler): void;
  register(handler: Handler): void;
  info(handler: Handler): void;
  use(handler: (req: unknown, res: unknown, next: () => void) => void): void;
  createUAS(req: unknown, res: unknown, opts: Options): Promise<unknown>;
  createUAC(uri: string, opts?: Options, callbacks?: Options): Promise<unknown>;
  createB2BUA(req: unknown, res: unknown, uri: string, opts?: Options, callbacks?: Options): Promise<{ uas: unknown; uac: unknown }>;
  request(uri: string, opts: Options): Promise<unknown>;
  disconnect(): void;
}
