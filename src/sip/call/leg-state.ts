/**
 * What it takes to end one leg of a call from any app process, without the drachtio-srf Dialog
 * object that the process owning the call holds: the dialog's identifiers and where its requests
 * go (RFC 3261 §12.2.1.1). Kept in Redis for every answered call (LiveCallRegistry), so a BYE can
 * be built after the owner died, or after the SIP server restarted and forgot the dialog.
 */
export interface LegState {
  callId: string;
  /** Our party with our tag, and the peer's with its tag: the From and To of every request we send. */
  local: string;
  remote: string;
  /**
   * The CSeq number of the INVITE that made the dialog. Requests we send must carry a higher
   * number than any before (RFC 3261 §12.2.1.1); the SIP server numbers its own from here on.
   */
  cseq: number;
  /** The peer's Contact: the Request-URI of our requests. */
  remoteTarget: string;
  /** Record-Route, in the order our requests take it (RFC 3261 §12.1.1, §12.1.2). */
  routeSet: string[];
  /** udp or tcp: how the dialog's messages travel. */
  transport: string;
  /** host:port the peer's messages came from: the next hop when there is no route set (a device behind NAT). */
  source: string;
}

/**
 * Both legs of a B2BUA call and the SIP server (its `hostport` list as it announces it) that holds
 * their dialogs. No callee: a leg up on its own (a callback customer in the menu, answered by the
 * media server, no call placed from it yet).
 */
export interface CallLegs {
  server: string;
  caller: LegState;
  callee?: LegState;
}

/** The parts of drachtio-srf's request / response and Dialog objects a leg's state is read from. */
export interface SrfMessageView {
  get(name: string): string | undefined;
  readonly source_address?: string;
  readonly source_port?: number;
  readonly protocol?: string;
}
export interface SrfDialogView {
  readonly sip: { callId: string; localTag: string; remoteTag: string };
  readonly remote: { uri: string };
  readonly req: SrfMessageView;
  readonly res: SrfMessageView;
}

/** Splits a header value holding several name-addrs (`<a>, <b;lr>`) at the commas outside brackets and quotes. */
export function splitNameAddrs(value: string | undefined): string[] {
  if (!value) return [];
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '"' && value[i - 1] !== '\\') quoted = !quoted;
    else if (!quoted && c === '<') depth++;
    else if (!quoted && c === '>') depth--;
    else if (!quoted && depth === 0 && c === ',') {
      out.push(value.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(value.slice(start).trim());
  return out.filter((v) => v !== '');
}

function withTag(party: string, tag: string): string {
  const gt = party.lastIndexOf('>');
  const head = gt >= 0 ? party.slice(0, gt + 1) : party.split(';')[0]!;
  const params = (gt >= 0 ? party.slice(gt + 1) : party.slice(head.length)).replace(/;\s*tag=[^;]*/i, '');
  return `${gt >= 0 ? head : `<${head.trim()}>`}${params};tag=${tag}`;
}

function cseqNumber(m: SrfMessageView): number {
  const n = Number.parseInt(m.get('CSeq') ?? '', 10);
  return Number.isSafeInteger(n) && n >= 0 ? n : 0;
}

function sourceOf(m: SrfMessageView): string {
  const a = m.source_address ?? '';
  return a.includes(':') ? `[${a}]:${m.source_port ?? 5060}` : `${a}:${m.source_port ?? 5060}`;
}

/** The caller's leg (our UAS dialog): the INVITE's From is the peer, its To with our tag is us; its Record-Route in order. */
export function callerLegOf(d: SrfDialogView): LegState {
  const req = d.req;
  return {
    callId: d.sip.callId,
    local: withTag(req.get('To') ?? '', d.sip.localTag),
    remote: withTag(req.get('From') ?? '', d.sip.remoteTag),
    cseq: cseqNumber(req),
    remoteTarget: d.remote.uri,
    routeSet: splitNameAddrs(req.get('Record-Route')),
    transport: (req.protocol ?? 'udp').toLowerCase(),
    source: sourceOf(req),
  };
}

/** The callee's leg (our UAC dialog): our INVITE's From is us, the 200's To is the peer; the 200's Record-Route reversed. */
export function calleeLegOf(d: SrfDialogView): LegState {
  return {
    callId: d.sip.callId,
    local: withTag(d.req.get('From') ?? '', d.sip.localTag),
    remote: withTag(d.res.get('To') ?? '', d.sip.remoteTag),
    cseq: cseqNumber(d.req),
    remoteTarget: d.remote.uri,
    routeSet: splitNameAddrs(d.res.get('Record-Route')).reverse(),
    transport: (d.res.protocol ?? 'udp').toLowerCase(),
    source: sourceOf(d.res),
  };
}

/** Reads a leg back from its stored form; undefined when anything is missing or of the wrong type. */
export function parseLegState(v: unknown): LegState | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  const str = (k: string) => typeof o[k] === 'string' && o[k] !== '';
  if (!['callId', 'local', 'remote', 'remoteTarget', 'transport', 'source'].every(str)) return undefined;
  if (!Number.isSafeInteger(o.cseq) || !Array.isArray(o.routeSet) || !o.routeSet.every((r) => typeof r === 'string')) return undefined;
  return {
    callId: o.callId as string,
    local: o.local as string,
    remote: o.remote as string,
    cseq: o.cseq as number,
    remoteTarget: o.remoteTarget as string,
    routeSet: o.routeSet as string[],
    transport: o.transport as string,
    source: o.source as string,
  };
}

/**
 * Both legs' state, read from drachtio-srf's Dialog objects (the caller's UAS dialog and the
 * callee's UAC dialog); undefined when the SIP server is not known yet or a dialog lacks a field.
 */
export function readCallLegs(server: string | undefined, caller: unknown, callee: unknown): CallLegs | undefined {
  if (server === undefined) return undefined;
  try {
    return { server, caller: callerLegOf(caller as SrfDialogView), callee: calleeLegOf(callee as SrfDialogView) };
  } catch {
    return undefined;
  }
}
