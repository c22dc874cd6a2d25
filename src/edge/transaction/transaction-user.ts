/**
 * How the transaction layer talks to the layer above (the "transaction user", RFC 3261 §17):
 * the views of a transaction the TU gets, and the two small callback interfaces the layer
 * reports through.
 *
 * Server side: every request that is not a retransmission and not an ACK creates a server
 * transaction and is reported with onRequest (CANCEL with onCancel), unless the TU's screen()
 * answers it statelessly first or takes it (a scanner declined, a request a proxy forwards). INVITE server
 * transactions send `100 Trying` themselves before onRequest, as drachtio-server does.
 * Retransmitted requests never reach the TU: the transaction re-sends its last response.
 * The TU answers through `transaction.respond()`.
 *
 * Client side: `TransactionLayer.sendRequest()` creates a client transaction; its responses,
 * timeout (Timer B/C/F: the TU makes the 408) and transport errors go to the
 * ClientTransactionUser given at creation. The ACK for a non-2xx final response is sent by the
 * INVITE client transaction itself; the ACK for a 2xx and 2xx retransmissions are dialog
 * business and go out with `TransactionLayer.sendStateless()`.
 */
import type { SipParseError, SipRequest, SipResponse } from '../message/index.ts';
import type { SendResult, SourceInfo, Target, TransportError } from '../transport/index.ts';

/** What the TU sees of a server transaction. */
export interface ServerTransaction {
  /** Matching key (§17.2.3); unique among live server transactions. */
  readonly id: string;
  /** `ist` (INVITE server) or `nist` (non-INVITE server). */
  readonly kind: 'ist' | 'nist';
  readonly request: SipRequest;
  readonly source: SourceInfo;
  /** Current state name (`Proceeding`, `Completed`, `Accepted`, `Confirmed`, `Trying`, `Terminated`). */
  readonly state: string;
  /** The last response sent, if any. */
  readonly lastResponse: SipResponse | undefined;
  /** True once a final response has been sent. */
  readonly finalSent: boolean;
  readonly terminated: boolean;
  /**
   * Send a response (§17.2.1, §17.2.2). Provisional responses may be sent repeatedly; after a
   * final response only 2xx retransmissions on an INVITE (RFC 6026 Accepted state) are allowed.
   * Throws TransactionStateError on an illegal step (e.g. after termination): check `finalSent`
   * / `terminated` first. The promise never rejects.
   */
  respond(response: SipResponse): Promise<SendResult>;
}

/** What the TU sees of a client transaction. */
export interface ClientTransaction {
  /** Matching key (§17.1.3): branch and CSeq method. */
  readonly id: string;
  /** `ict` (INVITE client) or `nict` (non-INVITE client). */
  readonly kind: 'ict' | 'nict';
  /** The request as sent (with the Via the layer added). */
  readonly request: SipRequest;
  readonly target: Target;
  readonly branch: string;
  readonly state: string;
  readonly terminated: boolean;
  /** Outcome of the first transmission (resolves once the request is on the wire or failed). */
  readonly sent: Promise<SendResult>;
}

/** Which RFC timer ended a transaction without a response. */
/** `P`: no response at all to an INVITE within its provisional timeout (see InviteClientTransaction). */
export type TimeoutTimer = 'B' | 'C' | 'F' | 'H' | 'P' | 'NoFinal';

/** Reports about one client transaction (given to TransactionLayer.sendRequest). */
export interface ClientTransactionUser {
  /**
   * A response matched the transaction (§17.1.3): every provisional (100 included), the final
   * response, and for INVITE 2xx retransmissions / other forks' 2xx while in Accepted state
   * (RFC 6026), so the dialog layer can re-ACK. Retransmitted non-2xx finals are absorbed.
   */
  onResponse(response: SipResponse, transaction: ClientTransaction, source: SourceInfo): void;
  /** Timer B or F fired (no final response, §17.1.1.2, §17.1.2.2), or Timer C: the TU answers 408. */
  onTimeout(transaction: ClientTransaction, timer: TimeoutTimer): void;
  /** The transport could not send (§17.1.4): the TU treats it as a 503. */
  onTransportError(transaction: ClientTransaction, error: TransportError): void;
  /** The transaction reached Terminated and was forgotten. */
  onTerminated?(transaction: ClientTransaction): void;
}

/** What {@link TransactionUser.screen} decides for a new request. */
export type ScreenVerdict = { readonly status: number; readonly reason: string } | 'taken';

/** Reports about server transactions and requests that match none (given to TransactionLayer). */
export interface TransactionUser {
  /**
   * Asked before a new request (not ACK, not a retransmission; CANCEL included) creates a server
   * transaction. A status and reason answer it statelessly at once (no 100 Trying, no
   * transaction, never reported), as drachtio-server declines spammers; `taken` means the TU
   * handles it statelessly itself (a request it forwards as a proxy). Undefined: go on.
   */
  screen?(request: SipRequest, source: SourceInfo): ScreenVerdict | undefined;
  /** A new request (not ACK, not CANCEL) created `transaction`. For INVITE, 100 Trying is already sent. */
  onRequest(transaction: ServerTransaction, request: SipRequest, source: SourceInfo): void;
  /**
   * An ACK that the transaction layer did not absorb: the ACK for a 2xx (a new branch, §13.2.2.4)
   * or a stray ACK. `transaction` is the INVITE server transaction it matched, if any
   * (RFC 6026 Accepted state).
   */
  onAck(request: SipRequest, source: SourceInfo, transaction: ServerTransaction | undefined): void;
  /**
   * A new CANCEL (§9.2). `cancelTransaction` is its own non-INVITE server transaction, to be
   * answered by the TU (200, or 481 when `invite` is undefined); `invite` is the INVITE server
   * transaction it matches, still live, if any. The TU answers the INVITE with 487 itself.
   */
  onCancel(cancel: SipRequest, source: SourceInfo, cancelTransaction: ServerTransaction, invite: ServerTransaction | undefined): void;
  /** A response that matched no client transaction (e.g. a 2xx retransmission after the transaction ended). */
  onStrayResponse(response: SipResponse, source: SourceInfo): void;
  /** Timer H (no ACK for a non-2xx final, §17.2.1) or the no-final safety deadline fired. */
  onServerTimeout(transaction: ServerTransaction, timer: TimeoutTimer): void;
  /** A response could not be sent (§17.2.4). */
  onServerTransportError(transaction: ServerTransaction, error: TransportError): void;
  /** The server transaction reached Terminated and was forgotten. */
  onServerTerminated(transaction: ServerTransaction): void;
  /**
   * A message that failed to parse (already answered 400/505 statelessly when it was a request
   * that carried enough to form a response, and `answered` says so). For logging and metrics.
   */
  onMalformed?(error: SipParseError, source: SourceInfo, answered: boolean): void;
}
