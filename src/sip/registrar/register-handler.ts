/**
 * The REGISTER handler, a drachtio-srf middleware:
 *
 *   srf.use('register', [refuseScanners(scanners), refuseBannedSources(failures), register]);
 *
 *   bad request (To, From, Call-ID, CSeq, Expires, Contact) ─▶ 400 <reason>
 *   no / stale / foreign credentials ─────────────────────────▶ 401 + WWW-Authenticate (SHA-256, MD5)
 *   wrong password or unknown user (indistinguishable) ───────▶ 403 Forbidden, failure counted
 *   To user ≠ authenticated user ─────────────────────────────▶ 403 Forbidden
 *   a non-zero expiry below min-expires ──────────────────────▶ 423 Interval Too Brief + Min-Expires
 *   more contacts in one request than allowed ────────────────▶ 403 Too Many Contacts
 *   same Call-ID with a CSeq not higher than stored ──────────▶ 500 Out Of Order Request
 *   otherwise ─────────────────────────────────────────────────▶ 200 OK listing every binding with its remaining expiry
 *
 * Expiry of each contact: its `expires` parameter, else the Expires header, else
 * `defaultExpires`; clamped to `maxExpires`. Requests that are not REGISTER pass to next().
 */
import { createHash } from 'node:crypto';
import type { DigestAuthenticator } from '../auth/digest-authenticator.ts';
import { repeatedHeader } from '../auth/digest-challenge.ts';
import type { AuthFailureGuard } from '../guards/auth-failure-guard.ts';
import { sendSipError } from '../sip-error.ts';
import type { Binding, BindingStore, BindingUpdate, WhenFull } from './binding-store.ts';
import type { NameAddr } from '../sip-address.ts';
import { parseDeltaSeconds, readRegisterRequest } from './register-request.ts';
import type { RegisterRequest } from './register-request.ts';
import type { SipMiddleware, SipRequest, SipResponse } from '../sip-types.ts';
import { clientAddress } from '../guards/client-address.ts';

