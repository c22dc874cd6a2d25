/**
 * The slice of drachtio-fsmrf (4.1.x) the adapter uses. Its MediaServer and Endpoint satisfy
 * these structurally; unit tests pass fakes.
 */

export interface FsPlayCollectOptions {
  file: string;
  min: number;
  max: number;
  tries: number;
  /** ms to wait for the first key after the prompt. */
  timeout: number;
  /** ms between keys. */
  digitTimeout: number;
  terminators: string;
  invalidFile?: string;
  regexp?: string;
}

export interface FsPlayCollectResult {
  digits?: string;
  terminatorUsed?: string;
}

export interface FsEndpoint {
  readonly uuid: string;
  readonly local: { sdp: string };
  play(file: string | string[]): Promise<unknown>;
  playCollect(opts: FsPlayCollectOptions): Promise<FsPlayCollectResult>;
  api(command: string, args?: string | string[]): Promise<unknown>;
  set(param: string | Record<string, string>, value?: string): Promise<unknown>;
  bridge(other: FsEndpoint): Promise<unknown>;
  unbridge(): Promise<unknown>;
  modify(sdp: string): Promise<unknown>;
  destroy(): Promise<unknown>;
  on(event: 'dtmf', fn: (e: { dtmf: string; duration?: string; source?: string }) => void): unknown;
  on(event: 'destroy', fn: (e: { reason?: string }) => void): unknown;
  removeAllListeners(event?: string): unknown;
}

/** MediaServer#createEndpoint options: the far end's SDP (none: 3pcc, FreeSWITCH offers) and headers for the INVITE to FreeSWITCH. */
export interface FsEndpointOptions {
  remoteSdp?: string;
  headers?: Record<string, string>;
}

export interface FsMediaServer {
  createEndpoint(opts?: FsEndpointOptions): Promise<FsEndpoint>;
  /** A FreeSWITCH API command over the inbound event socket; resolves with the reply's body. */
  api(command: string): Promise<unknown>;
}
