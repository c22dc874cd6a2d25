/**
 * Requests inside a dialog (RFC 3261 §12.2.1.1; spec §5.3): Request-URI = remote target, From =
 * local URI and tag, To = remote URI and tag, Call-ID of the dialog, CSeq = the next local
 * number (ACK: the INVITE's number), Route = the route set; loose routing sends the request to
 * the first route, otherwise to the remote target.
 */
import { parseUri, SipRequest, type SipHeader } from '../message/index.ts';
import type { Dialog } from './dialog.ts';

export function createInDialogRequest(dialog: Dialog, method: string, seq: number, requestUri?: string): SipRequest {
  const headers: SipHeader[] = [
    { name: 'Max-Forwards', key: 'max-forwards', value: '70' },
    { name: 'From', key: 'from', value: dialog.localHeader },
    { name: 'To', key: 'to', value: dialog.remoteHeader },
    { name: 'Call-ID', key: 'call-id', value: dialog.callId },
    { name: 'CSeq', key: 'cseq', value: `${seq} ${method}` },
  ];
  for (const route of dialog.routeSet) headers.push({ name: 'Route', key: 'route', value: route });
  return new SipRequest(method, requestUri ?? dialog.remoteTarget, headers);
}

/** Where an in-dialog request goes first: the first route if it is a loose router (`;lr`), else the remote target. */
export function nextHopUri(dialog: Dialog): string {
  const first = dialog.routeSet[0];
  if (first !== undefined) {
    const lt = first.indexOf('<');
    const gt = first.indexOf('>');
    const uri = lt >= 0 && gt > lt ? first.slice(lt + 1, gt) : first;
    const parsed = parseUri(uri);
    if (parsed !== undefined && parsed.params.has('lr')) return uri;
  }
  return dialog.remoteTarget;
}
