/**
 * Spec §4.2 step 3: drachtio-server's `<spammers>` rules. A request that matches no dialog and
 * whose User-Agent (or To / From URI user) contains a listed value, case-sensitively, is answered
 * `603 Decline` at once, before the automatic 100 Trying and before any app sees it. The
 * reference does this whatever `action` the configuration names.
 */
import { parseUri, type SipRequest } from '../message/index.ts';
import type { SpammerRule } from '../config/edge-config.ts';

export const SPAMMER_STATUS = 603;
export const SPAMMER_REASON = 'Decline';

/** The header value that matched a rule, or undefined. */
export function spammerMatch(request: SipRequest, rules: readonly SpammerRule[]): string | undefined {
  for (const rule of rules) {
    const value = headerValue(request, rule.header);
    if (value !== undefined && rule.values.some((v) => value.includes(v))) return value;
  }
  return undefined;
}

function headerValue(request: SipRequest, header: SpammerRule['header']): string | undefined {
  if (header === 'user-agent') return request.get('user-agent');
  const nameAddr = header === 'to' ? request.to : request.from;
  return nameAddr === undefined ? undefined : parseUri(nameAddr.uri)?.user;
}
