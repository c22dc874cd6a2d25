/**
 * Incoming requests the app has been told about and may still answer, by txnId (spec
 * Appendix B: "pending new requests", "server transactions", "INVITEs in progress").
 *
 * A record lives from delivery until the app's final response, a CANCEL (§4.5), the end of its
 * server transaction, or its deadline (§4.3 step 7: 64 s with no app response; the pending
 * state is then dropped silently and later app responses get NOK).
 */
import type { SipRequest } from '../message/index.ts';
import type { SourceInfo } from '../transport/index.ts';
import type { Clock, ServerTransaction, TimerHandle } from '../transaction/index.ts';
import type { EdgeDialog } from './edge-context.ts';
import type { ResponseRetransmitter } from '../dialog/response-retransmitter.ts';
import type { AppConnection } from '../wire/app-connection.ts';

export interface ServerRequestRecord {
  readonly txnId: string;
  readonly transaction: ServerTransaction;
  readonly request: SipRequest;
  readonly source: SourceInfo;
  readonly owner: AppConnection;
  /** `new`: delivered in format A (§4.3); `in-dialog`: delivered in format B (§4.7). */
  readonly origin: 'new' | 'in-dialog';
  /** The dialog the request belongs to or creates (INVITE: the early dialog after a 1xx). */
  dialog: EdgeDialog | undefined;
  /** To-tag fixed by the first response of an INVITE transaction (§5.1 step 3). */
  localTag: string | undefined;
  /** The app sent at least one response (then a CANCEL is case b, §4.5). */
  answered: boolean;
  /** Reliable provisional responses awaiting PRACK, by RSeq (RFC 3262). */
  readonly reliable: Map<number, ResponseRetransmitter>;
  nextRSeq: number;
  deadline: TimerHandle | undefined;
}

export class ServerRequestTable {
  private readonly byTxnId = new Map<string, ServerRequestRecord>();
  private readonly byTransaction = new Map<string, ServerRequestRecord>();

  constructor(private readonly clock: Clock) {}

  get size(): number {
    return this.byTxnId.size;
  }

  add(record: ServerRequestRecord, deadlineMs: number, onDeadline: (r: ServerRequestRecord) => void): void {
    this.byTxnId.set(record.txnId, record);
    this.byTransaction.set(record.transaction.id, record);
    record.deadline = this.clock.setTimeout(() => {
      record.deadline = undefined;
      if (this.byTxnId.get(record.txnId) !== record) return;
      this.remove(record);
      onDeadline(record);
    }, deadlineMs);
  }

  get(txnId: string): ServerRequestRecord | undefined {
    return this.byTxnId.get(txnId);
  }

  byServerTransaction(transaction: ServerTransaction): ServerRequestRecord | undefined {
    return this.byTransaction.get(transaction.id);
  }

  remove(record: ServerRequestRecord): void {
    if (this.byTxnId.get(record.txnId) === record) this.byTxnId.delete(record.txnId);
    if (this.byTransaction.get(record.transaction.id) === record) this.byTransaction.delete(record.transaction.id);
    if (record.deadline !== undefined) this.clock.clearTimeout(record.deadline);
    record.deadline = undefined;
    for (const r of record.reliable.values()) r.stop();
    record.reliable.clear();
  }

  values(): IterableIterator<ServerRequestRecord> {
    return this.byTxnId.values();
  }
}
