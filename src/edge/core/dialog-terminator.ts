/**
 * BYEs the edge generates itself (spec §4.8): after Timer H without ACK ("ACK timeout"), after a
 * CANCEL that crossed our 200 ("CANCEL after 200 OK"), and after the app ACKs a 2xx that
 * crossed its CANCEL ("ACK-BYE due to cancel race condition"). The owning app is told with a
 * format-B frame whose source is `application` and txnId the literal `unsolicited`; the addr
 * and port are our own (E.16). The peer's response to this BYE is not delivered.
 */
import type { SipResponse } from '../message/index.ts';
import type { ClientTransaction, ClientTransactionUser } from '../transaction/index.ts';
import { createInDialogRequest, nextHopUri } from '../dialog/in-dialog-request.ts';
import { sipPayload } from '../wire/server-frames.ts';
import type { EdgeContext, EdgeDialog } from './edge-context.ts';
import { messageText } from './message-text.ts';

const IGNORE_RESPONSES: ClientTransactionUser = {
  onResponse: (_r: SipResponse, _t: ClientTransaction) => undefined,
  onTimeout: () => undefined,
  onTransportError: () => undefined,
};

export class DialogTerminator {
  constructor(private readonly ctx: EdgeContext) {}

  byeAndNotify(dialog: EdgeDialog, reasonText: string, notifyApp = true): void {
    if (dialog.isTerminated) return;
    const bye = createInDialogRequest(dialog, 'BYE', dialog.nextLocalSeq());
    bye.append('Reason', `SIP;cause=200;text="${reasonText}"`);
    const owner = dialog.owner;
    const fill = notifyApp && owner.isOpen ? owner.reserve() : undefined;
    dialog.awaitingAck?.stop();
    this.ctx.dialogs.remove(dialog);
    void this.send(dialog, bye)
      .then((sent) => {
        if (fill === undefined) return;
        if (sent === undefined)
          return fill(
            sipPayload('application', { bytes: 0, proto: dialog.transport.protocol, address: '', port: 0 }, 'unsolicited', dialog.id, messageText(bye)),
          );
        fill(sipPayload('application', sent.meta, 'unsolicited', dialog.id, sent.text));
      })
      .catch((err: unknown) => this.ctx.log.error('unsolicited BYE failed', { err: String(err) }));
  }

  private async send(
    dialog: EdgeDialog,
    bye: ReturnType<typeof createInDialogRequest>,
  ): Promise<{ meta: { bytes: number; proto: string; address: string; port: number }; text: string } | undefined> {
    const resolved = await this.ctx.resolver.resolve(nextHopUri(dialog), dialog.transport);
    if (!resolved.ok) return undefined;
    const txn = this.ctx.layer.sendRequest(bye, resolved.target, IGNORE_RESPONSES);
    const result = await txn.sent;
    if (!result.ok) return undefined;
    const text = messageText(txn.request);
    return { meta: { bytes: result.bytes, proto: resolved.target.protocol, address: result.local.advertisedAddress, port: result.local.port }, text };
  }
}
