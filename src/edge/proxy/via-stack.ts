/**
 * The Via stack of proxied messages (RFC 3261 §16.7 step 3, §16.11): a response loses our Via
 * before it goes upstream, and goes where the next Via says.
 */
import { stripBrackets, type SipMessage, type SipResponse, type Via } from '../message/index.ts';
import type { Target } from '../transport/index.ts';

/** A copy of `message` without its first Via value (a line may hold several, comma-separated). */
export function withoutTopVia<M extends SipMessage>(message: M): M {
  const copy = message.clone() as M;
  const rest = copy.getAll('via').slice(1);
  copy.remove('via');
  for (let i = rest.length - 1; i >= 0; i--) copy.prepend('Via', rest[i] as string);
  return copy;
}

/** §18.2.2 for a response sent statelessly: the `received`/`rport` of the Via, else its sent-by. */
export function viaTarget(via: Via): Target {
  const protocol = via.transport === 'TCP' ? 'tcp' : 'udp';
  const port = typeof via.rport === 'number' ? via.rport : (via.port ?? 5060);
  return { protocol, address: via.received ?? stripBrackets(via.host), port };
}

export type { SipResponse };
