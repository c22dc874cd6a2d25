/**
 * SDP offer/answer (RFC 3264) for one G.711 audio stream: PCMU, PCMA, telephone-event, ptime 20.
 * Parses the subset an audio call uses (c=, m=audio, rtpmap, ptime, direction); everything else
 * is ignored.
 */

export type Codec = 'PCMU' | 'PCMA';
export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

export interface SdpMedia {
  address: string;
  port: number;
  /** Payload types in the offer's order. */
  payloadTypes: number[];
  /** Encoding name (upper case) and clock rate per payload type, from rtpmap or the static table. */
  rtpmap: Map<number, { name: string; rate: number }>;
  ptime?: number;
  direction: Direction;
}

export class SdpError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SdpError';
  }
}

const STATIC: ReadonlyMap<number, { name: string; rate: number }> = new Map([
  [0, { name: 'PCMU', rate: 8000 }],
  [8, { name: 'PCMA', rate: 8000 }],
]);
const CODEC_PT: Record<Codec, number> = { PCMU: 0, PCMA: 8 };
export const TELEPHONE_EVENT_PT = 101;
export const PTIME_MS = 20;

/** The first audio stream of an SDP body. */
export function parseSdp(sdp: string): SdpMedia {
  let sessionAddress: string | undefined;
  let media: SdpMedia | undefined;
  let mediaAddress: string | undefined;
  let done = false;
  for (const raw of sdp.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.length < 2 || line[1] !== '=' || done) continue;
    const type = line[0];
    const value = line.slice(2);
    if (type === 'm') {
      if (media !== undefined) {
        done = true;
        continue;
      }
      const m = /^audio (\d+)(?:\/\d+)? (\S+) ([\d ]+)$/.exec(value);
      if (m === null) continue; // not audio: skip until an audio m= line
      media = {
        address: '',
        port: Number(m[1]),
        payloadTypes: (m[3] ?? '').trim().split(/\s+/).map(Number),
        rtpmap: new Map(),
        direction: 'sendrecv',
      };
      for (const pt of media.payloadTypes) {
        const s = STATIC.get(pt);
        if (s !== undefined) media.rtpmap.set(pt, s);
      }
    } else if (type === 'c') {
      const m = /^IN IP[46] (\S+)/.exec(value);
      if (m === null) continue;
      if (media === undefined) sessionAddress = m[1];
      else mediaAddress = m[1];
    } else if (type === 'a' && media !== undefined) {
      const rtpmap = /^rtpmap:(\d+) ([^/\s]+)\/(\d+)/.exec(value);
      if (rtpmap !== null) {
        media.rtpmap.set(Number(rtpmap[1]), { name: (rtpmap[2] ?? '').toUpperCase(), rate: Number(rtpmap[3]) });
        continue;
      }
      const ptime = /^ptime:(\d+)/.exec(value);
      if (ptime !== null) {
        media.ptime = Number(ptime[1]);
        continue;
      }
      if (value === 'sendrecv' || value === 'sendonly' || value === 'recvonly' || value === 'inactive') media.direction = value;
    }
  }
  if (media === undefined) throw new SdpError('no audio stream');
  const address = mediaAddress ?? sessionAddress;
  if (address === undefined) throw new SdpError('no connection address');
  media.address = address;
  if (!Number.isInteger(media.port) || media.port < 0 || media.port > 65535) throw new SdpError('bad media port');
  return media;
}

export interface Negotiated {
  codec: Codec;
  codecPt: number;
  /** The peer's telephone-event payload type, when it offered or accepted one. */
  eventPt?: number;
  remoteAddress: string;
  remotePort: number;
  /** What we do (from our side): send to the peer, receive from it. */
  send: boolean;
  receive: boolean;
}

function codecOf(media: SdpMedia, pt: number): Codec | undefined {
  const e = media.rtpmap.get(pt);
  if (e === undefined || e.rate !== 8000) return undefined;
  return e.name === 'PCMU' || e.name === 'PCMA' ? e.name : undefined;
}

function eventPtOf(media: SdpMedia): number | undefined {
  return media.payloadTypes.find((pt) => {
    const e = media.rtpmap.get(pt);
    return e !== undefined && e.name === 'TELEPHONE-EVENT' && e.rate === 8000;
  });
}

/** Choose from a peer's SDP (an offer, or the answer to our offer): its first G.711 codec. */
export function negotiate(media: SdpMedia, accept: readonly Codec[] = ['PCMU', 'PCMA']): Negotiated {
  if (media.port === 0) throw new SdpError('audio stream rejected (port 0)');
  const codecPt = media.payloadTypes.find((pt) => {
    const c = codecOf(media, pt);
    return c !== undefined && accept.includes(c);
  });
  if (codecPt === undefined) throw new SdpError('no common codec (PCMU or PCMA at 8 kHz)');
  const codec = codecOf(media, codecPt) as Codec;
  const eventPt = eventPtOf(media);
  // The peer's direction is from its side: its sendonly means we only receive.
  const d = media.direction;
  return {
    codec,
    codecPt,
    remoteAddress: media.address,
    remotePort: media.port,
    send: d === 'sendrecv' || d === 'recvonly',
    receive: d === 'sendrecv' || d === 'sendonly',
    ...(eventPt === undefined ? {} : { eventPt }),
  };
}

let sessionVersion = 0;

export interface SdpBuild {
  address: string;
  port: number;
  codecs: readonly { codec: Codec; pt: number }[];
  eventPt?: number;
  direction?: Direction;
  sessionId?: string;
}

export function buildSdp(b: SdpBuild): string {
  const ip = b.address.includes(':') ? 'IP6' : 'IP4';
  const pts = [...b.codecs.map((c) => c.pt), ...(b.eventPt === undefined ? [] : [b.eventPt])];
  const id = b.sessionId ?? String(Date.now());
  const lines = [
    'v=0',
    `o=- ${id} ${++sessionVersion} IN ${ip} ${b.address}`,
    's=-',
    `c=IN ${ip} ${b.address}`,
    't=0 0',
    `m=audio ${b.port} RTP/AVP ${pts.join(' ')}`,
    ...b.codecs.map((c) => `a=rtpmap:${c.pt} ${c.codec}/8000`),
    ...(b.eventPt === undefined ? [] : [`a=rtpmap:${b.eventPt} telephone-event/8000`, `a=fmtp:${b.eventPt} 0-16`]),
    `a=ptime:${PTIME_MS}`,
    `a=${b.direction ?? 'sendrecv'}`,
  ];
  return lines.join('\r\n') + '\r\n';
}

/** Our answer to a peer's offer (the negotiated codec only, and telephone-event when offered). */
export function buildAnswer(offer: Negotiated, address: string, port: number): string {
  const direction: Direction = offer.send && offer.receive ? 'sendrecv' : offer.send ? 'sendonly' : offer.receive ? 'recvonly' : 'inactive';
  return buildSdp({
    address,
    port,
    codecs: [{ codec: offer.codec, pt: offer.codecPt }],
    ...(offer.eventPt === undefined ? {} : { eventPt: offer.eventPt }),
    direction,
  });
}

/** Our offer: the preferred codec first, then the other law, and telephone-event 101. */
export function buildOffer(address: string, port: number, prefer: Codec = 'PCMU'): string {
  const order: Codec[] = prefer === 'PCMU' ? ['PCMU', 'PCMA'] : ['PCMA', 'PCMU'];
  return buildSdp({ address, port, codecs: order.map((codec) => ({ codec, pt: CODEC_PT[codec] })), eventPt: TELEPHONE_EVENT_PT });
}
