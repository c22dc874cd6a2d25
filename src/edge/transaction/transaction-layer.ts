/**
 * The transaction layer (RFC 3261 §17): matches incoming messages to transactions, creates
 * server transactions for new requests, creates client transactions for the TU, and sends
 * stateless messages. It is the transport's user.
 */
import {
  BRANCH_MAGIC_COOKIE,
  bracketHost,
  canFormResponse,
  createResponse,
  generateBranch,
  generateTag,
  stripBrackets,
  type SipMessage,
  type SipParseError,
  type SipRequest,
  type SipResponse,
} from '../message/index.ts';
import { responseTarget, type ListenPoint, type SendResult, type SourceInfo, type Target, type TransportPort, type TransportUser } from '../transport/index.ts';
import { systemClock, type Clock } from './clock.ts';
import { InviteClientTransaction } from './invite-client-transaction.ts';
import { InviteServerTransaction } from './invite-server-transaction.ts';
import { NonInviteClientTransaction } from './non-invite-client-transaction.ts';
import { NonInviteServerTransaction } from './non-invite-server-transaction.ts';
import { timerSettings, type TimerSettings } from './timer-settings.ts';
import type { TransactionContext } from './transaction-context.ts';
import type { ClientTransaction, ClientTransactionUser, ServerTransaction, TransactionUser } from './transaction-user.ts';

export interface TransactionLayerOptions {
  readonly timers?: Partial<TimerSettings>;
  readonly clock?: Clock;
  /** Send `100 Trying` on every new INVITE before reporting it (default true, as drachtio-server). */
  readonly autoTrying?: boolean;
  /** Answer malformed requests with 400 (reason from the parse error) when a response can be formed (default true). */
  readonly rejectMalformed?: boolean;
}

export interface SendRequestOptions {
  /**
   * `add` (default, except CANCEL): prepend a new Via with a fresh branch for the listening
   * point matching the target. `keep`: use the request's top Via as is (default for CANCEL,
   * which must carry the INVITE's branch, §9.1).
   */
  readonly via?: 'add' | 'keep';
  /** INVITE only: give up when not even 100 Trying arrived this long after sending (see InviteClientTransaction). */
  readonly provisionalTimeoutMs?: number;
}

type AnyServer = InviteServerTransaction | NonInviteServerTransaction;
type AnyClient = InviteClientTransaction | NonInviteClientTransaction;

export class TransactionLayer implements TransportUser {
  readonly timers: TimerSettings;
  readonly clock: Clock;
  private readonly transport: TransportPort;
  private readonly user: TransactionUser;
  private readonly rejectMalformed: boolean;
  private readonly servers = new Map<string, AnyServer>();
  private readonly clients = new Map<string, AnyClient>();
  private readonly ctx: TransactionContext;

  constructor(transport: TransportPort, user: TransactionUser, options: TransactionLayerOptions = {}) {
    this.transport = transport;
    this.user = user;
    this.timers = timerSettings(options.timers);
    this.clock = options.clock ?? systemClock;
    this.rejectMalformed = options.rejectMalformed ?? true;
    this.ctx = {
      clock: this.clock,
      timers: this.timers,
      autoTrying: options.autoTrying ?? true,
      send: (message, target) => this.transport.send(message, target),
      forget: (id, server) => {
        if (server) this.servers.delete(id);
        else this.clients.delete(id);
      },
    };
  }

  // ---- receiving (TransportUser) -------------------------------------------------------

  /** TransportUser: a parsed message from the network. */
  onMessage(message: SipMessage, source: SourceInfo): void {
    if (message.kind === 'request') this.receiveRequest(message, source);
    else this.receiveResponse(message, source);
  }

  /** TransportUser: a message that failed to parse; a request is answered 400 (or 505) when possible. */
  onMalformed(error: SipParseError, source: SourceInfo): void {
    const partial = error.partial;
    let answered = false;
    if (this.rejectMalformed && partial !== undefined && partial.kind === 'request' && partial.method !== 'ACK' && canFormResponse(partial)) {
      const response = createResponse(partial, error.status, { reason: error.status === 400 ? error.message : undefined });
      void this.transport.send(response, responseTarget(partial.topVia, source));
      answered = true;
    }
    this.user.onMalformed?.(error, source, answered);
  }

  private receiveRequest(request: SipRequest, source: SourceInfo): void {
    const method = request.method;
    if (method === 'ACK') {
      // §17.2.3: the ACK matches the INVITE server transaction whose response it acknowledges.
      const ist = this.servers.get(serverKey(request, 'INVITE'));
      if (ist instanceof InviteServerTransaction) ist.receiveAck(request, source);
      else this.user.onAck(request, source, undefined);
      return;
    }
    const key = serverKey(request, method);
    const existing = this.servers.get(key);
    if (existing !== undefined) {
      if (existing instanceof InviteServerTransaction) existing.receiveInvite();
      else existing.receiveRequest();
      return;
    }
    const verdict = this.user.screen?.(request, source);
    if (verdict === 'taken') return;
    if (verdict !== undefined) {
      const response = createResponse(request, verdict.status, { reason: verdict.reason, toTag: generateTag() });
      void this.transport.send(response, responseTarget(request.topVia, source));
      return;
    }
    if (method === 'CANCEL') {
      const cancelTxn = new NonInviteServerTransaction(key, request, source, this.ctx, this.user);
      this.servers.set(key, cancelTxn);
      // §9.2: the CANCEL matches the INVITE transaction by the §17.2.3 rules, method aside.
      const invite = this.servers.get(serverKey(request, 'INVITE'));
      this.user.onCancel(request, source, cancelTxn, invite instanceof InviteServerTransaction && !invite.terminated ? invite : undefined);
      return;
    }
    const txn =
      method === 'INVITE'
        ? new InviteServerTransaction(key, request, source, this.ctx, this.user)
        : new NonInviteServerTransaction(key, request, source, this.ctx, this.user);
    if (!txn.terminated) this.servers.set(key, txn);
    this.user.onRequest(txn, request, source);
  }

