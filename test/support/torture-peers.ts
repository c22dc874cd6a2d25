/**
 * SIP peers for timing-torture tests, where the order and the gap between messages is the point
 * and sipp cannot express it (a CANCEL whose outcome may be 487 or 200, a BYE before the ACK):
 *
 *   TortureDevice   a registered device's UAC over UDP: INVITE, digest (407), the scripted end of
 *                   the call (BYE n ms after the ACK, BYE before the ACK, CANCEL after the 180,
 *                   re-INVITE right after the ACK, or waiting for the switch's BYE); it records
 *                   how long it held the call (200 received → BYE sent or received).
 *   TortureCarrier  a carrier gateway's UAS over UDP for many calls at once: 100, 180, then 200
 *                   after a delay chosen per call; CANCEL before its 200 → 487; optionally its
 *                   own BYE right after the ACK; it records every leg it answered and how it ended.
 *
 * The device tells the carrier what to do through its User-Agent (`torture/<scenario>`), which
 * the B2BUA copies onto the outbound leg. Every wait is for a message, bounded by a deadline.
 */
import { createHash, randomBytes, randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import type { Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';

export interface SipMsg {
  first: string;
  headers: Map<string, string[]>;
  body: string;
}

export function parseSip(text: string): SipMsg {
  const cut = text.indexOf('\r\n\r\n');
  const head = cut < 0 ? text : text.slice(0, cut);
  const body = cut < 0 ? '' : text.slice(cut + 4);
  const [first = '', ...lines] = head.split('\r\n');
  const headers = new Map<string, string[]>();
  for (const l of lines) {
    const i = l.indexOf(':');
    if (i < 0) continue;
    const name = l.slice(0, i).trim().toLowerCase();
    headers.set(name, [...(headers.get(name) ?? []), l.slice(i + 1).trim()]);
  }
  return { first, headers, body };
}

export const hdr = (m: SipMsg, name: string): string => m.headers.get(name)?.[0] ?? '';
const statusOf = (m: SipMsg): number => (m.first.startsWith('SIP/2.0 ') ? Number(m.first.slice(8, 11)) : 0);
const methodOf = (m: SipMsg): string => (m.first.startsWith('SIP/2.0') ? '' : (m.first.split(' ')[0] ?? ''));
const cseqOf = (m: SipMsg): { n: number; method: string } => {
  const [n = '0', method = ''] = hdr(m, 'cseq').split(/\s+/);
  return { n: Number(n), method };
};
const tagOf = (v: string): string => /;tag=([^;>\s]+)/.exec(v)?.[1] ?? '';
const uriOf = (v: string): string => /<([^>]+)>/.exec(v)?.[1] ?? v.split(';')[0]!.trim();
const md5 = (s: string): string => createHash('md5').update(s).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const branch = (): string => `z9hG4bK${randomBytes(6).toString('hex')}`;

const SDP = (ip: string) =>
  ['v=0', `o=torture 1 1 IN IP4 ${ip}`, 's=-', `c=IN IP4 ${ip}`, 't=0 0', 'm=audio 40000 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000', ''].join('\r\n');

/** A response to `req` (Via, From, To, Call-ID, CSeq copied; a To-tag added when `toTag` is given). */
function responseTo(req: SipMsg, status: number, reason: string, opts: { toTag?: string; contact?: string; body?: string } = {}): string {
  const to = hdr(req, 'to');
  const lines = [
    `SIP/2.0 ${status} ${reason}`,
    ...(req.headers.get('via') ?? []).map((v) => `Via: ${v}`),
    `From: ${hdr(req, 'from')}`,
    `To: ${opts.toTag && !tagOf(to) ? `${to};tag=${opts.toTag}` : to}`,
    `Call-ID: ${hdr(req, 'call-id')}`,
    `CSeq: ${hdr(req, 'cseq')}`,
    ...(opts.contact ? [`Contact: <${opts.contact}>`] : []),
    ...(opts.body ? ['Content-Type: application/sdp'] : []),
    `Content-Length: ${Buffer.byteLength(opts.body ?? '')}`,
  ];
  return `${lines.join('\r\n')}\r\n\r\n${opts.body ?? ''}`;
}

async function openSocket(ip: string, port = 0): Promise<Socket> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(port, ip, () => {
      sock.off('error', reject);
      resolve();
    });
  });
  return sock;
}

