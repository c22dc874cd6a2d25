/**
 * RFC 4733 DTMF as pcap files that sipp plays with <exec play_pcap_audio="...">, for any key
 * string. Each key: packets every 20 ms with growing duration (the first with the marker bit),
 * then the end packet three times (same sequence number, as the sip-tester recordings do), then
 * a gap before the next key. Ethernet / IPv4 / UDP framing; sipp rewrites addresses and ports but
 * sends the RTP headers as they are in the file.
 *
 * The RTP start values (sequence number, timestamp, SSRC) are random unless given (RFC 3550 5.1):
 * two pcaps played in one call must not repeat them, or the receiver takes the second one's keys
 * for duplicates of the first (the embedded endpoint) or for old packets (FreeSWITCH). Several
 * key strings in one command are the pcaps of one call: one RTP stream, sequence numbers and
 * timestamps continuing from one file to the next.
 *
 *   npx tsx scripts/prompts/dtmf-pcap.ts <keys> <out.pcap> [<keys> <out.pcap>…] [--pt 101] [--ms 100] [--gap 100]
 *                                        [--seq N] [--ts N] [--ssrc N]
 *   e.g. npx tsx scripts/prompts/dtmf-pcap.ts 123456# pin.pcap 4420# destination.pcap
 */
import { randomInt } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { digitToEvent, encodeTelephoneEvent } from '../../src/media/embedded/telephone-event.ts';
import { encodeRtp } from '../../src/media/embedded/rtp-packet.ts';
import { isDigit } from '../../src/media/media-port.ts';

export interface DtmfPcapOptions {
  payloadType?: number;
  /** How long each key is held (ms, a multiple of 20). Default 100. */
  keyMs?: number;
  /** Silence between keys (ms). Default 100. */
  gapMs?: number;
  /** Sequence number of the first packet (0-65535). Default random. */
  sequence?: number;
  /** RTP timestamp of the first key (0-2^32-1). Default random. */
  timestamp?: number;
  /** Default random. */
  ssrc?: number;
  /** Capture time of the first packet (µs since the epoch). */
  startUs?: number;
}

/** Where a stream stands after a pcap: the next pcap of the same call starts here. */
export interface StreamPosition {
  sequence: number;
  timestamp: number;
  ssrc: number;
  us: number;
}

export interface TimedPacket {
  us: number;
  rtp: Buffer;
}

/** The RTP packets for a key string, with their send times. */
export function dtmfPackets(keys: string, opts: DtmfPcapOptions = {}): TimedPacket[] {
  return dtmfStream(keys, opts).packets;
}

/** The pcaps of one call, one per key string: one RTP stream (same SSRC) whose sequence numbers and timestamps go on from file to file. */
export function dtmfCall(keyStrings: readonly string[], opts: DtmfPcapOptions = {}): TimedPacket[][] {
  const out: TimedPacket[][] = [];
  let o: DtmfPcapOptions = opts;
  for (const keys of keyStrings) {
    const { packets, next } = dtmfStream(keys, o);
    out.push(packets);
    o = { ...opts, sequence: next.sequence, timestamp: next.timestamp, ssrc: next.ssrc, startUs: next.us };
  }
  return out;
}

function dtmfStream(keys: string, opts: DtmfPcapOptions): { packets: TimedPacket[]; next: StreamPosition } {
  const pt = opts.payloadType ?? 101;
  const keyMs = Math.max(40, Math.round((opts.keyMs ?? 100) / 20) * 20);
  const gapMs = opts.gapMs ?? 100;
  const ssrc = (opts.ssrc ?? randomInt(1, 2 ** 32 - 1)) >>> 0;
  let us = opts.startUs ?? 1_700_000_000_000_000;
  let seq = (opts.sequence ?? randomInt(0, 65536)) & 0xffff;
  let ts = (opts.timestamp ?? randomInt(0, 2 ** 32 - 1)) >>> 0;
  const nextSeq = (): number => {
    const s = seq;
    seq = (seq + 1) & 0xffff;
    return s;
  };
  const out: TimedPacket[] = [];
  for (const k of keys) {
    if (!isDigit(k)) throw new Error(`not a DTMF key: ${k}`);
    const event = digitToEvent(k);
    const steps = keyMs / 20;
    for (let i = 0; i < steps; i++) {
      out.push({
        us,
        rtp: encodeRtp(
          { marker: i === 0, payloadType: pt, sequence: nextSeq(), timestamp: ts, ssrc },
          encodeTelephoneEvent({ event, end: false, volume: 10, duration: i * 160 }),
        ),
      });
      us += 20_000;
    }
    const end = encodeRtp(
      { marker: false, payloadType: pt, sequence: nextSeq(), timestamp: ts, ssrc },
      encodeTelephoneEvent({ event, end: true, volume: 10, duration: steps * 160 }),
    );
    for (let r = 0; r < 3; r++) out.push({ us: us + r * 50, rtp: end });
    us += gapMs * 1000;
    ts = (ts + (keyMs + gapMs) * 8) >>> 0;
  }
  return { packets: out, next: { sequence: seq, timestamp: ts, ssrc, us } };
}

