/**
 * The dialog a response to one of our INVITEs creates (RFC 3261 §12.1.2): built from the request
 * as sent and the response as received, for the app's dialog and for an abandoned INVITE's ACK
 * and BYE alike.
 */
import type { SipRequest, SipResponse } from '../message/index.ts';
import type { SourceInfo } from '../transport/index.ts';
import { Dialog, contactUri, type DialogOwner } from '../dialog/dialog.ts';
import { withoutTag } from './header-rules.ts';

export function uacDialogOf<O extends DialogOwner>(req: SipRequest, response: SipResponse, source: SourceInfo, owner: O, inviteTxnId: string): Dialog<O> {
  return new Dialog<O>({
    role: 'uac',
    callId: req.callId ?? '',
    localTag: req.fromTag ?? '',
    remoteTag: response.toTag ?? '',
    localParty: withoutTag(req.get('from') ?? ''),
    remoteParty: withoutTag(req.get('to') ?? ''),
    idTag: req.fromTag ?? '',
    localSeq: req.cseq?.seq ?? 0,
    remoteSeq: undefined,
    remoteTarget: contactUri(response.get('contact') ?? '') ?? req.uri,
    routeSet: response.getAll('record-route').reverse(),
    localContact: req.get('contact') ?? '',
    transport: { protocol: source.protocol, connectionId: source.connectionId },
    owner,
    inviteTxnId,
  });
}
