/**
 * Named parser for app→server payloads (spec §1.3, §1.5). Tokens are never read by bare
 * position outside this file.
 *
 * Payload: `<msgId>|<type>|<tok>|…` then optionally CRLF and a body. The leader ends at the
 * first CR; tokens are split on `|` with no compression (empty tokens are significant).
 */
export type AppCommand =
  | { readonly type: 'authenticate'; readonly msgId: string; readonly secret: string; readonly tags: readonly string[] }
  | { readonly type: 'route'; readonly msgId: string; readonly verb: string }
  | { readonly type: 'remove_route'; readonly msgId: string; readonly verb: string }
  | { readonly type: 'ping'; readonly msgId: string }
  | SipCommand
  | ProxyCommand
  /** A command the parser rejects: answered `NO|<reason>`, then the connection is closed (§1.6 R5). */
  | { readonly type: 'invalid'; readonly msgId: string; readonly reason: string };

/** §7: `<msgId>|proxy|<txnId>|<rr>|<full>|<follow>|<fork>|<provTimeout>|<finalTimeout>|<dest…>` + body. */
export interface ProxyCommand {
  readonly type: 'proxy';
  readonly msgId: string;
  readonly txnId: string;
  /** The tokens after txnId: rr, full, follow, fork, provTimeout, finalTimeout, destinations. */
  readonly tokens: readonly string[];
  readonly body: string;
}

/** §5: `<msgId>|sip|<txnId>|<dialogId>[|<routeUri>]CRLF<SIP message>` */
export interface SipCommand {
  readonly type: 'sip';
  readonly msgId: string;
  readonly txnId: string;
  readonly dialogId: string;
  readonly routeUri: string;
  /** The SIP message text the app wrote (start line, headers, blank line, body). */
  readonly message: string;
}

export function parseAppCommand(payload: string): AppCommand {
  const cr = payload.indexOf('\r');
  const leader = cr < 0 ? payload : payload.slice(0, cr);
  const body = cr < 0 ? '' : payload.slice(payload.startsWith('\r\n', cr) ? cr + 2 : cr + 1);
  const tokens = leader.split('|');
  const msgId = tokens[0] ?? '';
  if (tokens.length < 2) return { type: 'invalid', msgId, reason: 'Invalid message format' };
  const type = tokens[1];
  const tok = (i: number): string => tokens[i] ?? '';
  switch (type) {
    case 'authenticate':
      return { type, msgId, secret: tok(2), tags: tok(3) === '' ? [] : tok(3).split(',') };
    case 'route':
    case 'remove_route':
      // §3.1: a new server SHOULD lower-case verbs when they are registered.
      return { type, msgId, verb: tok(2).toLowerCase() };
    case 'ping':
      return { type, msgId };
    case 'sip':
      return { type, msgId, txnId: tok(2), dialogId: tok(3), routeUri: tok(4), message: body };
    case 'proxy':
      // §7: fewer than 4 tokens → NO|Invalid proxy request: not enough information provided
      if (tokens.length < 4) return { type: 'invalid', msgId, reason: 'Invalid proxy request: not enough information provided' };
      return { type, msgId, txnId: tok(2), tokens: tokens.slice(3), body };
    default:
      return { type: 'invalid', msgId, reason: 'Unknown message type' };
  }
}
