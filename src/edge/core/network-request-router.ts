/**
 * Requests from the network (spec §4): the transaction layer's user. Decides, for every new
 * server transaction, whether it is in-dialog (§4.7), a new request to deliver (§4.2, §4.3),
 * or something to refuse; handles CANCEL (§4.5, all three cases) and ACK (§4.6).
 */
import { randomUUID } from 'node:crypto';
import { createResponse, generateTag, type SipRequest, type SipResponse } from '../message/index.ts';
import type { SourceInfo, TransportError } from '../transport/index.ts';
import type { ScreenVerdict, ServerTransaction, TimeoutTimer, TransactionUser } from '../transaction/index.ts';
import type { ProxyController } from '../proxy/proxy-controller.ts';
import { newRequestPayload, sipPayload } from '../wire/server-frames.ts';
import type { EdgeContext, EdgeDialog } from './edge-context.ts';
import type { DialogTerminator } from './dialog-terminator.ts';
import { messageText } from './message-text.ts';
import { SPAMMER_REASON, SPAMMER_STATUS, spammerMatch } from './spammer-screen.ts';
import type { ServerRequestRecord } from './server-request-table.ts';

/** §4.2 step 7: methods delivered as new requests. */
const DELIVERABLE = new Set(['INVITE', 'REGISTER', 'MESSAGE', 'OPTIONS', 'INFO', 'NOTIFY', 'SUBSCRIBE', 'PUBLISH']);

export class NetworkRequestRouter implements TransactionUser {
  constructor(
    private readonly ctx: EdgeContext,
    private readonly terminator: DialogTerminator,
    private readonly proxies: ProxyController,
  ) {}

  /**
   * Before a server transaction exists, in the reference's order: §4.2 step 3, a request outside
   * any dialog from a listed scanner is declined (before the 100 Trying); step 4, a request in a
   * dialog the edge record-routed as a proxy is forwarded statelessly.
   */
  screen(request: SipRequest, source: SourceInfo): ScreenVerdict | undefined {
    const ownDialog = request.toTag !== undefined && this.ctx.dialogs.findForRequest(request) !== undefined;
    if (ownDialog) return undefined;
    const match = this.ctx.config.spammers.length === 0 ? undefined : spammerMatch(request, this.ctx.config.spammers);
    if (match !== undefined) {
      this.ctx.log.info('detected potential spammer', { source: `${source.remoteAddress}:${source.remotePort}`, value: match, method: request.method });
      return { status: SPAMMER_STATUS, reason: SPAMMER_REASON };
    }
    return this.proxies.takeRouted(request) ? 'taken' : undefined;
  }

  onRequest(transaction: ServerTransaction, request: SipRequest, source: SourceInfo): void {
    try {
      this.route(transaction, request, source);
    } catch (err) {
      this.ctx.log.error('request handling failed', { err: String(err), method: request.method });
      if (!transaction.finalSent && !transaction.terminated) this.reply(transaction, 500);
    }
  }

  private route(transaction: ServerTransaction, request: SipRequest, source: SourceInfo): void {
    if (request.toTag !== undefined) {
      const dialog = this.ctx.dialogs.findForRequest(request);
      if (dialog !== undefined) return this.inDialog(dialog, transaction, request, source);
      // §4.2 / §4.3 step 4: a request with a To-tag that matches no dialog. Deliverable
      // non-INVITE methods are re-dispatched as new requests, as the reference does for a
      // dialog nobody owns yet (§4.7); everything else gets 481.
      if (request.method === 'INVITE' || !DELIVERABLE.has(request.method)) return this.reply(transaction, 481);
    }
    if (request.method === 'REGISTER') {
      const problem = registerProblem(request);
      if (problem !== undefined) return this.reply(transaction, 400, problem);
    }
    if (!DELIVERABLE.has(request.method)) {
      // §4.2: BYE and UPDATE with no dialog get 481. The reference silently discards the rest
      // (out-of-dialog PRACK, REFER, unknown methods); we answer so the transaction ends.
      if (request.method === 'BYE' || request.method === 'UPDATE' || request.method === 'PRACK') return this.reply(transaction, 481);
      return this.reply(transaction, 405);
    }
    // §3.3: round-robin among connections that registered the lower-cased method; none → 503.
    // An INVITE stays with the connection its Call-ID went to (the challenged INVITE and its retry).
    const owner =
      request.method === 'INVITE'
        ? this.ctx.routes.choose('invite', request.callId, this.ctx.clock.now())
        : this.ctx.routes.choose(request.method.toLowerCase());
    if (owner === undefined) return this.reply(transaction, 503);
    const txnId = randomUUID();
    const record: ServerRequestRecord = {
      txnId,
      transaction,
      request,
      source,
      owner,
      origin: 'new',
      dialog: undefined,
      localTag: undefined,
      answered: false,
      reliable: new Map(),
      nextRSeq: 1,
      deadline: undefined,
    };
    // §4.3 step 6/7: pending until the app's first response, a CANCEL, or 64 s (then dropped silently).
    this.ctx.serverRequests.add(record, this.ctx.config.timers.pendingRequestMs, (r) => this.onPendingExpired(r));
    owner.send(newRequestPayload(meta(request, source), txnId, { address: source.localAddress, port: source.localPort }, messageText(request)));
  }

