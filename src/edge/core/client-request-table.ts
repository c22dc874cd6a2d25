/**
 * Requests the app asked the edge to send, by the txnId returned in R6 (spec Appendix B
 * "client transactions"). A record lives until the final response (or timeout); an INVITE's
 * record also carries what CANCEL needs (§5.4).
 */
import type { SipRequest } from '../message/index.ts';
import type { ClientTransaction } from '../transaction/index.ts';
import type { EdgeDialog } from './edge-context.ts';
import type { AppConnection } from '../wire/app-connection.ts';

export interface ClientRequestRecord {
  readonly txnId: string;
  readonly owner: AppConnection;
  readonly request: SipRequest;
  transaction: ClientTransaction | undefined;
  /** Reported in every response frame: INVITE/SUBSCRIBE and in-dialog requests (§5.6). */
  readonly dialogId: string;
  /** For in-dialog requests: the dialog. For a UAC INVITE: set once created (reliable 1xx or 2xx). */
  dialog: EdgeDialog | undefined;
  provisionalReceived: boolean;
  finalReceived: boolean;
  /** The app cancelled (§5.4); a crossing 2xx then leads to ACK + BYE (§4.8). */
  cancelled: boolean;
  /** CANCEL held until a provisional arrives (RFC 3261 §9.1). */
  heldCancel: (() => void) | undefined;
  /**
   * An INVITE given up for want of any response (provisional timeout, the app was told 408): a
   * late provisional is CANCELled, a late 2xx ACKed and BYEd, nothing reaches the app.
   */
  abandoned?: boolean;
}

export class ClientRequestTable {
  private readonly byTxnId = new Map<string, ClientRequestRecord>();

  get size(): number {
    return this.byTxnId.size;
  }

  add(record: ClientRequestRecord): void {
    this.byTxnId.set(record.txnId, record);
  }

  get(txnId: string): ClientRequestRecord | undefined {
    return this.byTxnId.get(txnId);
  }

  remove(record: ClientRequestRecord): void {
    if (this.byTxnId.get(record.txnId) === record) this.byTxnId.delete(record.txnId);
  }

  values(): IterableIterator<ClientRequestRecord> {
    return this.byTxnId.values();
  }
}
