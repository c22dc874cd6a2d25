/**
 * Late responses to an INVITE the edge gave up on because nothing at all, not even 100 Trying,
 * came back within the provisional timeout (EDGE_INVITE_PROVISIONAL_TIMEOUT_MS, a proxy's
 * `fr_timer`). The app was told 408 and has moved on (e.g. to the next gateway), so the target
 * must not be left with a call: a late provisional gets a CANCEL (now owed, RFC 3261 §9.1), a
 * late 2xx an ACK and a BYE. A late failure is ACKed by the transaction itself.
 */
import { createCancel, generateBranch, type SipResponse } from '../message/index.ts';
import type { SourceInfo } from '../transport/index.ts';
import type { ClientTransaction, ClientTransactionUser } from '../transaction/index.ts';

import { createInDialogRequest, nextHopUri } from '../dialog/in-dialog-request.ts';
import type { ClientRequestRecord } from './client-request-table.ts';
import type { EdgeContext } from './edge-context.ts';
import { uacDialogOf } from './uac-dialog.ts';

const IGNORE: ClientTransactionUser = {
  onResponse: () => undefined,
  onTimeout: () => undefined,
  onTransportError: () => undefined,
};

export class AbandonedInvites {
  private readonly handled = new WeakSet<ClientRequestRecord>();

  constructor(private readonly ctx: EdgeContext) {}

  onLateResponse(record: ClientRequestRecord, response: SipResponse, transaction: ClientTransaction, source: SourceInfo): void {
    const status = response.status;
    if (status >= 300 || this.handled.has(record)) return;
    this.handled.add(record);
    if (status < 200) {
      this.ctx.layer.sendRequest(createCancel(transaction.request), transaction.target, IGNORE, { via: 'keep' });
      return;
    }
    void this.ackAndBye(record, response, transaction, source).catch((err: unknown) =>
      this.ctx.log.error('ending a late answer to an abandoned INVITE failed', { err: String(err) }),
    );
  }

  private async ackAndBye(record: ClientRequestRecord, response: SipResponse, transaction: ClientTransaction, source: SourceInfo): Promise<void> {
    const req = transaction.request;
    const dialog = uacDialogOf(req, response, source, record.owner, '');
    const resolved = await this.ctx.resolver.resolve(nextHopUri(dialog), dialog.transport);
    if (!resolved.ok) return;
    const ack = createInDialogRequest(dialog, 'ACK', req.cseq?.seq ?? 0);
    ack.prepend('Via', this.ctx.layer.viaFor(resolved.target, generateBranch()));
    await this.ctx.layer.sendStateless(ack, resolved.target);
    const bye = createInDialogRequest(dialog, 'BYE', (req.cseq?.seq ?? 0) + 1);
    bye.append('Reason', 'SIP;cause=102;text="provisional timeout"');
    this.ctx.layer.sendRequest(bye, resolved.target, IGNORE);
  }
}
