/**
 * §5.6: responses to requests the app originated, delivered as format-B frames with the txnId
 * of R6 and, for INVITE and in-dialog requests, the dialogId. 100 Trying and retransmissions are
 * never delivered; a timeout (Timer B/C/F) or a transport failure is delivered as a generated
 * 408 / 503 with bytes 0, an empty address and port 0 (E.14). Also keeps the UAC dialog: created
 * on a reliable 1xx or a 2xx, removed on a failure or after a BYE's final response (not 401/407).
 */
import { createResponse, generateTag, type SipResponse } from '../message/index.ts';
import type { SourceInfo } from '../transport/index.ts';
import type { ClientTransaction, ClientTransactionUser, TimeoutTimer } from '../transaction/index.ts';
import { DialogState } from '../dialog/dialog.ts';
import { sipPayload } from '../wire/server-frames.ts';
import type { ClientRequestRecord } from './client-request-table.ts';
import type { EdgeContext } from './edge-context.ts';
import { uacDialogOf } from './uac-dialog.ts';
import { messageText } from './message-text.ts';
import { AbandonedInvites } from './abandoned-invite.ts';

export class ClientResponseHandler {
  private readonly abandoned: AbandonedInvites;

  constructor(private readonly ctx: EdgeContext) {
    this.abandoned = new AbandonedInvites(ctx);
  }

  userFor(record: ClientRequestRecord): ClientTransactionUser {
    return {
      onResponse: (response, transaction, source) => this.onResponse(record, response, transaction, source),
      onTimeout: (transaction, timer) => this.onGenerated(record, transaction, 408, timer),
      onTransportError: (transaction) => this.onGenerated(record, transaction, 503),
      onTerminated: () => this.ctx.clientRequests.remove(record),
    };
  }

  private onResponse(record: ClientRequestRecord, response: SipResponse, transaction: ClientTransaction, source: SourceInfo): void {
    if (record.abandoned === true) return this.abandoned.onLateResponse(record, response, transaction, source);
    const status = response.status;
    const method = record.request.method;
    if (status < 200 && record.heldCancel !== undefined) {
      const send = record.heldCancel;
      record.heldCancel = undefined;
      send();
    }
    // a CANCEL may go once any provisional arrived, 100 Trying included (RFC 3261 §9.1): one
    // the app sends later must not be held for a 180 that may never come
    if (status < 200 && !record.finalReceived) record.provisionalReceived = true;
    if (status === 100) return; // §5.6: never passed up
    const isInvite = method === 'INVITE';
    if (record.finalReceived) {
      // A 2xx retransmission (RFC 6026 Accepted): re-send our ACK if the app already sent it.
      if (isInvite && status >= 200 && status < 300) record.dialog?.resendAck?.();
      return;
    }
    if (status < 200) record.provisionalReceived = true;
    else {
      record.finalReceived = true;
      record.heldCancel = undefined;
      this.ctx.clientRequests.remove(record);
    }
    if (isInvite) this.trackInviteDialog(record, response, transaction, source);
    const dialog = record.dialog;
    if (dialog !== undefined && !isInvite && status >= 200) {
      // §5.3: the dialog ends when a BYE's final response arrives, except after 401/407.
      if (method === 'BYE' && status !== 401 && status !== 407) this.ctx.dialogs.remove(dialog);
      if (method === 'UPDATE' && status < 300) dialog.refreshTarget(response);
    }
    if (!record.owner.isOpen) return;
    record.owner.send(
      sipPayload(
        'network',
        { bytes: response.wireLength, proto: source.protocol, address: source.remoteAddress, port: source.remotePort },
        record.txnId,
        record.dialogId,
        messageText(response),
      ),
    );
  }

  private trackInviteDialog(record: ClientRequestRecord, response: SipResponse, transaction: ClientTransaction, source: SourceInfo): void {
    const status = response.status;
    let dialog = record.dialog;
    const reliable = status < 200 && response.has('rseq');
    if (status >= 300) {
      // Failure: the early dialog (if any) goes away; the ICT ACKs the response hop by hop.
      if (dialog !== undefined && dialog.inviteTxnId === record.txnId) this.ctx.dialogs.remove(dialog);
      else if (dialog !== undefined) dialog.pendingAckSeq = undefined; // a failed re-INVITE leaves the dialog
      return;
    }
    const ok = status >= 200;
    if (dialog === undefined && (ok || reliable) && response.toTag !== undefined) {
      const req = transaction.request;
      dialog = uacDialogOf(req, response, source, record.owner, record.txnId);
      this.ctx.dialogs.get(dialog.id)?.transition(DialogState.Terminated);
      this.ctx.dialogs.add(dialog);
      record.dialog = dialog;
    }
    if (dialog === undefined) return;
    if (ok) {
      if (dialog.state === DialogState.Early) dialog.transition(DialogState.Confirmed);
      if (dialog.remoteTag === undefined) dialog.remoteTag = response.toTag;
      dialog.refreshTarget(response);
      dialog.pendingAckSeq = transaction.request.cseq?.seq;
      if (record.cancelled) dialog.cancelRace = true;
    }
  }

  /** Timer B/C/F/P → 408, transport failure → 503, both delivered like real responses (§5.6). */
  private onGenerated(record: ClientRequestRecord, transaction: ClientTransaction, status: 408 | 503, timer?: TimeoutTimer): void {
    if (record.finalReceived) return;
    record.finalReceived = true;
    if (timer === 'P') record.abandoned = true;
    record.heldCancel = undefined;
    this.ctx.clientRequests.remove(record);
    const dialog = record.dialog;
    if (dialog !== undefined) {
      if (record.request.method === 'BYE' || dialog.inviteTxnId === record.txnId) this.ctx.dialogs.remove(dialog);
    }
    if (!record.owner.isOpen) return;
    const response = createResponse(transaction.request, status, { toTag: generateTag() });
    record.owner.send(
      sipPayload('network', { bytes: 0, proto: transaction.target.protocol, address: '', port: 0 }, record.txnId, record.dialogId, messageText(response)),
    );
  }
}
