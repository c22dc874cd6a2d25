/**
 * Counts the call (calls per second, for metrics) and, for an authenticated caller, holds the
 * account to its new-call rate: over it, 480 Call Rate Limit Exceeded with Retry-After: 1 (a 4xx:
 * a policy refusal must not send the device to another server, as a 503 would, RFC 3263 §4.3),
 * and the refusal is recorded (log, CDR `refused`, metric).
 */
import type { Logger } from 'pino';
import { sendSipError } from '../sip-error.ts';
import type { SipMiddleware } from '../sip-types.ts';
import { inviteStep } from './invite-context.ts';
import type { RecordRefusal } from '../guards/refusal-record.ts';

/** Seconds a caller over its call rate is told to wait. */
export const CALL_RATE_RETRY_AFTER_SECONDS = 1;

export interface RatePorts {
  /** Counts one new call (metrics). */
  record(): void;
  /** The account's new-call rate check (counts this call), unless authentication counted it (identity.callRate). */
  check(accountId: number): Promise<{ kind: string }>;
  /** Records the refusal (guards/refusal-record.ts); optional. */
  refused?: RecordRefusal;
}

export function rateCalls(ports: RatePorts, log: Logger): SipMiddleware {
  return inviteStep(log, async (req, res, context) => {
    ports.record();
    if (context.identity === undefined) return true;
    // counted already with the digest's nonce count (one round trip) when authentication did it
    const rate = context.identity.callRate ?? (await ports.check(context.identity.accountId));
    if (rate.kind !== 'allowed') {
      sendSipError(res, 'CALL_RATE_LIMITED', { headers: { 'Retry-After': String(CALL_RATE_RETRY_AFTER_SECONDS) } });
      await ports.refused?.(req, context, 'CALL_RATE_LIMITED');
      return false;
    }
    return true;
  });
}
