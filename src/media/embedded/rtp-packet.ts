/**
 * RTP packets (RFC 3550 §5.1). Decoding skips CSRCs, the header extension and padding, and
 * refuses anything that is not version 2 or is too short for what its header claims.
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 * |                           timestamp                           |
 * |           synchronization source (SSRC) identifier            |
 */

export interface RtpHeader {
  marker: boolean;
  payloadType: number;
  sequence: number;
  timestamp: number;
  ssrc: number;
}

export interface RtpPacket extends RtpHeader {
  payload: Buffer;
}

export const RTP_HEADER_BYTES = 12;

export function encodeRtp(h: RtpHeader, payload: Uint8Array): Buffer {
  const buf = Buffer.allocUnsafe(RTP_HEADER_BYTES + payload.length);
  writeRtpHeader(buf, h);
  buf.set(payload, RTP_HEADER_BYTES);
  return buf;
}

/** Write a 12-byte header at the start of buf (no CSRCs, extension or padding). */
export function writeRtpHeader(buf: Buffer, h: RtpHeader): void {
  buf[0] = 0x80;
  buf[1] = (h.marker ? 0x80 : 0) | (h.payloadType & 0x7f);
  buf.writeUInt16BE(h.sequence & 0xffff, 2);
  buf.writeUInt32BE(h.timestamp >>> 0, 4);
  buf.writeUInt32BE(h.ssrc >>> 0, 8);
}

/** The packet, or undefined when the bytes are not a valid RTP packet. */
export function decodeRtp(buf: Buffer): RtpPacket | undefined {
  if (buf.length < RTP_HEADER_BYTES) return undefined;
  const b0 = buf[0] ?? 0;
  if (b0 >> 6 !== 2) return undefined;
  const padding = (b0 & 0x20) !== 0;
  const extension = (b0 & 0x10) !== 0;
  const csrcCount = b0 & 0x0f;
  const b1 = buf[1] ?? 0;
  const payloadType = b1 & 0x7f;
  // RTCP shares the port when multiplexed (RFC 5761): PT 64-95 with the marker are RTCP types 192-223.
  if (payloadType >= 72 && payloadType <= 76) return undefined;
  let off = RTP_HEADER_BYTES + csrcCount * 4;
  if (extension) {
    if (buf.length < off + 4) return undefined;
    off += 4 + buf.readUInt16BE(off + 2) * 4;
  }
  let end = buf.length;
  if (padding) {
    const pad = buf[buf.length - 1] ?? 0;
    if (pad === 0) return undefined;
    end -= pad;
  }
  if (end < off) return undefined;
  return {
    marker: (b1 & 0x80) !== 0,
    payloadType,
    sequence: buf.readUInt16BE(2),
    timestamp: buf.readUInt32BE(4),
    ssrc: buf.readUInt32BE(8),
    payload: buf.subarray(off, end),
  };
}
