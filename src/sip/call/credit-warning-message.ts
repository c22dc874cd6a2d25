/**
 * The warning a device gets before its call is cut for lack of credit: its media does not pass
 * through the media server, so nothing can be mixed into it without anchoring every device call's
 * media; instead an in-dialog SIP MESSAGE (RFC 3428, text/plain) tells the phone the time left.
 * Phones that show messages show it; the others answer 405/501, which ends nothing (RFC 5057).
 */
import type { Logger } from 'pino';

/** The part of a drachtio-srf dialog a warning is sent through. */
export interface MessageDialog {
  request(opts: { method: string; headers?: Record<string, string>; body?: string }): Promise<{ status: number }>;
}

/** The text: the time then left, as the IVR says it (whole minutes from a minute up, seconds under one). */
export function creditWarningText(secondsLeft: number): string {
  const s = Math.max(0, Math.floor(secondsLeft));
  if (s >= 60) {
    const m = Math.floor(s / 60);
    return `Credit low: this call ends in ${m} ${m === 1 ? 'minute' : 'minutes'}.`;
  }
  return `Credit low: this call ends in ${s} ${s === 1 ? 'second' : 'seconds'}.`;
}

/** Sends the warning in the caller's dialog; a refusal or a failure is logged and ends nothing. */
export function sendCreditWarning(dialog: MessageDialog, secondsLeft: number, log: Logger): void {
  void dialog.request({ method: 'MESSAGE', headers: { 'Content-Type': 'text/plain;charset=UTF-8' }, body: creditWarningText(secondsLeft) }).then(
    (r) => {
      if (r.status >= 300) log.info({ status: r.status }, 'the device refused the credit warning message');
    },
    (err: unknown) => log.info({ err: (err as Error | undefined)?.message }, 'the credit warning message could not be sent'),
  );
}
