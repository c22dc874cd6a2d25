/**
 * A dialog as drachtio-server keeps it (spec §6, Appendix B; RFC 3261 §12).
 *
 *   id        `<Call-ID>;from-tag=<tag>`, the tag being the From-tag of the dialog-creating
 *             request: the caller's for a UAS dialog, our own for a UAC dialog (§6, MUST).
 *
 * State machine (transition() throws on an illegal step):
 *
 *      Early ──(2xx sent/received)──▶ Confirmed ──(BYE, Timer H, CANCEL-after-200)──▶ Terminated
 *        │                                                                              ▲
 *        └──────────────(≥300, CANCEL, timeout)─────────────────────────────────────────┘
 */
import { addTag, type SipRequest } from '../message/index.ts';

export enum DialogState {
  Early = 'early',
  Confirmed = 'confirmed',
  Terminated = 'terminated',
}

const TRANSITIONS: Readonly<Record<DialogState, readonly DialogState[]>> = {
  [DialogState.Early]: [DialogState.Confirmed, DialogState.Terminated],
  [DialogState.Confirmed]: [DialogState.Terminated],
  [DialogState.Terminated]: [],
};

export class DialogStateError extends Error {
  override readonly name = 'DialogStateError';
}

/** Whoever owns the dialog on the app side (an admin connection); only liveness is needed here. */
export interface DialogOwner {
  readonly isOpen: boolean;
}

/** Where in-dialog requests go, as learned from the dialog-creating exchange. */
export interface DialogTransport {
  readonly protocol: 'udp' | 'tcp';
  /** For TCP: the connection the dialog was set up on (reused, like the reference's tport). */
  readonly connectionId: number;
}

export interface DialogInit<O extends DialogOwner = DialogOwner> {
  readonly role: 'uas' | 'uac';
  readonly callId: string;
  readonly localTag: string;
  readonly remoteTag: string | undefined;
  /** From/To header value of our side, without tag (e.g. `1234 <sip:1234@127.0.0.1:5180>`). */
  readonly localParty: string;
  /** From/To header value of the peer, without tag. */
  readonly remoteParty: string;
  /** The tag that names the dialog: the dialog-creating request's From-tag (§6). */
  readonly idTag: string;
  readonly localSeq: number;
  readonly remoteSeq: number | undefined;
  readonly remoteTarget: string;
  /** RFC 3261 §12.1.1 (UAS: Record-Route in order) / §12.1.2 (UAC: reversed). */
  readonly routeSet: readonly string[];
  readonly localContact: string;
  readonly transport: DialogTransport;
  readonly owner: O;
  /** txnId of the INVITE that created it (the ACK of the initial 2xx is delivered with it, §4.6). */
  readonly inviteTxnId: string;
}

export function dialogIdOf(callId: string, tag: string): string {
  return `${callId};from-tag=${tag}`;
}

export class Dialog<O extends DialogOwner = DialogOwner> {
  readonly id: string;
  readonly role: 'uas' | 'uac';
  readonly callId: string;
  readonly localTag: string;
  remoteTag: string | undefined;
  readonly localParty: string;
  readonly remoteParty: string;
  localSeq: number;
  remoteSeq: number | undefined;
  remoteTarget: string;
  routeSet: readonly string[];
  localContact: string;
  transport: DialogTransport;
  owner: O;
  readonly inviteTxnId: string;
  /** UAS: our 2xx to an INVITE waits for its ACK (§4.4); stop() ends the retransmissions. */
  awaitingAck: { readonly seq: number; readonly txnId: string; readonly stop: () => void } | undefined;
  /** UAC: CSeq of the INVITE whose 2xx the app still has to ACK (§5.3). */
  pendingAckSeq: number | undefined;
  /** UAC: the app cancelled the INVITE but a 2xx crossed the CANCEL (§4.8, ACK-BYE). */
  cancelRace = false;
  /** UAC: re-sends the last ACK when a 2xx retransmission arrives (§5.3, Timer D). */
  resendAck: (() => void) | undefined;
  private stateValue = DialogState.Early;
  /** Called once when the dialog reaches Terminated (timers to stop, tables to clean). */
  private readonly onTerminated: Array<() => void> = [];

