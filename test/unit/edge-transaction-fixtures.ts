/** Test doubles for the transaction layer: a hand-driven clock and a recording transport. */
import { parseMessage, serialiseMessage, type SipMessage, type SipRequest, type SipResponse, type SipParseError } from '../../src/edge/message/index.ts';
import type { TransportError } from '../../src/edge/transport/index.ts';
import { type ListenPoint, type SendResult, type SourceInfo, type Target, type TransportPort } from '../../src/edge/transport/index.ts';
import type { Clock, ClientTransaction, ClientTransactionUser, ServerTransaction, TimeoutTimer, TransactionUser } from '../../src/edge/transaction/index.ts';

interface Scheduled {
  at: number;
  seq: number;
  fn: () => void;
}

/** A clock that only moves when told to. */
export class ManualClock implements Clock {
  private time = 0;
  private seq = 0;
  private queue: Scheduled[] = [];

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const s: Scheduled = { at: this.time + Math.max(0, ms), seq: this.seq++, fn };
    this.queue.push(s);
    return s;
  }

  clearTimeout(handle: unknown): void {
    this.queue = this.queue.filter((s) => s !== handle);
  }

  /** Run every timer due up to now + ms, in time order, moving the clock to each. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    for (;;) {
      this.queue.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.queue[0];
      if (next === undefined || next.at > end) break;
      this.queue.shift();
      this.time = next.at;
      next.fn();
      await flush();
    }
    this.time = end;
    await flush();
  }

  get pending(): number {
    return this.queue.length;
  }
}

/** Let promise callbacks (send results) run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

export interface Sent {
  at: number;
  text: string;
  message: SipMessage;
  target: Target;
}

const UDP_POINT: ListenPoint = { protocol: 'udp', address: '127.0.0.1', port: 5080, advertisedAddress: '127.0.0.1', family: 4 };
const TCP_POINT: ListenPoint = { protocol: 'tcp', address: '127.0.0.1', port: 5080, advertisedAddress: '127.0.0.1', family: 4 };

/** Records what is sent (as re-parsed copies); can be told to fail. */
export class RecordingTransport implements TransportPort {
  readonly sent: Sent[] = [];
  failWith: TransportError | undefined;
  private readonly clock: ManualClock;

  constructor(clock: ManualClock) {
    this.clock = clock;
  }

  send(message: SipMessage, target: Target): Promise<SendResult> {
    if (this.failWith !== undefined) return Promise.resolve({ ok: false, error: this.failWith });
    const bytes = serialiseMessage(message);
    const parsed = parseMessage(bytes);
    if (!parsed.ok) throw new Error(`sent an unparsable message: ${parsed.error.message}\n${bytes.toString()}`);
    this.sent.push({ at: this.clock.now(), text: bytes.toString(), message: parsed.message, target });
    const local = target.protocol === 'udp' ? UDP_POINT : TCP_POINT;
    return Promise.resolve({ ok: true, bytes: bytes.length, local, destination: { ...target, connectionId: target.connectionId ?? 0 } });
  }

  listenPoints(): readonly ListenPoint[] {
    return [UDP_POINT, TCP_POINT];
  }

  responses(status?: number): SipResponse[] {
    return this.sent.flatMap((s) => (s.message.kind === 'response' && (status === undefined || s.message.status === status) ? [s.message] : []));
  }

  requests(method?: string): SipRequest[] {
    return this.sent.flatMap((s) => (s.message.kind === 'request' && (method === undefined || s.message.method === method) ? [s.message] : []));
  }

  times(predicate: (m: SipMessage) => boolean): number[] {
    return this.sent.filter((s) => predicate(s.message)).map((s) => s.at);
  }
}

export type TuEvent =
  | { type: 'request'; txn: ServerTransaction; request: SipRequest }
  | { type: 'ack'; request: SipRequest; txn: ServerTransaction | undefined }
  | { type: 'cancel'; request: SipRequest; cancelTxn: ServerTransaction; invite: ServerTransaction | undefined }
  | { type: 'stray'; response: SipResponse }
  | { type: 'serverTimeout'; txn: ServerTransaction; timer: TimeoutTimer }
  | { type: 'serverTransportError'; txn: ServerTransaction; error: TransportError }
  | { type: 'serverTerminated'; txn: ServerTransaction }
  | { type: 'malformed'; error: SipParseError; answered: boolean };

/** A TU that records what the layer reports. `onRequestHook` lets a test answer synchronously. */
export class RecordingTu implements TransactionUser {
  readonly events: TuEvent[] = [];
  onRequestHook: ((txn: ServerTransaction, request: SipRequest) => void) | undefined;

  onRequest(txn: ServerTransaction, request: SipRequest, _source: SourceInfo): void {
    this.events.push({ type: 'request', txn, request });
    this.onRequestHook?.(txn, request);
  }
  onAck(request: SipRequest, _source: SourceInfo, txn: ServerTransaction | undefined): void {
    this.events.push({ type: 'ack', request, txn });
  }
  onCancel(request: SipRequest, _source: SourceInfo, cancelTxn: ServerTransaction, invite: ServerTransaction | undefined): void {
    this.events.push({ type: 'cancel', request, cancelTxn, invite });
  }
  onStrayResponse(response: SipResponse): void {
    this.events.push({ type: 'stray', response });
  }
  onServerTimeout(txn: ServerTransaction, timer: TimeoutTimer): void {
    this.events.push({ type: 'serverTimeout', txn, timer });
  }
  onServerTransportError(txn: ServerTransaction, error: TransportError): void {
    this.events.push({ type: 'serverTransportError', txn, error });
  }
  onServerTerminated(txn: ServerTransaction): void {
    this.events.push({ type: 'serverTerminated', txn });
  }
  onMalformed(error: SipParseError, _source: SourceInfo, answered: boolean): void {
    this.events.push({ type: 'malformed', error, answered });
  }

