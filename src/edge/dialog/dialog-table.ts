/**
 * All dialogs, by dialogId (spec §6), and the lookup of the dialog an incoming request belongs to
 * (RFC 3261 §12.2.2: Call-ID, local tag = To-tag, remote tag = From-tag).
 */
import type { SipRequest } from '../message/index.ts';
import { DialogState, dialogIdOf, type Dialog, type DialogOwner } from './dialog.ts';

export class DialogTable<O extends DialogOwner = DialogOwner> {
  private readonly byId = new Map<string, Dialog<O>>();

  get size(): number {
    return this.byId.size;
  }

  get(id: string): Dialog<O> | undefined {
    return this.byId.get(id);
  }

  add(dialog: Dialog<O>): void {
    this.byId.set(dialog.id, dialog);
    dialog.whenTerminated(() => {
      if (this.byId.get(dialog.id) === dialog) this.byId.delete(dialog.id);
    });
  }

  /** Terminates and forgets the dialog. */
  remove(dialog: Dialog<O>): void {
    dialog.transition(DialogState.Terminated);
  }

  /**
   * The dialog a request from the network belongs to. A UAS dialog is named by the peer's tag
   * (its From-tag) and our tag is the request's To-tag; a UAC dialog is named by our tag, which
   * the peer puts in its To.
   */
  findForRequest(request: SipRequest): Dialog<O> | undefined {
    const callId = request.callId;
    const fromTag = request.fromTag;
    const toTag = request.toTag;
    if (callId === undefined || toTag === undefined) return undefined;
    if (fromTag !== undefined) {
      const uas = this.byId.get(dialogIdOf(callId, fromTag));
      if (uas !== undefined && uas.role === 'uas' && uas.localTag === toTag) return uas;
    }
    const uac = this.byId.get(dialogIdOf(callId, toTag));
    if (uac !== undefined && uac.role === 'uac' && (uac.remoteTag === undefined || uac.remoteTag === fromTag)) return uac;
    return undefined;
  }

  /**
   * The dialog a response to one of our requests belongs to (a 2xx retransmission to re-ACK):
   * our tag is its From-tag, the peer's its To-tag. A UAC dialog is named by our tag, a UAS
   * dialog by the peer's.
   */
  findForResponse(response: {
    readonly callId: string | undefined;
    readonly fromTag: string | undefined;
    readonly toTag: string | undefined;
  }): Dialog<O> | undefined {
    const { callId, fromTag, toTag } = response;
    if (callId === undefined || fromTag === undefined) return undefined;
    const uac = this.byId.get(dialogIdOf(callId, fromTag));
    if (uac !== undefined && uac.role === 'uac') return uac;
    if (toTag === undefined) return undefined;
    const uas = this.byId.get(dialogIdOf(callId, toTag));
    return uas !== undefined && uas.role === 'uas' && uas.localTag === fromTag ? uas : undefined;
  }

  values(): IterableIterator<Dialog<O>> {
    return this.byId.values();
  }
}
