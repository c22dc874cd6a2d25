import type { Logger } from 'pino';
import type { CallLegs, LegState } from './leg-state.ts';

/** The part of drachtio-srf that sends a request outside any Dialog object (Srf#request). */
export interface OutOfDialogSender {
  request(uri: string, opts: { method: string; proxy?: string; headers: Record<string, string> }): Promise<RequestInFlight>;
}
interface RequestInFlight {
  on(event: 'response', fn: (res: { status: number }) => void): unknown;
}

/**
 * The next hop for a request in the dialog: the first Record-Route entry, else the address the
 * peer's messages came from (RFC 3581 symmetric response routing also makes this the way through
 * a NAT), with the dialog's transport.
 */
export function nextHopOf(leg: LegState): string {
  const first = leg.routeSet[0];
  if (first !== undefined) return /<([^>]+)>/.exec(first)?.[1] ?? first;
  return `sip:${leg.source};transport=${leg.transport}`;
}

/**
 * How far past the INVITE's CSeq the BYE is numbered. The SIP server numbered any request it sent
 * in the dialog from the INVITE's CSeq on (an OPTIONS probe, a BYE that got no answer); a BYE must
 * be higher than all of them (RFC 3261 §12.2.2: higher, not consecutive).
 */
const CSEQ_MARGIN = 1000;

/**
 * Ends a leg with a BYE built from its stored state and sent through the SIP server as a request
 * of its own (drachtio wire protocol §5.2: the app's From with its tag, To, Call-ID and CSeq are
 * kept; the route set's first entry, or the peer's address, is the next hop). Used when no
 * Dialog object can send it: the process that held the call died, or the SIP server restarted
 * and no longer knows the dialog. Resolves with the final status (408 when none came in time).
 */
export async function sendBye(srf: OutOfDialogSender, leg: LegState, headers: Record<string, string>, timeoutMs = 8000): Promise<number> {
  const req = await srf.request(leg.remoteTarget, {
    method: 'BYE',
    proxy: nextHopOf(leg),
    headers: { ...headers, From: leg.local, To: leg.remote, 'Call-ID': leg.callId, CSeq: `${leg.cseq + CSEQ_MARGIN} BYE` },
  });
  return new Promise<number>((resolve) => {
    const t = setTimeout(() => resolve(408), timeoutMs);
    req.on('response', (res) => {
      if (res.status >= 200) {
        clearTimeout(t);
        resolve(res.status);
      }
    });
  });
}

/** Sends both legs their BYE from stored state (a restarted SIP server no longer knows the dialogs); logs how each was answered. */
export function byeBothLegs(srf: OutOfDialogSender, legs: CallLegs, headers: Record<string, string>, log: Logger): void {
  for (const [name, leg] of [
    ['caller', legs.caller],
    ['callee', legs.callee],
  ] as const) {
    if (leg === undefined) continue;
    void sendBye(srf, leg, headers).then(
      (status) => log.info({ leg: name, status }, 'BYE from dialog state answered'),
      (err: Error) => log.warn({ leg: name, err: err.message }, 'BYE from dialog state not sent'),
    );
  }
}