function ipChecksum(h: Buffer): number {
  let sum = 0;
  for (let i = 0; i < h.length; i += 2) sum += h.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  return ~sum & 0xffff;
}

/** A classic pcap file (LINKTYPE_ETHERNET) carrying the packets as UDP 127.0.0.1:6000 → :6002. */
export function toPcap(packets: readonly TimedPacket[]): Buffer {
  const parts: Buffer[] = [];
  const global = Buffer.alloc(24);
  global.writeUInt32LE(0xa1b2c3d4, 0);
  global.writeUInt16LE(2, 4);
  global.writeUInt16LE(4, 6);
  global.writeUInt32LE(65535, 16);
  global.writeUInt32LE(1, 20);
  parts.push(global);
  for (const p of packets) {
    const udpLen = 8 + p.rtp.length;
    const eth = Buffer.alloc(14);
    eth.writeUInt16BE(0x0800, 12);
    const ip = Buffer.alloc(20);
    ip[0] = 0x45;
    ip.writeUInt16BE(20 + udpLen, 2);
    ip[8] = 64;
    ip[9] = 17;
    ip.set([127, 0, 0, 1], 12);
    ip.set([127, 0, 0, 1], 16);
    ip.writeUInt16BE(ipChecksum(ip), 10);
    const udp = Buffer.alloc(8);
    udp.writeUInt16BE(6000, 0);
    udp.writeUInt16BE(6002, 2);
    udp.writeUInt16BE(udpLen, 4);
    const frame = Buffer.concat([eth, ip, udp, p.rtp]);
    const rec = Buffer.alloc(16);
    rec.writeUInt32LE(Math.floor(p.us / 1e6), 0);
    rec.writeUInt32LE(p.us % 1e6, 4);
    rec.writeUInt32LE(frame.length, 8);
    rec.writeUInt32LE(frame.length, 12);
    parts.push(rec, frame);
  }
  return Buffer.concat(parts);
}

/** The UDP payloads of a pcap file (Ethernet or Linux cooked capture, IPv4), in order. */
export function readPcapUdpPayloads(buf: Buffer): Buffer[] {
  const magic = buf.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  if (!le && buf.readUInt32BE(0) !== 0xa1b2c3d4 && buf.readUInt32BE(0) !== 0xa1b23c4d) throw new Error('not a pcap file');
  const u32 = (o: number): number => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const link = u32(20);
  const linkHeader = link === 1 ? 14 : link === 113 ? 16 : link === 0 ? 4 : -1;
  if (linkHeader < 0) throw new Error(`unsupported link type ${link}`);
  const out: Buffer[] = [];
  let off = 24;
  while (off + 16 <= buf.length) {
    const incl = u32(off + 8);
    const frame = buf.subarray(off + 16, off + 16 + incl);
    off += 16 + incl;
    const ip = frame.subarray(linkHeader);
    if (ip.length < 20 || (ip[0] ?? 0) >> 4 !== 4 || ip[9] !== 17) continue;
    const ihl = ((ip[0] ?? 0) & 0x0f) * 4;
    const udp = ip.subarray(ihl);
    const len = udp.readUInt16BE(4);
    out.push(udp.subarray(8, len));
  }
  return out;
}

function main(argv: string[]): void {
  const flags = new Map<string, number>();
  const pairs: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('--')) flags.set(a, Number(argv[++i]));
    else pairs.push(a);
  }
  if (pairs.length === 0 || pairs.length % 2 !== 0 || [...flags.values()].some((v) => !Number.isInteger(v) || v < 0)) {
    console.error('usage: dtmf-pcap.ts <keys> <out.pcap> [<keys> <out.pcap>…] [--pt 101] [--ms 100] [--gap 100] [--seq N] [--ts N] [--ssrc N]');
    process.exit(2);
  }
  const o: DtmfPcapOptions = {};
  const names: [string, keyof DtmfPcapOptions][] = [
    ['--pt', 'payloadType'],
    ['--ms', 'keyMs'],
    ['--gap', 'gapMs'],
    ['--seq', 'sequence'],
    ['--ts', 'timestamp'],
    ['--ssrc', 'ssrc'],
  ];
  for (const [flag, key] of names) {
    const v = flags.get(flag);
    if (v !== undefined) o[key] = v;
  }
  const keyStrings = pairs.filter((_p, i) => i % 2 === 0);
  const files = pairs.filter((_p, i) => i % 2 === 1);
  dtmfCall(keyStrings, o).forEach((packets, i) => {
    const rtp = decodeRtpHeader(packets[0]?.rtp);
    writeFileSync(files[i]!, toPcap(packets));
    console.log(`${files[i]}: ${keyStrings[i]} (ssrc ${rtp.ssrc}, first sequence ${rtp.sequence}, first timestamp ${rtp.timestamp})`);
  });
}

function decodeRtpHeader(b: Buffer | undefined): { ssrc: number; sequence: number; timestamp: number } {
  if (b === undefined || b.length < 12) return { ssrc: 0, sequence: 0, timestamp: 0 };
  return { sequence: b.readUInt16BE(2), timestamp: b.readUInt32BE(4), ssrc: b.readUInt32BE(8) };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main(process.argv.slice(2));
