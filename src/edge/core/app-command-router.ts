/**
 * `sip` and `proxy` commands from apps (spec §5 dispatch table), checked in the reference's order:
 *
 *   start line `SIP/…`           → a response to the request named by txnId (§5.1); empty txnId → NO + close
 *   dialogId non-empty            → a request inside that dialog (§5.3), ACK and PRACK included
 *   txnId non-empty, CANCEL       → CANCEL of the app's own INVITE (§5.4)
 *   txnId non-empty, other method → NOK (the reference stays silent; srf would wait for ever)
 *   otherwise                     → a new out-of-dialog request (§5.2)
 */
import { parseMessage, SipRequest, SipResponse } from '../message/index.ts';
import type { AdminCommandHandler } from '../wire/admin-server.ts';
import type { ProxyCommand, SipCommand } from '../wire/app-command.ts';
import type { ProxyController } from '../proxy/proxy-controller.ts';
import type { AppConnection } from '../wire/app-connection.ts';
import { failurePayload } from '../wire/server-frames.ts';
import type { EdgeContext } from './edge-context.ts';
import type { ResponseSender } from './response-sender.ts';
import type { UacRequestSender } from './uac-request-sender.ts';

export class AppCommandRouter implements AdminCommandHandler {
  constructor(
    private readonly ctx: EdgeContext,
    private readonly responses: ResponseSender,
    private readonly requests: UacRequestSender,
    private readonly proxies: ProxyController,
  ) {}

  onSip(conn: AppConnection, command: SipCommand): void {
    this.dispatch(conn, command).catch((err: unknown) => {
      this.ctx.log.error('sip command failed', { err: String(err) });
      conn.send(failurePayload(command.msgId, 'NOK', `Server error: ${String(err)}`));
    });
  }

  private async dispatch(conn: AppConnection, command: SipCommand): Promise<void> {
    const { msgId, txnId, dialogId } = command;
    const isResponse = command.message.startsWith('SIP/');
    if (isResponse && txnId === '') return conn.rejectAndClose(msgId, 'transaction id missing');
    const parsed = parseMessage(command.message, { lenient: true });
    const startLine = command.message.split('\r\n', 1)[0] ?? '';
    if (!parsed.ok) {
      return conn.send(failurePayload(msgId, 'NOK', isResponse ? 'Unknown server error sending response' : `invalid request-uri: ${startLine}`));
    }
    const message = parsed.message;
    if (message instanceof SipResponse) return this.responses.send(conn, msgId, txnId, message, command.message);
    if (!(message instanceof SipRequest)) return;
    if (dialogId !== '') return this.requests.sendInDialog(conn, msgId, dialogId, message);
    if (txnId !== '') {
      if (message.method === 'CANCEL') return this.requests.cancel(conn, msgId, txnId, message);
      return conn.send(failurePayload(msgId, 'NOK', 'a request with a transaction id must be a CANCEL'));
    }
    return this.requests.sendNew(conn, msgId, message, command.routeUri);
  }

  /** §7: the pending request is proxied (stateful; see ProxyController). */
  onProxy(conn: AppConnection, command: ProxyCommand): void {
    this.proxies.proxy(conn, command.msgId, command.txnId, command.tokens, command.body).catch((err: unknown) => {
      this.ctx.log.error('proxy command failed', { err: String(err) });
      conn.send(failurePayload(command.msgId, 'NOK', `Server error: ${String(err)}`));
    });
  }

  /**
   * §9.3: nothing is torn down when an app goes: its dialogs stay up and later requests in them
   * get 481 (the owner is no longer open); pending requests wait for their deadline.
   */
  onConnectionClosed(conn: AppConnection): void {
    this.ctx.log.info('app disconnected', { connection: conn.id });
  }
}
