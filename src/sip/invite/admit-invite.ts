/**
 * The first INVITE step after the guards: counts the INVITE, refuses new calls while the app
 * drains for shutdown (503 with Retry-After, so the SIP server or the caller tries elsewhere), and
 * counts the INVITEs in flight until their handling ends (the drain waits for them).
 */
import type { SipMiddleware } from '../sip-types.ts';
import { sendSipError } from '../sip-error.ts';
import { openInvite } from './invite-context.ts';

/** Seconds a caller refused while draining is told to wait. */
export const DRAINING_RETRY_AFTER_SECONDS = 5;

export class InviteAdmission {
  private isDraining = false;
  private count = 0;

  /**
   * `onInvite` sees every INVITE (calls per second); `elapsed` is the monotonic millisecond count
   * an INVITE's arrival is stamped with for the b-leg latency metric (default performance.now).
   */
  constructor(private readonly opts: { onInvite?: () => void; elapsed?: () => number } = {}) {}

  /** From now on, new INVITEs are refused. */
  drain(): void {
    this.isDraining = true;
  }
  get draining(): boolean {
    return this.isDraining;
  }
  /** INVITEs admitted whose handling has not ended yet. */
  get inflight(): number {
    return this.count;
  }

  readonly middleware: SipMiddleware = (req, res, next) => {
    this.opts.onInvite?.();
    if (this.isDraining) {
      sendSipError(res, 'SERVICE_UNAVAILABLE', { headers: { 'Retry-After': String(DRAINING_RETRY_AFTER_SECONDS) } });
      return;
    }
    this.count++;
    openInvite(req, (this.opts.elapsed ?? performance.now.bind(performance))(), () => {
      this.count--;
    });
    next();
  };
}