export type TortureScenario = 'bye-after-ack' | 'bye-before-ack' | 'cancel-cross' | 'carrier-bye' | 'carrier-bye-before-ack' | 'reinvite' | 'carrier-reinvite';

export interface DeviceCallOptions {
  ip: string;
  /** The SIP server, `ip:port`. */
  edge: string;
  user: string;
  password: string;
  /** The number dialled (Request-URI user). */
  dial: string;
  scenario: TortureScenario;
  /** bye-after-ack and reinvite: how long the caller holds after the ACK. */
  holdMs?: number;
  /** cancel-cross: how long after the 180 the CANCEL goes. */
  cancelAfterMs?: number;
}

/** What one device call saw. */
export interface DeviceCallResult {
  callId: string;
  scenario: TortureScenario;
  /** Final status of the INVITE (after the digest round). */
  status: number;
  /** Milliseconds between the 200 and the end of the call (BYE sent, or BYE received); 0 when not answered. */
  heldMs: number;
  /** Who ended an answered call. */
  endedBy: 'caller' | 'switch' | null;
  /** Status of the caller's own BYE (0 if none was sent). */
  byeStatus: number;
}

/** One call of a device, in its own UDP socket. */
export class TortureDevice {
  readonly callId = `torture-${randomBytes(8).toString('hex')}`;
  private readonly tag = randomBytes(4).toString('hex');
  private readonly events = new EventEmitter();
  private remoteTag = '';
  private target = '';
  private cseq = 1;
  private inviteBranch = '';
  private answeredAt = 0;
  private byeFromSwitchAt = 0;
  private readonly acked = new Set<number>();

  private constructor(
    private readonly sock: Socket,
    private readonly o: DeviceCallOptions,
  ) {
    sock.on('message', (buf) => this.onMessage(parseSip(buf.toString())));
  }

  static async run(o: DeviceCallOptions, timeoutMs = 10_000): Promise<DeviceCallResult> {
    const d = new TortureDevice(await openSocket(o.ip), o);
    try {
      return await d.script(timeoutMs);
    } finally {
      await new Promise<void>((r) => d.sock.close(() => r()));
    }
  }

  private get local(): string {
    const a = this.sock.address();
    return `${a.address}:${a.port}`;
  }
  private get ruri(): string {
    return `sip:${this.o.dial}@${this.o.edge}`;
  }

  private send(text: string): void {
    const [host = '', port = '0'] = this.o.edge.split(':');
    this.sock.send(text, Number(port), host);
  }

  private request(method: string, opts: { uri?: string; cseq?: number; branch?: string; extra?: string[]; body?: string } = {}): string {
    const body = opts.body ?? '';
    const lines = [
      `${method} ${opts.uri ?? (this.target || this.ruri)} SIP/2.0`,
      `Via: SIP/2.0/UDP ${this.local};branch=${opts.branch ?? branch()};rport`,
      'Max-Forwards: 70',
      `From: <sip:${this.o.user}@${this.o.edge}>;tag=${this.tag}`,
      `To: <sip:${this.o.dial}@${this.o.edge}>${this.remoteTag ? `;tag=${this.remoteTag}` : ''}`,
      `Call-ID: ${this.callId}`,
      `CSeq: ${opts.cseq ?? this.cseq} ${method}`,
      `Contact: <sip:${this.o.user}@${this.local}>`,
      `User-Agent: torture/${this.o.scenario}`,
      ...(opts.extra ?? []),
      ...(body ? ['Content-Type: application/sdp'] : []),
      `Content-Length: ${Buffer.byteLength(body)}`,
    ];
    return `${lines.join('\r\n')}\r\n\r\n${body}`;
  }

