/**
 * Reads and checks the parts of a REGISTER the registrar needs (RFC 3261 §10.2, §10.3):
 * To (the address of record), From, Call-ID, CSeq, Expires and Contact. Any defect gives
 * a reason phrase for a 400 reply; nothing is changed for a bad request.
 */
import { parseContactHeader, parseNameAddr } from '../sip-address.ts';
import type { NameAddr, ParseResult } from '../sip-address.ts';
import type { SipRequest } from '../sip-types.ts';

export interface RegisterRequest {
  /** User part of the To URI (compared with the authenticated username). */
  toUser: string;
  callId: string;
  cseq: number;
  /** The Expires header in seconds, when present. */
  expires: number | undefined;
  /** `*` (remove all), or the contacts (empty: a query for the current bindings). */
  contacts: '*' | NameAddr[];
  userAgent: string | undefined;
}

const MAX_EXPIRES_VALUE = 2 ** 32 - 1;

export function parseDeltaSeconds(v: string): number | undefined {
  const t = v.trim();
  if (!/^[0-9]{1,10}$/.test(t)) return undefined;
  const n = Number(t);
  return n <= MAX_EXPIRES_VALUE ? n : undefined;
}

export function readRegisterRequest(req: SipRequest): ParseResult<RegisterRequest> {
  const to = req.get('to');
  if (!to) return { ok: false, reason: 'Missing To Header' };
  const toAddr = parseNameAddr(to);
  if (!toAddr.ok) return { ok: false, reason: 'Malformed To Header' };
  const toUser = toAddr.value.parsedUri.user?.split(':')[0];
  if (!toUser) return { ok: false, reason: 'To URI Has No User' };

  const from = req.get('from');
  if (!from) return { ok: false, reason: 'Missing From Header' };
  if (!parseNameAddr(from).ok) return { ok: false, reason: 'Malformed From Header' };

  const callId = req.get('call-id')?.trim();
  if (!callId) return { ok: false, reason: 'Missing Call-ID Header' };
  if (callId.length > 256 || /\s/.test(callId)) return { ok: false, reason: 'Malformed Call-ID Header' };

  const cseqHeader = req.get('cseq');
  if (!cseqHeader) return { ok: false, reason: 'Missing CSeq Header' };
  const cseqMatch = /^\s*([0-9]{1,10})\s+([A-Za-z]+)\s*$/.exec(cseqHeader);
  if (!cseqMatch || Number(cseqMatch[1]) >= 2 ** 31) return { ok: false, reason: 'Malformed CSeq Header' };
  if (cseqMatch[2] !== 'REGISTER' || req.method !== 'REGISTER') return { ok: false, reason: 'CSeq Method Does Not Match' };

  const expiresHeader = req.get('expires');
  let expires: number | undefined;
  if (expiresHeader !== undefined) {
    expires = parseDeltaSeconds(expiresHeader);
    if (expires === undefined) return { ok: false, reason: 'Malformed Expires Header' };
  }

  const contactHeader = req.get('contact');
  let contacts: '*' | NameAddr[] = [];
  if (contactHeader !== undefined && contactHeader.trim() !== '') {
    const c = parseContactHeader(contactHeader);
    if (!c.ok) return { ok: false, reason: 'Malformed Contact Header' };
    contacts = c.value;
    if (contacts === '*' && expires !== 0) return { ok: false, reason: 'Contact * Requires Expires 0' };
    if (contacts !== '*') {
      for (const contact of contacts) {
        const e = contact.params.get('expires');
        if (e !== undefined && parseDeltaSeconds(e) === undefined) return { ok: false, reason: 'Malformed Contact Expires' };
      }
    }
  }

  const ua = req.get('user-agent');
  return {
    ok: true,
    value: { toUser, callId, cseq: Number(cseqMatch[1]), expires, contacts, userAgent: ua === undefined ? undefined : ua.slice(0, 256) },
  };
}
