/**
 * What a guard does with a refused request: `reject` answers 403, `drop` sends nothing (a
 * scanner learns nothing, not even that a SIP server is there; the SIP server's transaction
 * simply times out). `onRefused` sees every refusal (for logs and metrics) before it happens.
 */
import { sendSipError } from '../sip-error.ts';
import type { SipRequest, SipResponse } from '../sip-types.ts';

export type GuardAction = 'reject' | 'drop';

export interface RefusalOptions {
  /** Default: 'reject' for banned sources, 'drop' for scanners. */
  action?: GuardAction;
  onRefused?: (req: SipRequest, why: string) => void;
}

export function refuse(req: SipRequest, res: SipResponse, opts: RefusalOptions, fallback: GuardAction, why: string): void {
  opts.onRefused?.(req, why);
  if ((opts.action ?? fallback) === 'reject') sendSipError(res, 'FORBIDDEN');
}