  private onMessage(m: SipMsg): void {
    const status = statusOf(m);
    if (status > 0) {
      const { n, method } = cseqOf(m);
      if (method === 'INVITE' && status >= 200) {
        if (status < 300) {
          // a 2xx (or its retransmission): remember the dialog; the script sends the ACK
          this.remoteTag = tagOf(hdr(m, 'to')) || this.remoteTag;
          this.target = uriOf(hdr(m, 'contact')) || this.ruri;
          if (this.acked.has(n)) this.send(this.request('ACK', { cseq: n }));
        } else {
          // a failure is ACKed in its own transaction (same branch, same To)
          const to = hdr(m, 'to');
          const lines = [
            `ACK ${this.ruri} SIP/2.0`,
            `Via: ${(m.headers.get('via') ?? [])[0] ?? ''}`,
            'Max-Forwards: 70',
            `From: ${hdr(m, 'from')}`,
            `To: ${to}`,
            `Call-ID: ${this.callId}`,
            `CSeq: ${n} ACK`,
            'Content-Length: 0',
          ];
          this.send(`${lines.join('\r\n')}\r\n\r\n`);
        }
      }
      this.events.emit('response', m);
      return;
    }
    const method = methodOf(m);
    if (method === 'ACK') return;
    this.send(responseTo(m, 200, 'OK'));
    if (method === 'BYE' && this.byeFromSwitchAt === 0) {
      this.byeFromSwitchAt = Date.now();
      this.events.emit('bye');
    }
  }

