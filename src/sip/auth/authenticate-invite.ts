import type { AuthFailureGuard } from '../guards/auth-failure-guard.ts';
import { addressOf } from '../sip-address.ts';
import { sendSipError } from '../sip-error.ts';
import type { SipRequest, SipResponse } from '../sip-types.ts';
import type { DigestAuthenticator } from './digest-authenticator.ts';
import { repeatedHeader } from './digest-challenge.ts';

export type InviteIdentity = { accountId: number; username: string };

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
): Promise<InviteIdentity | undefined> {
  const header = req.get('Proxy-Authorization');
  const userAgent = req.get('User-Agent');
  const fromUser = addressOf(req.get('From'))?.rawUser;
  const r = await auth.authenticate({
    method: req.method,
    authorization: header === undefined ? [] : [header],
    requestUri: req.uri,
    ...(userAgent === undefined ? {} : { userAgent }),
    ...(fromUser === undefined ? {} : { fromUser }),
  });
  switch (r.kind) {
    case 'authenticated':
      return { accountId: r.accountId, username: r.username };
    case 'challenge':
      sendSipError(res, 'PROXY_AUTHENTICATION_REQUIRED', { headers: { 'Proxy-Authenticate': repeatedHeader('Proxy-Authenticate', r.challenges) } });
      return undefined;
    case 'forbidden':
      await failures?.recordFailure(req.source_address, r.username);
      sendSipError(res, 'FORBIDDEN');
      return undefined;
    case 'malformed':
      sendSipError(res, 'MALFORMED_PROXY_AUTHORIZATION', { detail: r.reason });
      return undefined;
  }
}
