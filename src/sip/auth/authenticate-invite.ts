import type { AuthFailureGuard } from '../guards/auth-failure-guard.ts';
import type { CallRateCheck, CallRateGuard } from '../guards/call-rate-guard.ts';
import { addressOf } from '../sip-address.ts';
import { sendSipError } from '../sip-error.ts';
import type { SipRequest, SipResponse } from '../sip-types.ts';
import type { DigestAuthenticator } from './digest-authenticator.ts';
import { repeatedHeader } from './digest-challenge.ts';
import { clientAddress } from '../guards/client-address.ts';

/** `callRate`: the account's new-call rate, counted with the nonce (one round trip) when a guard was given. */
export type InviteIdentity = { accountId: number; username: string; callRate?: CallRateCheck };

/**
 * Digest authentication of a device's INVITE (RFC 3261 §22.3: 407 with Proxy-Authenticate).
 * Resolves with the caller's identity, or undefined once it has answered the request itself
 * (challenge, 403 counted as an authentication failure, or 400 for malformed credentials).
 */
export async function authenticateInvite(
  req: SipRequest,
  res: SipResponse,
  auth: DigestAuthenticator,
  failures?: AuthFailureGuard,
  callRate?: CallRateGuard,
): Promise<InviteIdentity | undefined> {
  const header = req.get('Proxy-Authorization');
  const userAgent = req.get('User-Agent');
  let window: ReturnType<CallRateGuard['windowOf']> | undefined;
  const fromUser = addressOf(req.get('From'))?.rawUser;
  const r = await auth.authenticate({
    method: req.method,
    authorization: header === undefined ? [] : [header],
    requestUri: req.uri,
    ...(userAgent === undefined ? {} : { userAgent }),
    ...(callRate === undefined ? {} : { countCall: (accountId: number) => (window = callRate.windowOf(accountId)) }),
    ...(fromUser === undefined ? {} : { fromUser }),
    source: clientAddress(req),
  });
  switch (r.kind) {
    case 'authenticated':
      if (window !== undefined && r.calls !== undefined) return { accountId: r.accountId, username: r.username, callRate: window.verdict(r.calls) };
      return { accountId: r.accountId, username: r.username };
    case 'challenge':
      sendSipError(res, 'PROXY_AUTHENTICATION_REQUIRED', { headers: { 'Proxy-Authenticate': repeatedHeader('Proxy-Authenticate', r.challenges) } });
      return undefined;
    case 'forbidden':
      await failures?.recordFailure(clientAddress(req), r.username);
      sendSipError(res, 'FORBIDDEN');
      return undefined;
    case 'malformed':
      sendSipError(res, 'MALFORMED_PROXY_AUTHORIZATION', { detail: r.reason });
      return undefined;
  }
}
