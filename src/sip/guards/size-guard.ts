/**
 * Refuses requests whose header section is larger than any honest device sends (padding,
 * buffer-overflow probes, header floods) with 400 before anything reads them. The body (SDP)
 * is not counted. Requests without the raw text (unit-test fakes) pass.
 */
import { sendSipError } from '../sip-error.ts';
import type { SipMiddleware, SipRequest } from '../sip-types.ts';

/** Bytes of header section (start line and headers) allowed; real INVITEs stay well under 4 KB. */
export const DEFAULT_MAX_HEADER_BYTES = 8192;

export function headerBytes(raw: string): number {
  const end = raw.indexOf('\r\n\r\n');
  return Buffer.byteLength(end < 0 ? raw : raw.slice(0, end), 'utf8');
}

export function refuseOversized(maxHeaderBytes = DEFAULT_MAX_HEADER_BYTES, onRefused?: (req: SipRequest, why: string) => void): SipMiddleware {
  return (req, res, next) => {
    const raw = req.raw;
    if (raw !== undefined && raw.length > maxHeaderBytes && headerBytes(raw) > maxHeaderBytes) {
      onRefused?.(req, `header section larger than ${maxHeaderBytes} bytes`);
      sendSipError(res, 'HEADERS_TOO_LARGE');
      return;
    }
    next();
  };
}