  private response(pred: (m: SipMsg) => boolean, timeoutMs: number, what: string): Promise<SipMsg> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.events.off('response', on);
        reject(new Error(`${this.callId} (${this.o.scenario}): no ${what} in ${timeoutMs} ms`));
      }, timeoutMs);
      const on = (m: SipMsg) => {
        if (!pred(m)) return;
        clearTimeout(t);
        this.events.off('response', on);
        resolve(m);
      };
      this.events.on('response', on);
    });
  }

  private final(cseq: number, timeoutMs: number): Promise<SipMsg> {
    return this.response((m) => statusOf(m) >= 200 && cseqOf(m).n === cseq && cseqOf(m).method === 'INVITE', timeoutMs, `final response to INVITE ${cseq}`);
  }

  private switchBye(timeoutMs: number): Promise<boolean> {
    if (this.byeFromSwitchAt > 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.events.off('bye', on);
        resolve(false);
      }, timeoutMs);
      const on = () => {
        clearTimeout(t);
        resolve(true);
      };
      this.events.once('bye', on);
    });
  }

  private ack(cseq: number): void {
    this.acked.add(cseq);
    this.send(this.request('ACK', { cseq }));
  }

  /** Sends BYE and resolves with its final status. */
  private async bye(timeoutMs: number): Promise<number> {
    this.cseq += 1;
    const n = this.cseq;
    const res = this.response((m) => statusOf(m) >= 200 && cseqOf(m).n === n && cseqOf(m).method === 'BYE', timeoutMs, 'final response to BYE');
    this.send(this.request('BYE', { cseq: n }));
    return statusOf(await res);
  }

  private async script(timeoutMs: number): Promise<DeviceCallResult> {
    const o = this.o;
    const result: DeviceCallResult = { callId: this.callId, scenario: o.scenario, status: 0, heldMs: 0, endedBy: null, byeStatus: 0 };
    // digest round: INVITE → 407 → INVITE with Proxy-Authorization
    const challenged = this.final(1, timeoutMs);
    this.send(this.request('INVITE', { uri: this.ruri, cseq: 1, body: SDP(o.ip) }));
    const c = await challenged;
    if (statusOf(c) !== 407) {
      result.status = statusOf(c);
      return result;
    }
    const challenge = (c.headers.get('proxy-authenticate') ?? []).find((v) => /algorithm=MD5/i.test(v)) ?? '';
    const param = (name: string) => new RegExp(`${name}="?([^",]+)"?`).exec(challenge)?.[1] ?? '';
    const realm = param('realm');
    const nonce = param('nonce');
    const cnonce = randomBytes(4).toString('hex');
    const ha1 = md5(`${o.user}:${realm}:${o.password}`);
    const digest = md5(`${ha1}:${nonce}:00000001:${cnonce}:auth:${md5(`INVITE:${this.ruri}`)}`);
    const auth = `Proxy-Authorization: Digest username="${o.user}", realm="${realm}", nonce="${nonce}", uri="${this.ruri}", response="${digest}", algorithm=MD5, qop=auth, nc=00000001, cnonce="${cnonce}"`;

    this.cseq = 2;
    this.inviteBranch = branch();
    const ringing = this.response((m) => statusOf(m) === 180 && cseqOf(m).n === 2, timeoutMs, '180');
    ringing.catch(() => undefined);
    const final = this.final(2, timeoutMs);
    this.send(this.request('INVITE', { uri: this.ruri, cseq: 2, branch: this.inviteBranch, extra: [auth], body: SDP(o.ip) }));

    if (o.scenario === 'cancel-cross') {
      await ringing;
      await sleep(o.cancelAfterMs ?? 0);
      // CANCEL: same Request-URI, Call-ID, From, CSeq number and branch as the INVITE; no To-tag
      const lines = [
        `CANCEL ${this.ruri} SIP/2.0`,
        `Via: SIP/2.0/UDP ${this.local};branch=${this.inviteBranch};rport`,
        'Max-Forwards: 70',
        `From: <sip:${o.user}@${o.edge}>;tag=${this.tag}`,
        `To: <sip:${o.dial}@${o.edge}>`,
        `Call-ID: ${this.callId}`,
        'CSeq: 2 CANCEL',
        'Content-Length: 0',
      ];
      this.send(`${lines.join('\r\n')}\r\n\r\n`);
    }
    const f = await final;
    result.status = statusOf(f);
    if (result.status !== 200) return result;
    this.answeredAt = Date.now();

    const hangUp = async () => {
      result.heldMs = Date.now() - this.answeredAt;
      result.endedBy = 'caller';
      result.byeStatus = await this.bye(timeoutMs);
    };
    switch (o.scenario) {
      case 'bye-before-ack':
        // the BYE leaves before the ACK: it crosses the switch's 200 handling
        result.heldMs = 0;
        result.endedBy = 'caller';
        this.cseq += 1;
        {
          const n = this.cseq;
          const res = this.response((m) => statusOf(m) >= 200 && cseqOf(m).n === n && cseqOf(m).method === 'BYE', timeoutMs, 'final response to BYE');
          this.send(this.request('BYE', { cseq: n }));
          this.ack(2);
          result.byeStatus = statusOf(await res);
        }
        break;
      case 'bye-after-ack':
        this.ack(2);
        if (await this.switchBye(o.holdMs ?? 0)) break;
        await hangUp();
        break;
      case 'carrier-reinvite':
        // the carrier re-INVITEs as soon as it has the ACK; the caller holds, then hangs up
        this.ack(2);
        if (await this.switchBye(o.holdMs ?? 0)) break;
        await hangUp();
        break;
      case 'reinvite': {
        this.ack(2);
        this.cseq += 1;
        const n = this.cseq;
        const re = this.final(n, timeoutMs);
        this.send(this.request('INVITE', { cseq: n, body: SDP(o.ip) }));
        const r = await re;
        if (statusOf(r) === 200) this.ack(n);
        if (await this.switchBye(o.holdMs ?? 0)) break;
        await hangUp();
        break;
      }
      case 'cancel-cross':
      case 'carrier-bye':
      case 'carrier-bye-before-ack':
        // the switch ends the call (CANCEL after its 200, or the carrier's BYE); the caller waits for that BYE
        this.ack(2);
        if (!(await this.switchBye(o.scenario === 'cancel-cross' ? 2000 : 5000))) await hangUp();
        break;
    }
    if (result.endedBy === null && this.byeFromSwitchAt > 0) {
      result.heldMs = this.byeFromSwitchAt - this.answeredAt;
      result.endedBy = 'switch';
    }
    return result;
  }
}

