/**
 * The transaction layer (RFC 3261 §17): matches incoming messages to transactions, creates
 * server transactions for new requests, creates client transactions for the TU, and sends
 * stateless messages. It is the transport's user.
 */
import type { SipMessage, SipParseError, SipRequest, SipResponse } from '../message/index.ts';
import type { SendResult, SourceInfo, Target, TransportPort, TransportUser } from '../transport/index.ts';
import { systemClock, type Clock } from './clock.ts';
import { timerSettings, type TimerSettings } from './timer-settings.ts';
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
}

export class TransactionLayer implements TransportUser {
  readonly timers: TimerSettings;
  readonly clock: Clock;
  private readonly transport: TransportPort;
  private readonly user: TransactionUser;

  constructor(transport: TransportPort, user: TransactionUser, options: TransactionLayerOptions = {}) {
    this.transport = transport;
    this.user = user;
    this.timers = timerSettings(options.timers);
    this.clock = options.clock ?? systemClock;
  }

  /** TransportUser: a parsed message from the network. */
  onMessage(_message: SipMessage, _source: SourceInfo): void {
    void this.user;
  }

  /** TransportUser: a message that failed to parse (answered 400 when possible). */
  onMalformed(_error: SipParseError, _source: SourceInfo): void {
    // implemented below
  }

  /** Create and start a client transaction for `request` (INVITE → ICT, other → NICT; not ACK). */
  sendRequest(_request: SipRequest, _target: Target, _user: ClientTransactionUser, _options: SendRequestOptions = {}): ClientTransaction {
    throw new Error('not implemented yet');
  }

  /** Send without a transaction: ACK for 2xx, 2xx retransmissions, stateless responses. */
  sendStateless(message: SipMessage, target: Target): Promise<SendResult> {
    return this.transport.send(message, target);
  }

  /** Send a response to `request` statelessly, to the place §18.2.2 says. */
  respondStateless(_request: SipRequest, _source: SourceInfo, _response: SipResponse): Promise<SendResult> {
    throw new Error('not implemented yet');
  }

  /** A live server transaction by id. */
  findServerTransaction(_id: string): ServerTransaction | undefined {
    return undefined;
  }

  /** Live transaction counts (for metrics and tests). */
  get size(): { readonly server: number; readonly client: number } {
    return { server: 0, client: 0 };
  }

  /** Stop every timer and forget all transactions (no callbacks). */
  shutdown(): void {
    // implemented below
  }
}