  private receiveResponse(response: SipResponse, source: SourceInfo): void {
    const branch = response.topVia?.branch;
    const method = response.cseq?.method;
    const txn = branch !== undefined && method !== undefined ? this.clients.get(clientKey(branch, method)) : undefined;
    if (txn === undefined) this.user.onStrayResponse(response, source);
    else txn.receiveResponse(response, source);
  }

  // ---- sending -------------------------------------------------------------------------

  /**
   * Create and start a client transaction for `request` (INVITE → ICT, other → NICT; never ACK,
   * which goes out with sendStateless). The request is changed in place: a Via is prepended
   * (see SendRequestOptions). Failures arrive through `user`; `transaction.sent` tells when the
   * first transmission is on the wire.
   */
  sendRequest(request: SipRequest, target: Target, user: ClientTransactionUser, options: SendRequestOptions = {}): ClientTransaction {
    if (request.method === 'ACK') throw new Error('ACK is not sent in a client transaction: use sendStateless');
    const mode = options.via ?? (request.method === 'CANCEL' ? 'keep' : 'add');
    let branch: string;
    if (mode === 'add') {
      branch = generateBranch();
      request.prepend('Via', this.viaFor(target, branch));
    } else {
      const top = request.topVia?.branch;
      if (top === undefined) throw new Error('sendRequest with via "keep" needs a top Via with a branch');
      branch = top;
    }
    const key = clientKey(branch, request.method);
    const txn =
      request.method === 'INVITE'
        ? new InviteClientTransaction(key, branch, request, target, this.ctx, user, options.provisionalTimeoutMs)
        : new NonInviteClientTransaction(key, branch, request, target, this.ctx, user);
    if (!txn.terminated) this.clients.set(key, txn);
    return txn;
  }

  /**
   * The Via value for a request to `target` with `branch`, in the reference server's form:
   * UDP `SIP/2.0/UDP host:port;rport;branch=…`, TCP `SIP/2.0/TCP host:port;branch=…`.
   * For stateless requests (ACK for 2xx) built by the layer above.
   */
  viaFor(target: Target, branch: string): string {
    const point = this.listenPointFor(target);
    const host = point !== undefined ? bracketHost(point.advertisedAddress) : bracketHost(stripBrackets(target.address));
    const port = point?.port ?? 5060;
    return target.protocol === 'udp' ? `SIP/2.0/UDP ${host}:${port};rport;branch=${branch}` : `SIP/2.0/TCP ${host}:${port};branch=${branch}`;
  }

  /** The listening point a message to `target` leaves from. */
  listenPointFor(target: Target): ListenPoint | undefined {
    const family = stripBrackets(target.address).indexOf(':') >= 0 ? 6 : 4;
    let fallback: ListenPoint | undefined;
    for (const p of this.transport.listenPoints()) {
      if (p.protocol !== target.protocol) continue;
      if (p.family === family) return p;
      fallback ??= p;
    }
    return fallback;
  }

  /** Send without a transaction: ACK for 2xx, 2xx retransmissions, stateless responses. */
  sendStateless(message: SipMessage, target: Target): Promise<SendResult> {
    return this.transport.send(message, target);
  }

  /** Send a response to `request` statelessly, to the place §18.2.2 says. */
  respondStateless(request: SipRequest, source: SourceInfo, response: SipResponse): Promise<SendResult> {
    return this.transport.send(response, responseTarget(request.topVia, source));
  }

  /** A live server transaction by id. */
  findServerTransaction(id: string): ServerTransaction | undefined {
    return this.servers.get(id);
  }

  /** Live transaction counts (for metrics and tests). */
  get size(): { readonly server: number; readonly client: number } {
    return { server: this.servers.size, client: this.clients.size };
  }

  /** Stop every timer and forget all transactions (no callbacks). */
  shutdown(): void {
    for (const t of this.servers.values()) t.dispose();
    for (const t of this.clients.values()) t.dispose();
    this.servers.clear();
    this.clients.clear();
  }
}

/**
 * §17.2.3 server matching key. With an RFC 3261 branch: branch, sent-by and method (ACK and
 * CANCEL look up their INVITE by passing `INVITE`). Otherwise (RFC 2543 peers) the Call-ID,
 * CSeq number, From tag and top Via stand in for the branch.
 */
export function serverKey(request: SipRequest, method: string): string {
  const via = request.topVia;
  const sentBy = via === undefined ? '' : `${via.host.toLowerCase()}:${via.port ?? ''}`;
  const branch = via?.branch;
  if (branch !== undefined && branch.startsWith(BRANCH_MAGIC_COOKIE)) return `${branch}|${sentBy}|${method}`;
  return `2543|${request.callId ?? ''}|${request.cseq?.seq ?? ''}|${request.fromTag ?? ''}|${sentBy}|${branch ?? ''}|${method}`;
}

/** §17.1.3 client matching key: top-Via branch and CSeq method. */
export function clientKey(branch: string, method: string): string {
  return `${branch}|${method}`;
}