  of<T extends TuEvent['type']>(type: T): Array<Extract<TuEvent, { type: T }>> {
    return this.events.filter((e): e is Extract<TuEvent, { type: T }> => e.type === type);
  }
}

export type ClientEvent =
  | { type: 'response'; response: SipResponse }
  | { type: 'timeout'; timer: TimeoutTimer }
  | { type: 'transportError'; error: TransportError }
  | { type: 'terminated' };

export class RecordingClientUser implements ClientTransactionUser {
  readonly events: ClientEvent[] = [];
  onResponse(response: SipResponse, _txn: ClientTransaction, _source: SourceInfo): void {
    this.events.push({ type: 'response', response });
  }
  onTimeout(_txn: ClientTransaction, timer: TimeoutTimer): void {
    this.events.push({ type: 'timeout', timer });
  }
  onTransportError(_txn: ClientTransaction, error: TransportError): void {
    this.events.push({ type: 'transportError', error });
  }
  onTerminated(): void {
    this.events.push({ type: 'terminated' });
  }
  statuses(): number[] {
    return this.events.flatMap((e) => (e.type === 'response' ? [e.response.status] : []));
  }
}

export const UDP_SOURCE: SourceInfo = {
  protocol: 'udp',
  remoteAddress: '127.0.0.1',
  remotePort: 5070,
  localAddress: '127.0.0.1',
  localPort: 5080,
  connectionId: 0,
};
export const TCP_SOURCE: SourceInfo = {
  protocol: 'tcp',
  remoteAddress: '127.0.0.1',
  remotePort: 40001,
  localAddress: '127.0.0.1',
  localPort: 5080,
  connectionId: 7,
};

/** Parse a message written with \n line ends; throws on failure. */
export function sip(text: string): SipMessage {
  const r = parseMessage(text.replace(/\r?\n/g, '\r\n'));
  if (!r.ok) throw new Error(`fixture does not parse: ${r.error.message}`);
  return r.message;
}

export function invite(opts: { branch?: string; callId?: string; sentBy?: string; proto?: string; toTag?: string } = {}): SipMessage {
  const branch = opts.branch ?? 'z9hG4bKinv1';
  return sip(`INVITE sip:1234@127.0.0.1:5080 SIP/2.0
Via: SIP/2.0/${opts.proto ?? 'UDP'} ${opts.sentBy ?? '127.0.0.1:5070'};branch=${branch};rport=5070
From: <sip:caller@127.0.0.1:5070>;tag=ftag
To: <sip:1234@127.0.0.1:5080>${opts.toTag === undefined ? '' : `;tag=${opts.toTag}`}
Call-ID: ${opts.callId ?? 'call-1'}
CSeq: 1 INVITE
Contact: <sip:caller@127.0.0.1:5070>
Max-Forwards: 70
Content-Length: 0

`);
}

export function ack(opts: { branch?: string; toTag?: string; sentBy?: string } = {}): SipMessage {
  return sip(`ACK sip:1234@127.0.0.1:5080 SIP/2.0
Via: SIP/2.0/UDP ${opts.sentBy ?? '127.0.0.1:5070'};branch=${opts.branch ?? 'z9hG4bKinv1'};rport=5070
From: <sip:caller@127.0.0.1:5070>;tag=ftag
To: <sip:1234@127.0.0.1:5080>;tag=${opts.toTag ?? 'totag'}
Call-ID: call-1
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0

`);
}

export function nonInvite(method: string, opts: { branch?: string; callId?: string } = {}): SipMessage {
  return sip(`${method} sip:1234@127.0.0.1:5080 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:5070;branch=${opts.branch ?? 'z9hG4bKnon1'};rport=5070
From: <sip:caller@127.0.0.1:5070>;tag=ftag
To: <sip:1234@127.0.0.1:5080>
Call-ID: ${opts.callId ?? 'call-1'}
CSeq: ${method === 'CANCEL' ? 1 : 2} ${method}
Max-Forwards: 70
Content-Length: 0

`);
}

/** A response to `request` as a peer would send it (To-tag added). */
export function responseTo(request: SipRequest, status: number, reason = 'X', toTag = 'peer-tag'): SipMessage {
  const via = request.getAll('via')[0] ?? '';
  const cseq = request.get('cseq') ?? '';
  const to = request.get('to') ?? '';
  return sip(`SIP/2.0 ${status} ${reason}
Via: ${via}
From: ${request.get('from') ?? ''}
To: ${status > 100 && request.toTag === undefined ? `${to};tag=${toTag}` : to}
Call-ID: ${request.callId ?? ''}
CSeq: ${cseq}
Content-Length: 0

`);
}
