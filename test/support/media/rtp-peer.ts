/**
 * A small RTP peer for tests: a UDP socket on loopback that offers or answers SDP, records every
 * RTP packet it receives (with arrival time), and sends audio frames and RFC 4733 key presses.
 */
import dgram from 'node:dgram';
import type { Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { decodeRtp, encodeRtp } from '../../../src/media/embedded/rtp-packet.ts';
import type { RtpPacket } from '../../../src/media/embedded/rtp-packet.ts';
import { parseSdp, buildSdp } from '../../../src/media/embedded/sdp.ts';
import { digitToEvent, encodeTelephoneEvent } from '../../../src/media/embedded/telephone-event.ts';
import type { Digit } from '../../../src/media/media-port.ts';

export interface Received extends RtpPacket {
  at: number;
  from: { address: string; port: number };
}

export class RtpPeer {
  readonly received: Received[] = [];
  private readonly events = new EventEmitter();
  remote: { address: string; port: number } | undefined;
  private seq = 1000;
  private ts = 50_000;
  readonly ssrc = 0x1234abcd;

  private constructor(
    readonly socket: Socket,
    readonly port: number,
  ) {
    socket.on('message', (msg, rinfo) => {
      const pkt = decodeRtp(msg);
      if (pkt === undefined) return;
      this.received.push({ ...pkt, payload: Buffer.from(pkt.payload), at: performance.now(), from: { address: rinfo.address, port: rinfo.port } });
      this.events.emit('packet');
    });
  }

  static async open(address = '127.0.0.1'): Promise<RtpPeer> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, address, () => resolve()));
    return new RtpPeer(socket, socket.address().port);
  }

  /** An SDP offer (or answer) from this peer. */
  sdp(codecs: ('PCMU' | 'PCMA')[] = ['PCMU', 'PCMA'], eventPt: number | undefined = 101): string {
    const pts = { PCMU: 0, PCMA: 8 };
    return buildSdp({
      address: '127.0.0.1',
      port: this.port,
      codecs: codecs.map((c) => ({ codec: c, pt: pts[c] })),
      ...(eventPt === undefined ? {} : { eventPt }),
    });
  }

  /** Send to the address in the other side's SDP. */
  useSdp(sdp: string): void {
    const m = parseSdp(sdp);
    this.remote = { address: m.address, port: m.port };
  }

  send(pt: number, payload: Buffer, opts: { marker?: boolean; timestamp?: number; seq?: number } = {}): void {
    if (this.remote === undefined) throw new Error('peer has no remote');
    const pkt = encodeRtp(
      { marker: opts.marker ?? false, payloadType: pt, sequence: opts.seq ?? this.seq++, timestamp: opts.timestamp ?? this.ts, ssrc: this.ssrc },
      payload,
    );
    this.socket.send(pkt, this.remote.port, this.remote.address);
  }

  /** One 20 ms audio frame (advances the timestamp). */
  sendAudio(pt: number, payload: Buffer = Buffer.alloc(160, 0xff)): void {
    this.send(pt, payload);
    this.ts += 160;
  }

  /**
   * A key press as RFC 4733 packets: start (marker), two updates, then the end packet three
   * times, all with the same timestamp; `duplicate` sends every packet twice.
   */
  pressKey(digit: Digit, opts: { pt?: number; duplicate?: boolean; skipStart?: boolean } = {}): void {
    const pt = opts.pt ?? 101;
    const event = digitToEvent(digit);
    const timestamp = this.ts;
    const packets: Buffer[] = [];
    const durations = [160, 320, 480];
    durations.forEach((d, i) => {
      if (opts.skipStart === true && i === 0) return;
      packets.push(encodeTelephoneEvent({ event, end: false, volume: 10, duration: d }));
    });
    for (let i = 0; i < 3; i++) packets.push(encodeTelephoneEvent({ event, end: true, volume: 10, duration: 640 }));
    packets.forEach((p, i) => {
      const seq = this.seq++;
      const times = opts.duplicate === true ? 2 : 1;
      for (let k = 0; k < times; k++) this.send(pt, p, { marker: i === 0, timestamp, seq });
    });
    this.ts += 800;
  }

  /** Resolves when `pred` holds over what was received (checked on each packet). */
  waitFor(pred: (r: Received[]) => boolean, timeoutMs = 10_000): Promise<void> {
    if (pred(this.received)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.events.off('packet', check);
        reject(new Error(`RTP peer: condition not met in ${timeoutMs} ms (${this.received.length} packets)`));
      }, timeoutMs);
      const check = (): void => {
        if (!pred(this.received)) return;
        clearTimeout(timer);
        this.events.off('packet', check);
        resolve();
      };
      this.events.on('packet', check);
    });
  }

  /** Payload bytes received with this payload type, in sequence order. */
  audio(pt: number): Buffer {
    return Buffer.concat(this.received.filter((r) => r.payloadType === pt).map((r) => r.payload));
  }

  clear(): void {
    this.received.length = 0;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