export interface RegistrarLogger {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface RegisterHandlerOptions {
  authenticator: DigestAuthenticator;
  bindings: BindingStore;
  /** Counts failed authentications and refuses locked usernames; optional. */
  failures?: AuthFailureGuard;
  /** Seconds; a shorter non-zero expiry gets 423 (RFC 3261 §10.3 step 7). Default 60. */
  minExpires?: number;
  /** Seconds; longer expiries are shortened to this. Default 3600. */
  maxExpires?: number;
  /** Seconds, when neither the contact nor the request says. Default 3600. */
  defaultExpires?: number;
  /** Bindings per AOR. Default 5. */
  maxContacts?: number;
  /** What happens to a new binding beyond maxContacts. Default 'replace-oldest'. */
  whenFull?: WhenFull;
  now: () => number;
  logger?: RegistrarLogger;
}

interface Settings {
  minExpires: number;
  maxExpires: number;
  defaultExpires: number;
  maxContacts: number;
  whenFull: WhenFull;
}

export function createRegisterHandler(opts: RegisterHandlerOptions): SipMiddleware {
  const s: Settings = {
    minExpires: opts.minExpires ?? 60,
    maxExpires: opts.maxExpires ?? 3600,
    defaultExpires: opts.defaultExpires ?? 3600,
    maxContacts: opts.maxContacts ?? 5,
    whenFull: opts.whenFull ?? 'replace-oldest',
  };
  if (!(s.minExpires >= 1 && s.minExpires <= s.defaultExpires && s.defaultExpires <= s.maxExpires)) {
    throw new RangeError('expiries must satisfy 1 <= minExpires <= defaultExpires <= maxExpires');
  }
  if (!Number.isInteger(s.maxContacts) || s.maxContacts < 1) throw new RangeError('maxContacts must be a positive integer');

  return (req, res, next) => {
    if (req.method !== 'REGISTER') {
      next();
      return;
    }
    handle(opts, s, req, res).catch((err: unknown) => {
      opts.logger?.error({ err, callId: req.get('call-id') }, 'REGISTER failed');
      sendSipError(res, 'SERVICE_UNAVAILABLE', { headers: { 'Retry-After': '5' } });
    });
  };
}

async function handle(opts: RegisterHandlerOptions, s: Settings, req: SipRequest, res: SipResponse): Promise<void> {
  const parsed = readRegisterRequest(req);
  if (!parsed.ok) {
    res.send(400, parsed.reason);
    return;
  }
  const r = parsed.value;

  const authorization = req.get('authorization');
  const userAgent = req.get('user-agent');
  const auth = await opts.authenticator.authenticate({
    method: req.method,
    authorization: authorization === undefined ? [] : [authorization],
    ...(userAgent === undefined ? {} : { userAgent }),
    fromUser: r.toUser,
    source: clientAddress(req),
  });
  switch (auth.kind) {
    case 'challenge':
      sendSipError(res, 'UNAUTHENTICATED', { headers: { 'WWW-Authenticate': repeatedHeader('WWW-Authenticate', auth.challenges) } });
      return;
    case 'malformed':
      sendSipError(res, 'MALFORMED_AUTHORIZATION');
      return;
    case 'forbidden':
      await opts.failures?.recordFailure(clientAddress(req), auth.username);
      opts.logger?.info({ source: clientAddress(req), username: auth.username }, 'REGISTER authentication failed');
      sendSipError(res, 'FORBIDDEN');
      return;
    case 'authenticated':
      break;
  }
  if (opts.failures && (await opts.failures.check(clientAddress(req), auth.username)).kind === 'banned') {
    sendSipError(res, 'FORBIDDEN');
    return;
  }
  if (r.toUser !== auth.username) {
    sendSipError(res, 'FORBIDDEN');
    return;
  }

  const aor = `${auth.username}@${opts.authenticator.realm}`;
  const request = { callId: r.callId, cseq: r.cseq };
  const now = opts.now();

  if (r.contacts === '*') {
    const out = await opts.bindings.removeAll(aor, request);
    if (out.kind !== 'ok') {
      sendSipError(res, 'REGISTRATION_OUT_OF_ORDER');
      return;
    }
    res.send(200, 'OK');
    return;
  }

  const updates: BindingUpdate[] = [];
  for (const contact of r.contacts) {
    const seconds = expiryOf(contact, r, s);
    if (seconds > 0 && seconds < s.minExpires) {
      sendSipError(res, 'INTERVAL_TOO_BRIEF', { headers: { 'Min-Expires': String(s.minExpires) } });
      return;
    }
    const key = bindingKey(contact);
    const expiresAt = seconds === 0 ? 0 : now + seconds * 1000;
    updates.push({ key, expiresAt, binding: seconds === 0 ? undefined : toBinding(aor, key, contact, expiresAt, r, req, now, auth.accountId) });
  }
  if (updates.filter((u) => u.expiresAt > 0).length > s.maxContacts) {
    sendSipError(res, 'TOO_MANY_CONTACTS');
    return;
  }

  const out = await opts.bindings.register(aor, request, updates, { maxContacts: s.maxContacts, whenFull: s.whenFull });
  if (out.kind === 'out-of-order') {
    sendSipError(res, 'REGISTRATION_OUT_OF_ORDER');
    return;
  }
  if (out.kind === 'too-many') {
    sendSipError(res, 'TOO_MANY_CONTACTS');
    return;
  }
  const headers: Record<string, string> = {};
  if (out.bindings.length > 0) headers.Contact = out.bindings.map((b) => contactValue(b, now)).join(', ');
  res.send(200, 'OK', { headers });
}

function expiryOf(contact: NameAddr, r: RegisterRequest, s: Settings): number {
  const param = contact.params.get('expires');
  const requested = (param === undefined ? undefined : parseDeltaSeconds(param)) ?? r.expires ?? s.defaultExpires;
  return Math.min(requested, s.maxExpires);
}

/** RFC 5626: a device's +sip.instance identifies it across address changes; else the URI (scheme and host case-insensitive). */
export function bindingKey(contact: NameAddr): string {
  const instance = contact.params.get('+sip.instance');
  if (instance) return `i:${createHash('sha256').update(instance).digest('hex').slice(0, 32)}`;
  const u = contact.parsedUri;
  const rest = contact.uri.slice(contact.uri.indexOf(':') + 1);
  const userPart = u.user === undefined ? '' : `${u.user}@`;
  const afterHost = rest.slice(userPart.length + u.host.length);
  return `u:${u.scheme}:${userPart}${u.host}${afterHost}`;
}

function toBinding(
  aor: string,
  key: string,
  contact: NameAddr,
  expiresAt: number,
  r: RegisterRequest,
  req: SipRequest,
  now: number,
  accountId: number,
): Binding {
  return {
    aor,
    key,
    uri: contact.uri,
    params: contact.rawParams.filter((p) => !/^expires\s*(=|$)/i.test(p)),
    expiresAt,
    callId: r.callId,
    cseq: r.cseq,
    source: { address: req.source_address, port: req.source_port, transport: req.protocol },
    userAgent: r.userAgent,
    registeredAt: now,
    accountId,
  };
}

function contactValue(b: Binding, now: number): string {
  const remaining = Math.max(0, Math.ceil((b.expiresAt - now) / 1000));
  return [`<${b.uri}>`, ...b.params, `expires=${remaining}`].join(';');
}