  /** §4.7: a request that matches an established or early dialog. */
  private inDialog(dialog: EdgeDialog, transaction: ServerTransaction, request: SipRequest, source: SourceInfo): void {
    const owner = dialog.owner;
    if (!owner.isOpen) {
      // §9.3 / E.24: nobody owns the dialog any more → 481, nothing delivered; BYE removes it.
      if (request.method === 'BYE') this.ctx.dialogs.remove(dialog);
      return this.reply(transaction, 481);
    }
    const seq = request.cseq?.seq ?? 0;
    if (!dialog.acceptRemoteSeq(seq, request.method)) return this.reply(transaction, 500, 'CSeq out of order');
    const txnId = randomUUID();
    let reportedDialog: EdgeDialog | undefined = dialog;
    if (request.method === 'BYE') {
      // §4.7: the dialog is removed the moment the BYE is delivered (so R7 has an empty dialogId).
      dialog.awaitingAck?.stop();
      this.ctx.dialogs.remove(dialog);
      reportedDialog = undefined;
    } else if (request.method === 'PRACK') {
      this.onPrack(dialog, request);
    } else if (request.method === 'INVITE' || request.method === 'UPDATE') {
      dialog.refreshTarget(request);
    }
    const record: ServerRequestRecord = {
      txnId,
      transaction,
      request,
      source,
      owner,
      origin: 'in-dialog',
      dialog: reportedDialog,
      localTag: dialog.localTag,
      answered: false,
      reliable: new Map(),
      nextRSeq: 1,
      deadline: undefined,
    };
    // §9.2: an in-dialog request the app never answers is destroyed after 32 s (64·T1) with 500.
    this.ctx.serverRequests.add(record, 64 * this.ctx.config.timers.t1Ms, (r) => {
      if (!r.transaction.finalSent && !r.transaction.terminated) this.reply(r.transaction, 500);
    });
    owner.send(sipPayload('network', meta(request, source), txnId, dialog.id, messageText(request)));
  }

  /** RFC 3262 §3: a PRACK whose RAck matches a reliable provisional stops its retransmission. */
  private onPrack(dialog: EdgeDialog, prack: SipRequest): void {
    const invite = this.ctx.serverRequests.get(dialog.inviteTxnId);
    const rack = /^\s*(\d+)/.exec(prack.get('rack') ?? '');
    if (invite === undefined || rack === null) return;
    const rseq = Number(rack[1]);
    invite.reliable.get(rseq)?.stop();
    invite.reliable.delete(rseq);
  }

  /** §4.6: the ACK for our 2xx is delivered (format B, empty proto); ACKs for non-2xx never get here. */
  onAck(request: SipRequest, source: SourceInfo, _transaction: ServerTransaction | undefined): void {
    const dialog = this.ctx.dialogs.findForRequest(request);
    if (dialog === undefined) {
      // §4.2: the ACK of a 2xx in a dialog we record-routed is forwarded; any other is discarded.
      this.proxies.takeRouted(request);
      return;
    }
    const waiting = dialog.awaitingAck;
    const seq = request.cseq?.seq;
    if (waiting === undefined || seq !== waiting.seq) return; // a retransmitted ACK
    waiting.stop();
    dialog.awaitingAck = undefined;
    if (!dialog.owner.isOpen) return;
    // §4.6: txnId is the INVITE's for the initial INVITE, a fresh one for a re-INVITE's ACK.
    dialog.owner.send(sipPayload('network', { ...meta(request, source), proto: '' }, waiting.txnId, dialog.id, messageText(request)));
  }