  constructor(init: DialogInit<O>) {
    this.id = dialogIdOf(init.callId, init.idTag);
    this.role = init.role;
    this.callId = init.callId;
    this.localTag = init.localTag;
    this.remoteTag = init.remoteTag;
    this.localParty = init.localParty;
    this.remoteParty = init.remoteParty;
    this.localSeq = init.localSeq;
    this.remoteSeq = init.remoteSeq;
    this.remoteTarget = init.remoteTarget;
    this.routeSet = init.routeSet;
    this.localContact = init.localContact;
    this.transport = init.transport;
    this.owner = init.owner;
    this.inviteTxnId = init.inviteTxnId;
  }

  get state(): DialogState {
    return this.stateValue;
  }

  get isConfirmed(): boolean {
    return this.stateValue === DialogState.Confirmed;
  }

  get isTerminated(): boolean {
    return this.stateValue === DialogState.Terminated;
  }

  transition(to: DialogState): void {
    if (to === this.stateValue && to === DialogState.Terminated) return;
    if (!TRANSITIONS[this.stateValue].includes(to)) {
      throw new DialogStateError(`dialog ${this.id}: illegal transition ${this.stateValue} → ${to}`);
    }
    this.stateValue = to;
    if (to === DialogState.Terminated) {
      const hooks = this.onTerminated.splice(0);
      for (const hook of hooks) hook();
    }
  }

  /** Runs `hook` when the dialog terminates (at once if it already has). */
  whenTerminated(hook: () => void): void {
    if (this.isTerminated) hook();
    else this.onTerminated.push(hook);
  }

  /** From header value of requests we send (§12.2.1.1: local URI and tag). */
  get localHeader(): string {
    return addTag(this.localParty, this.localTag);
  }

  /** To header value of requests we send (remote URI and tag, if known). */
  get remoteHeader(): string {
    return this.remoteTag === undefined ? this.remoteParty : addTag(this.remoteParty, this.remoteTag);
  }

  /**
   * RFC 3261 §12.2.2: a request from the peer must carry a CSeq higher than the last one;
   * lower means an out-of-order request (answered 500). Updates the remote sequence.
   */
  acceptRemoteSeq(seq: number, method: string): boolean {
    if (method === 'ACK' || method === 'CANCEL') return true;
    if (this.remoteSeq !== undefined && seq < this.remoteSeq) return false;
    this.remoteSeq = seq;
    return true;
  }

  /** The next local CSeq number (§12.2.1.1: incremented by one for every new request). */
  nextLocalSeq(): number {
    this.localSeq += 1;
    return this.localSeq;
  }

  /** RFC 3261 §12.2.1.1: the target refresh of a re-INVITE/UPDATE updates the remote target. */
  refreshTarget(request: SipRequest | { get(name: string): string | undefined }): void {
    const contact = request.get('contact');
    if (contact === undefined) return;
    const uri = contactUri(contact);
    if (uri !== undefined) this.remoteTarget = uri;
  }
}

/** The URI inside a Contact value (`<sip:a@b>;expires=1`, `sip:a@b`, `"A" <sip:a@b>`). */
export function contactUri(value: string): string | undefined {
  const lt = value.indexOf('<');
  if (lt >= 0) {
    const gt = value.indexOf('>', lt);
    return gt > lt ? value.slice(lt + 1, gt).trim() : undefined;
  }
  const first = value.split(',')[0]?.trim() ?? '';
  const semi = first.indexOf(';');
  const uri = semi >= 0 ? first.slice(0, semi) : first;
  return uri.length > 0 ? uri : undefined;
}