/** One leg the carrier received. */
export interface CarrierLeg {
  callId: string;
  scenario: string;
  answered: boolean;
  cancelled: boolean;
  /** A BYE was received from the switch (answered legs), or the carrier sent its own and got a final answer. */
  byeReceived: boolean;
  byeSent: boolean;
  byeSentStatus: number;
  /** Final status of the carrier's own re-INVITE (0 if none was sent or answered). */
  reinviteStatus: number;
}

/**
 * A carrier gateway for many concurrent legs. Behaviour per leg comes from its User-Agent:
 * `torture/cancel-cross` answers 0–20 ms after its 180 (so the caller's CANCEL crosses the 200);
 * `torture/carrier-bye` hangs up 0–10 ms after the ACK; `torture/carrier-bye-before-ack` sends its BYE
 * with its 200, before the switch's ACK can reach it (RFC 3261 §15 asks a callee to wait for the
 * ACK; a carrier that does not must not leave the caller up); `torture/carrier-reinvite` sends a re-INVITE
 * as soon as the ACK is in (while the B2BUA may still be setting the call up); every other leg
 * answers at once and waits for the switch's BYE.
 */
export class TortureCarrier {
  readonly legs = new Map<string, CarrierLeg>();
  private readonly pending = new Map<string, { invite: SipMsg; tag: string; final: boolean; timer?: NodeJS.Timeout; reinvited?: boolean }>();

  private constructor(private readonly sock: Socket) {
    sock.on('message', (buf, rinfo) => this.onMessage(parseSip(buf.toString()), rinfo.address, rinfo.port));
  }

  static async listen(ip: string, port: number): Promise<TortureCarrier> {
    return new TortureCarrier(await openSocket(ip, port));
  }

  private get local(): string {
    const a = this.sock.address();
    return `${a.address}:${a.port}`;
  }

  /** Answered legs still up (neither side has ended them). */
  openLegs(): CarrierLeg[] {
    return [...this.legs.values()].filter((l) => l.answered && !l.byeReceived && !(l.byeSent && l.byeSentStatus > 0));
  }

