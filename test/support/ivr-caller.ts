/**
 * A caller on the phone network reaching an access number through a carrier: a small SIP UAC over
 * UDP (INVITE with SDP, ACK, BYE, INFO; answers the edge's BYE) bound to the carrier's address,
 * plus an RTP socket (test/support/media/rtp-peer.ts) that sends 20 ms frames of silence, RFC 4733
 * key presses, and records what it hears. What it heard is compared with the prompt files
 * (PromptStore frames), so a test asserts the exact prompt sequence.
 *
 * Every wait is for an event (a response, a BYE, audio arriving), bounded by a deadline.
 */
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import type { Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import path from 'node:path';
import { encodeUlaw } from '../../src/media/embedded/g711.ts';
import { PromptStore } from '../../src/media/embedded/prompt-store.ts';
import { isDigit } from '../../src/media/media-port.ts';
import type { Prompt } from '../../src/media/media-port.ts';
import { RtpPeer } from './media/rtp-peer.ts';

const SOUNDS_DIR = path.resolve(import.meta.dirname, '../../freeswitch/sounds');
const store = new PromptStore(SOUNDS_DIR);

/** The PCMU bytes the caller hears for a prompt list. */
export function promptAudio(prompts: readonly Prompt[]): Buffer {
  return Buffer.concat(store.frames('en', prompts, 'PCMU'));
}

interface SipMessage {
  first: string;
  headers: Map<string, string[]>;
  body: string;
}

function parse(text: string): SipMessage {
  const [head = '', body = ''] = text.split('\r\n\r\n', 2);
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

const h1 = (m: SipMessage, name: string): string => m.headers.get(name)?.[0] ?? '';

export interface IvrCallOptions {
  /** Address to send from (a trusted carrier address, or any other). */
  ip: string;
  /** The edge, `ip:port`. */
  edge: string;
  /** The access number dialled (Request-URI user). */
  to: string;
  /** From user: the caller ID ('anonymous' for a withheld one). */
  from: string;
  headers?: Record<string, string>;
}

export class IvrCaller {
  /** Ours when calling; the switch's when this phone answered its INVITE. */
  callId = `ivr-${randomBytes(8).toString('hex')}`;
  /** Final response to the INVITE. */
  status = 0;
  reason = '';
  /** The BYE the switch sent (its Reason header), once it came. */
  bye: { reason: string } | undefined;
  private readonly events = new EventEmitter();
  private readonly tag = randomBytes(4).toString('hex');
  private remoteTag = '';
  private remoteTarget = '';
  private cseq = 1;
  private audioTimer: NodeJS.Timeout | undefined;
  /** What the caller says: silence, or a steady tone (toneFrames). */
  private tone: Iterator<Buffer, never> | undefined;
  private cursor = 0;
  /** Where requests and responses go: the edge, or (answering) where the INVITE came from. */
  private peer: string;
  /** The dialog's From and To as this side sends them, when it answered an INVITE instead of calling. */
  private answeredAs: { from: string; to: string } | undefined;

  private constructor(
    private readonly sip: Socket,
    readonly rtp: RtpPeer,
    private readonly o: IvrCallOptions,
  ) {
    this.peer = o.edge;
    sip.on('message', (buf, rinfo) => this.onMessage(parse(buf.toString()), `${rinfo.address}:${rinfo.port}`));
  }

  /**
   * A phone on a carrier's gateway address (`ip:port`) that the switch calls: it answers one INVITE
   * without SDP with an offer (RFC 3725 flow I, a callback's leg A) and takes the answer from the
   * ACK, then behaves as a caller (keys, prompts heard, hang-up). Resolves once listening;
   * waitAnswered() resolves at the ACK.
   */
  static async answering(o: { ip: string; port: number }): Promise<IvrCaller> {
    const sip = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => sip.bind(o.port, o.ip, () => resolve()));
    const rtp = await RtpPeer.open();
    return new IvrCaller(sip, rtp, { ip: o.ip, edge: '', to: '', from: '' });
  }

  /** Answering: resolves once the switch's ACK (with its SDP answer) has come and audio flows. */
  async waitAnswered(timeoutMs = 20_000): Promise<void> {
    if (this.status === 200) return;
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no INVITE answered and acknowledged in time')), timeoutMs);
      this.events.once('answered', () => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  private answerInvite(m: SipMessage, from: string): void {
    this.peer = from;
    this.callId = h1(m, 'call-id');
    this.answeredAs = { from: `${h1(m, 'to')};tag=${this.tag}`, to: h1(m, 'from') };
    this.remoteTarget = /<([^>]+)>/.exec(h1(m, 'contact'))?.[1] ?? '';
    const { address, port } = this.sipAddress;
    const body = this.rtp.sdp(['PCMU', 'PCMA']);
    const ok = [
      'SIP/2.0 200 OK',
      ...(m.headers.get('via') ?? []).map((v) => `Via: ${v}`),
      `From: ${h1(m, 'from')}`,
      `To: ${this.answeredAs.from}`,
      `Call-ID: ${this.callId}`,
      `CSeq: ${h1(m, 'cseq')}`,
      `Contact: <sip:phone@${address}:${port}>`,
      'Content-Type: application/sdp',
      `Content-Length: ${Buffer.byteLength(body)}`,
    ].join('\r\n');
    // the 200 is sent again until the ACK comes (RFC 3261 §13.3.1.4)
    let tries = 0;
    const send = () => {
      if (this.status === 200 || tries++ > 10) return;
      this.send(`${ok}\r\n\r\n${body}`);
      setTimeout(send, 250).unref();
    };
    send();
  }

  /** Places the call; resolves once the INVITE has a final response (RTP starts on 200). */
  static async call(o: IvrCallOptions, timeoutMs = 10_000): Promise<IvrCaller> {
    const sip = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => sip.bind(0, o.ip, () => resolve()));
    const rtp = await RtpPeer.open();
    const c = new IvrCaller(sip, rtp, o);
    const final = c.next((m) => /^SIP\/2\.0 [2-6]\d\d/.test(m.first) && h1(m, 'cseq').endsWith('INVITE'), timeoutMs);
    c.send(c.request('INVITE', `sip:${o.to}@${o.edge}`, c.branch(), rtp.sdp(['PCMU', 'PCMA']), o.headers));
    const res = await final;
    const [, code = '0', reason = ''] = /^SIP\/2\.0 (\d{3}) ?(.*)$/.exec(res.first) ?? [];
    c.status = Number(code);
    c.reason = reason;
    if (c.status === 200) {
      c.rtp.useSdp(res.body);
      c.startAudio();
    }
    return c;
  }

  private get sipAddress(): { address: string; port: number } {
    return this.sip.address();
  }
  private branch(): string {
    return `z9hG4bK${randomBytes(6).toString('hex')}`;
  }

  private request(method: string, uri: string, branch: string, body = '', extra: Record<string, string> = {}, cseq = this.cseq): string {
    const { address, port } = this.sipAddress;
    const lines = [
      `${method} ${uri} SIP/2.0`,
      `Via: SIP/2.0/UDP ${address}:${port};branch=${branch};rport`,
      'Max-Forwards: 70',
      `From: ${this.answeredAs?.from ?? `<sip:${this.o.from}@${address}>;tag=${this.tag}`}`,
      `To: ${this.answeredAs?.to ?? `<sip:${this.o.to}@${this.o.edge}>${this.remoteTag ? `;tag=${this.remoteTag}` : ''}`}`,
      `Call-ID: ${this.callId}`,
      `CSeq: ${cseq} ${method === 'ACK' ? 'ACK' : method}`,
      `Contact: <sip:caller@${address}:${port}>`,
      ...Object.entries(extra).map(([k, v]) => `${k}: ${v}`),
      ...(body ? ['Content-Type: ' + (method === 'INFO' ? 'application/dtmf-relay' : 'application/sdp')] : []),
      `Content-Length: ${Buffer.byteLength(body)}`,
    ];
    return `${lines.join('\r\n')}\r\n\r\n${body}`;
  }

  private send(text: string): void {
    const [host = '', port = '0'] = this.peer.split(':');
    this.sip.send(text, Number(port), host);
  }

  private onMessage(m: SipMessage, from: string): void {
    if (m.first.startsWith('SIP/2.0')) {
      const code = Number(m.first.slice(8, 11));
      const cseq = h1(m, 'cseq');
      if (cseq.endsWith('INVITE') && code >= 200) {
        const to = h1(m, 'to');
        this.remoteTag = /;tag=([^;>\s]+)/.exec(to)?.[1] ?? this.remoteTag;
        if (code < 300) {
          this.remoteTarget = /<([^>]+)>/.exec(h1(m, 'contact'))?.[1] ?? `sip:${this.o.to}@${this.o.edge}`;
          this.send(this.request('ACK', this.remoteTarget, this.branch(), '', {}, 1));
        } else {
          // ACK for a failure belongs to the INVITE transaction (same branch)
          const via = h1(m, 'via');
          const branch = /branch=([^;\s]+)/.exec(via)?.[1] ?? this.branch();
          this.send(this.request('ACK', `sip:${this.o.to}@${this.o.edge}`, branch, '', {}, 1));
        }
      }
      this.events.emit('message', m);
      return;
    }
    // a request from the switch: answer 200 (BYE, INFO, OPTIONS); answering, the INVITE and its ACK
    const method = m.first.split(' ')[0] ?? '';
    if (method === 'INVITE') {
      if (this.answeredAs === undefined) this.answerInvite(m, from);
      return;
    }
    if (method === 'ACK') {
      if (this.status !== 200 && h1(m, 'call-id') === this.callId) {
        this.status = 200;
        this.rtp.useSdp(m.body);
        this.startAudio();
        this.events.emit('answered');
      }
      return;
    }
    const res = [
      'SIP/2.0 200 OK',
      ...(m.headers.get('via') ?? []).map((v) => `Via: ${v}`),
      `From: ${h1(m, 'from')}`,
      `To: ${h1(m, 'to')}`,
      `Call-ID: ${h1(m, 'call-id')}`,
      `CSeq: ${h1(m, 'cseq')}`,
      'Content-Length: 0',
    ].join('\r\n');
    this.send(`${res}\r\n\r\n`);
    if (method === 'BYE') {
      this.stopAudio();
      this.bye = { reason: h1(m, 'reason') };
      this.events.emit('bye');
    }
    this.events.emit('message', m);
  }

  private next(pred: (m: SipMessage) => boolean, timeoutMs: number): Promise<SipMessage> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.events.off('message', on);
        reject(new Error(`${this.callId}: no matching SIP message in ${timeoutMs} ms`));
      }, timeoutMs);
      const on = (m: SipMessage) => {
        if (!pred(m)) return;
        clearTimeout(t);
        this.events.off('message', on);
        resolve(m);
      };
      this.events.on('message', on);
    });
  }

  /** Sends a 20 ms silence frame every 20 ms (a live caller), until stopAudio or hangup. */
  startAudio(): void {
    this.audioTimer ??= setInterval(() => {
      try {
        this.rtp.sendAudio(0, this.tone?.next().value);
      } catch {
        /* socket closed */
      }
    }, 20);
  }

  /** From now on the caller's frames carry a sine of `hz` instead of silence (what a recording's left channel must hold). */
  say(hz: number): void {
    this.tone = toneFrames(hz);
  }

  /** The caller goes quiet (no RTP at all). */
  stopAudio(): void {
    clearInterval(this.audioTimer);
    this.audioTimer = undefined;
  }

  /** Keys as RFC 4733 events (start, updates, three end packets; `duplicate` sends every packet twice). */
  press(keys: string, opts: { duplicate?: boolean } = {}): void {
    for (const k of keys) {
      if (!isDigit(k)) throw new Error(`not a key: ${k}`);
      this.rtp.pressKey(k, opts);
    }
  }

  /** One key as SIP INFO (application/dtmf-relay). */
  async info(key: string, timeoutMs = 5000): Promise<void> {
    this.cseq += 1;
    const ok = this.next((m) => h1(m, 'cseq') === `${this.cseq} INFO`, timeoutMs);
    this.send(this.request('INFO', this.remoteTarget, this.branch(), `Signal=${key}\r\nDuration=160\r\n`));
    await ok;
  }

  /** Everything heard (PCMU payload) so far. */
  heard(): Buffer {
    return this.rtp.audio(0);
  }

  /**
   * Waits until `prompts` have been heard, starting exactly where the last expectation ended
   * (or, with `anywhere`, starting anywhere after it), and moves past them.
   */
  async expectHeard(prompts: readonly Prompt[], opts: { anywhere?: boolean; timeoutMs?: number } = {}): Promise<void> {
    const expected = promptAudio(prompts);
    const found = (): number => {
      const all = this.heard();
      if (opts.anywhere === true) return all.indexOf(expected, this.cursor);
      return all.length >= this.cursor + expected.length ? this.cursor : -1;
    };
    await this.rtp.waitFor(() => found() >= 0, opts.timeoutMs ?? 20_000);
    const at = found();
    const got = this.heard().subarray(at, at + expected.length);
    if (!got.equals(expected)) {
      const diff = got.findIndex((b, i) => b !== expected[i]);
      throw new Error(`heard audio differs from ${JSON.stringify(prompts)} at byte ${diff} of ${expected.length} (offset ${at})`);
    }
    this.cursor = at + expected.length;
  }

  /** Waits for the first frames of a prompt after the cursor (e.g. a collect's prompt has started), without moving the cursor. */
  async waitPrompt(prompt: Prompt, timeoutMs = 20_000): Promise<void> {
    const frames = store.frames('en', [prompt], 'PCMU');
    // the loudest frame (most mu-law bytes of large magnitude) and the next identify the prompt
    const loud = (f: Buffer) => f.reduce((n, b) => n + ((b & 0x7f) < 0x30 ? 1 : 0), 0);
    let best = 0;
    frames.forEach((f, i) => {
      if (i < frames.length - 1 && loud(f) > loud(frames[best]!)) best = i;
    });
    const marker = Buffer.concat(frames.slice(best, best + 2));
    await this.rtp.waitFor(() => this.heard().indexOf(marker, this.cursor) >= 0, timeoutMs);
  }

  /** Skips what was heard so far. */
  skipHeard(): void {
    this.cursor = this.heard().length;
  }

  /** Resolves when the switch hangs up (BYE), with its Reason header. */
  async waitBye(timeoutMs = 20_000): Promise<{ reason: string }> {
    if (this.bye) return this.bye;
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => {
        this.events.off('bye', on);
        reject(new Error(`${this.callId}: no BYE in ${timeoutMs} ms`));
      }, timeoutMs);
      const on = () => {
        clearTimeout(t);
        resolve();
      };
      this.events.once('bye', on);
    });
    return this.bye!;
  }

  /** The caller hangs up (BYE; resolves on its 200). */
  async hangup(timeoutMs = 5000): Promise<void> {
    this.stopAudio();
    if (this.bye || this.status !== 200) return;
    this.cseq += 1;
    const ok = this.next((m) => h1(m, 'cseq') === `${this.cseq} BYE`, timeoutMs);
    this.send(this.request('BYE', this.remoteTarget, this.branch()));
    await ok;
  }

  async close(): Promise<void> {
    this.stopAudio();
    await this.rtp.close();
    await new Promise<void>((resolve) => this.sip.close(() => resolve()));
  }
}

/** Successive 20 ms PCMU frames of a continuous sine (amplitude about a third of full scale). */
export function* toneFrames(hz: number): Generator<Buffer, never> {
  let n = 0;
  for (;;) {
    const f = Buffer.alloc(160);
    for (let i = 0; i < 160; i++, n++) f[i] = encodeUlaw(Math.round(10000 * Math.sin((2 * Math.PI * hz * n) / 8000)));
    yield f;
  }
}
