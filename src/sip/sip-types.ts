/**
 * The slice of drachtio-srf's Request and Response the SIP middleware uses, so handlers are
 * typed and unit tests can pass plain fakes. drachtio-srf's objects satisfy these structurally.
 */

export interface SipRequest {
  readonly method: string;
  readonly uri: string;
  /** Address, port and transport the request came from (drachtio meta). */
  readonly source_address: string;
  readonly source_port: number;
  readonly protocol: string;
  /**
   * The address the request is judged by when it came through a trusted SIP proxy (set by
   * identifyClient; read it with clientAddress()).
   */
  client_address?: string;
  /** The request as received (drachtio-srf keeps it); absent in unit-test fakes. */
  readonly raw?: string;
  /** A header's value (repeated headers joined by commas), or undefined when absent. Name is case-insensitive. */
  get(name: string): string | undefined;
}

export interface SipSendOptions {
  headers?: Record<string, string>;
}

export interface SipResponse {
  send(status: number, reason?: string, opts?: SipSendOptions): void;
}

export type SipNext = (err?: unknown) => void;

/** A drachtio-srf middleware: answer, or call next() to pass on (next(err) for a bug). */
export type SipMiddleware = (req: SipRequest, res: SipResponse, next: SipNext) => void;

/** The request's Call-ID (drachtio-srf requests expose it only as a header), or undefined when absent or unusable as a call key. */
export function callIdOf(req: { get(name: string): string | undefined }): string | undefined {
  const id = req.get('Call-ID')?.trim();
  return id !== undefined && /^[\x21-\x7e]{1,256}$/.test(id) ? id : undefined;
}