  /** §4.5: CANCEL, three cases. */
  onCancel(cancel: SipRequest, source: SourceInfo, cancelTransaction: ServerTransaction, invite: ServerTransaction | undefined): void {
    if (invite !== undefined && this.proxies.cancel(cancel, cancelTransaction, invite)) return; // §4.2 step 5
    const record = invite === undefined ? undefined : this.ctx.serverRequests.byServerTransaction(invite);
    if (invite === undefined || record === undefined) {
      // (c) after our 200 but before the ACK: 481 to the CANCEL, BYE the caller, tell the app.
      const dialog = this.findAwaitingAck(cancel);
      this.reply(cancelTransaction, 481);
      if (dialog !== undefined) this.terminator.byeAndNotify(dialog, 'CANCEL after 200 OK');
      return;
    }
    if (invite.finalSent) {
      this.reply(cancelTransaction, 481);
      const dialog = record.dialog;
      if (dialog !== undefined && dialog.awaitingAck !== undefined) this.terminator.byeAndNotify(dialog, 'CANCEL after 200 OK');
      return;
    }
    this.ctx.serverRequests.remove(record);
    this.reply(cancelTransaction, 200);
    // 487 to the INVITE; after a provisional it carries the same To-tag (E.7).
    this.reply(invite, 487, undefined, record.localTag);
    const owner = record.owner;
    const dialog = record.dialog;
    if (dialog !== undefined) this.ctx.dialogs.remove(dialog);
    if (!owner.isOpen) return;
    if (!record.answered) {
      // (a) still pending: INVITE's txnId, empty dialogId, bytes of the CANCEL (E.8).
      owner.send(sipPayload('network', meta(cancel, source), record.txnId, '', messageText(cancel)));
    } else {
      // (b) in progress: INVITE's txnId and the dialogId; bytes of the INVITE (E.7).
      owner.send(sipPayload('network', { ...meta(cancel, source), bytes: record.request.wireLength }, record.txnId, dialog?.id ?? '', messageText(cancel)));
    }
  }

  private findAwaitingAck(cancel: SipRequest): EdgeDialog | undefined {
    const callId = cancel.callId;
    const fromTag = cancel.fromTag;
    if (callId === undefined || fromTag === undefined) return undefined;
    const dialog = this.ctx.dialogs.get(`${callId};from-tag=${fromTag}`);
    return dialog !== undefined && dialog.role === 'uas' && dialog.awaitingAck !== undefined ? dialog : undefined;
  }

  onStrayResponse(response: SipResponse, source: SourceInfo): void {
    // A response to a request we forwarded statelessly (record-routed dialog): on to the next Via.
    if (this.proxies.relayResponse(response, source)) return;
    // A 2xx retransmission after the INVITE client transaction ended: re-send our ACK (§5.3).
    if (response.status < 200 || response.status >= 300 || response.cseq?.method !== 'INVITE') return;
    this.ctx.dialogs.findForResponse(response)?.resendAck?.();
  }

  onServerTimeout(transaction: ServerTransaction, _timer: TimeoutTimer): void {
    const record = this.ctx.serverRequests.byServerTransaction(transaction);
    if (record !== undefined) this.ctx.serverRequests.remove(record);
  }

  onServerTransportError(transaction: ServerTransaction, error: TransportError): void {
    this.ctx.log.debug('response could not be sent', { err: error.message, method: transaction.request.method });
  }

  onServerTerminated(transaction: ServerTransaction): void {
    const record = this.ctx.serverRequests.byServerTransaction(transaction);
    if (record === undefined) return;
    // An INVITE whose 2xx was sent leaves the table here; its dialog lives on.
    if (record.reliable.size === 0 || transaction.finalSent) this.ctx.serverRequests.remove(record);
  }

  /** §4.3 step 7: nobody answered within 64 s; forget the request silently (E.21). */
  private onPendingExpired(record: ServerRequestRecord): void {
    this.ctx.log.debug('pending request expired', { txnId: record.txnId, method: record.request.method });
  }

  private reply(transaction: ServerTransaction, status: number, reason?: string, toTag?: string): void {
    if (transaction.finalSent || transaction.terminated) return;
    const response = createResponse(transaction.request, status, {
      ...(reason === undefined ? {} : { reason }),
      toTag: toTag ?? generateTag(),
    });
    void transaction.respond(response);
  }
}

/** Leader meta of a message received from the network (§4.1 tokens 3–6). */
function meta(message: SipRequest, source: SourceInfo): { bytes: number; proto: string; address: string; port: number } {
  return { bytes: message.wireLength, proto: source.protocol, address: source.remoteAddress, port: source.remotePort };
}

/** §4.2 step 6: REGISTER sanity checks. */
function registerProblem(request: SipRequest): string | undefined {
  const contacts = request.getAll('contact');
  for (const c of contacts) {
    const v = c.trim();
    if (v === '*') {
      const expires = request.get('expires');
      if (expires === undefined || expires.trim() !== '0') return 'Contact * requires Expires: 0';
      continue;
    }
    const uri = v.includes('<') ? v.slice(v.indexOf('<') + 1) : v;
    if (!/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(uri)) return 'Invalid Contact';
  }
  return undefined;
}
