/** The part of a drachtio-srf dialog a probe needs. */
export interface ProbedDialog {
  request(opts: { method: string }): Promise<{ status: number }>;
}

/**
 * Whether a dialog survived a reconnect to the SIP server: an in-dialog OPTIONS (RFC 3261
 * §11, answered by any UA that holds the dialog). The server refuses it when it no longer knows
 * the dialog (a restarted drachtio-server or edge); 481 or 408 from the far end mean the dialog
 * is gone there. Any other answer, 405 included, shows it is up.
 */
export async function dialogStillUp(dialog: ProbedDialog): Promise<boolean> {
  try {
    const res = await dialog.request({ method: 'OPTIONS' });
    return res.status !== 481 && res.status !== 408;
  } catch {
    return false;
  }
}