  private onMessage(m: SipMsg, address: string, port: number): void {
    const reply = (text: string) => this.sock.send(text, port, address);
    const callId = hdr(m, 'call-id');
    const status = statusOf(m);
    if (status > 0) {
      const leg = this.legs.get(callId);
      if (cseqOf(m).method === 'BYE' && status >= 200 && leg) leg.byeSentStatus = status;
      if (cseqOf(m).method === 'INVITE' && status >= 200 && leg && leg.reinviteStatus === 0) {
        leg.reinviteStatus = status;
        const p = this.pending.get(callId);
        if (status < 300 && p) this.sendInDialog('ACK', p.invite, p.tag, address, port, cseqOf(m).n);
      }
      return;
    }
    const method = methodOf(m);
    const leg = this.legs.get(callId);
    const p = this.pending.get(callId);
    switch (method) {
      case 'INVITE': {
        if (tagOf(hdr(m, 'to'))) {
          reply(responseTo(m, 200, 'OK', { contact: `sip:carrier@${this.local}`, body: SDP(this.local.split(':')[0]!) }));
          return;
        }
        if (p) return; // a retransmission
        const scenario = /torture\/([a-z-]+)/.exec(hdr(m, 'user-agent'))?.[1] ?? 'plain';
        const tag = randomBytes(4).toString('hex');
        this.legs.set(callId, { callId, scenario, answered: false, cancelled: false, byeReceived: false, byeSent: false, byeSentStatus: 0, reinviteStatus: 0 });
        const entry: { invite: SipMsg; tag: string; final: boolean; timer?: NodeJS.Timeout; reinvited?: boolean } = { invite: m, tag, final: false };
        this.pending.set(callId, entry);
        reply(responseTo(m, 100, 'Trying'));
        reply(responseTo(m, 180, 'Ringing', { toTag: tag, contact: `sip:carrier@${this.local}` }));
        const answer = () => {
          if (entry.final) return;
          entry.final = true;
          this.legs.get(callId)!.answered = true;
          reply(responseTo(m, 200, 'OK', { toTag: tag, contact: `sip:carrier@${this.local}`, body: SDP(this.local.split(':')[0]!) }));
        };
        if (scenario === 'cancel-cross') entry.timer = setTimeout(answer, randomInt(0, 21));
        else answer();
        if (scenario === 'carrier-bye-before-ack') {
          // the BYE leaves in the same instant as the 200: the switch reads both before it ACKs
          this.legs.get(callId)!.byeSent = true;
          this.sendBye(m, tag, address, port);
        }
        return;
      }
      case 'CANCEL': {
        reply(responseTo(m, 200, 'OK'));
        if (p && !p.final) {
          p.final = true;
          clearTimeout(p.timer);
          leg!.cancelled = true;
          reply(responseTo(p.invite, 487, 'Request Terminated', { toTag: p.tag }));
        }
        return;
      }
      case 'ACK': {
        if (!p || !leg || !leg.answered) return;
        if (leg.scenario === 'carrier-reinvite' && cseqOf(m).n === cseqOf(p.invite).n && !p.reinvited) {
          p.reinvited = true;
          this.sendInDialog('INVITE', p.invite, p.tag, address, port, 1, SDP(this.local.split(':')[0]!));
        }
        if (leg.scenario !== 'carrier-bye' || leg.byeSent) return;
        leg.byeSent = true;
        setTimeout(() => this.sendBye(p.invite, p.tag, address, port), randomInt(0, 11));
        return;
      }
      case 'BYE': {
        reply(responseTo(m, 200, 'OK'));
        if (leg) leg.byeReceived = true;
        return;
      }
      default:
        reply(responseTo(m, 200, 'OK'));
    }
  }

  /** The carrier's own BYE: From is the INVITE's To with our tag, To is its From, sent to its Contact via the switch. */
  private sendBye(invite: SipMsg, tag: string, address: string, port: number): void {
    this.sendInDialog('BYE', invite, tag, address, port, 2);
  }

  /** A request of ours in the leg's dialog (our CSeq space starts at 1: re-INVITE 1, its ACK 1, BYE 2). */
  private sendInDialog(method: 'BYE' | 'INVITE' | 'ACK', invite: SipMsg, tag: string, address: string, port: number, cseq: number, body = ''): void {
    const lines = [
      `${method} ${uriOf(hdr(invite, 'contact'))} SIP/2.0`,
      `Via: SIP/2.0/UDP ${this.local};branch=${branch()};rport`,
      'Max-Forwards: 70',
      `From: ${hdr(invite, 'to')};tag=${tag}`,
      `To: ${hdr(invite, 'from')}`,
      `Call-ID: ${hdr(invite, 'call-id')}`,
      `CSeq: ${cseq} ${method}`,
      ...(method === 'INVITE' ? [`Contact: <sip:carrier@${this.local}>`, 'Content-Type: application/sdp'] : []),
      `Content-Length: ${Buffer.byteLength(body)}`,
    ];
    this.sock.send(`${lines.join('\r\n')}\r\n\r\n${body}`, port, address);
  }

  close(): Promise<void> {
    for (const p of this.pending.values()) clearTimeout(p.timer);
    return new Promise((r) => this.sock.close(() => r()));
  }
}
