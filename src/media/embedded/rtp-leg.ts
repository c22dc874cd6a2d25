/**
 * One RTP socket with its negotiated parameters: where to send (from SDP, then wherever the
 * peer's packets come from: symmetric RTP, for peers behind NAT), what we send (RtpStream), and
 * when we last heard from the peer (for the RTP timeout).
 */
import type { RemoteInfo, Socket } from 'node:dgram';
import { decodeRtp, encodeRtp } from './rtp-packet.ts';
import type { RtpHeader, RtpPacket } from './rtp-packet.ts';
import { RtpStream } from './rtp-stream.ts';
import type { Negotiated } from './sdp.ts';

export type PacketHandler = (pkt: RtpPacket) => void;

export class RtpLeg {
  readonly stream = new RtpStream();
  negotiated: Negotiated | undefined;
  remote: { address: string; port: number } | undefined;
  lastRxAt: number;
  received = 0;
  /** Reported an RTP timeout for the current silence. */
  timeoutReported = false;
  private handler: PacketHandler | undefined;
  private closed = false;

  constructor(
    readonly socket: Socket,
    readonly port: number,
    readonly address: string,
    private readonly now: () => number,
  ) {
    this.lastRxAt = now();
    socket.on('message', (msg, rinfo) => this.onMessage(msg, rinfo));
    socket.on('error', () => {
      /* ICMP errors on send to a closed peer port: ignore */
    });
  }

  onPacket(fn: PacketHandler | undefined): void {
    this.handler = fn;
  }

  /** Apply the peer's SDP (offer or answer, already negotiated). */
  setNegotiated(n: Negotiated): void {
    this.negotiated = n;
    this.remote = { address: n.remoteAddress, port: n.remotePort };
    this.lastRxAt = this.now();
    this.timeoutReported = false;
  }

  private onMessage(msg: Buffer, rinfo: RemoteInfo): void {
    const pkt = decodeRtp(msg);
    if (pkt === undefined || this.negotiated === undefined) return;
    // Symmetric RTP: answer to where the peer's packets come from.
    if (this.remote === undefined || this.remote.port !== rinfo.port || this.remote.address !== rinfo.address) {
      this.remote = { address: rinfo.address, port: rinfo.port };
    }
    this.lastRxAt = this.now();
    this.timeoutReported = false;
    this.received++;
    this.handler?.(pkt);
  }

  /** Send one packet to the peer (nothing while we have no address or the peer is on hold for us). */
  send(header: RtpHeader, payload: Uint8Array): void {
    if (this.closed || this.remote === undefined || this.remote.port === 0 || this.negotiated?.send === false) return;
    this.socket.send(encodeRtp(header, payload), this.remote.port, this.remote.address);
  }

  close(): void {
    this.closed = true;
    this.handler = undefined;
    this.socket.removeAllListeners('message');
  }
}
