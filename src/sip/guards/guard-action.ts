/**
 * What a guard does with a refused request: `reject` answers 403, `drop` sends nothing (a
 * scanner learns nothing, not even that a SIP server is there; the SIP server's transaction
 * simply times out).
 */
import type { SipResponse } from '../registrar/sip-types.ts';

export type GuardAction = 'reject' | 'drop';

export function refuse(res: SipResponse, action: GuardAction, reason = 'Forbidden'): void {
  if (action === 'reject') res.send(403, reason);
}
