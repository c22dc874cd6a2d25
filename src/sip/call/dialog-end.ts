/** The part of a drachtio-srf dialog whose end is watched. */
export interface EndingDialog {
  /** drachtio-srf sets this false as the dialog ends (a BYE received, or our own BYE answered). */
  readonly connected?: boolean;
  once(event: 'destroy', fn: () => void): unknown;
}

/**
 * Calls `fn` once when the dialog ends, also when it ended before anybody listened.
 *
 * drachtio-srf handles an in-dialog BYE synchronously, as the frame carrying it is read: it
 * answers 200, emits 'destroy' and drops every listener. The dialog itself reaches the app later,
 * through the promise of createUAS / createUAC / createB2BUA and the awaits after it. When the
 * SIP server's frames arrive together (the confirmation of our 200 and the caller's BYE sent
 * right after its ACK; a carrier's 200 and its BYE), the BYE is handled before the app has
 * attached a listener, and a plain `on('destroy')` never fires: the call would stay up, billed,
 * after both ends hung up. So the state is checked first.
 */
export function onDialogEnd(dialog: EndingDialog, fn: () => void): void {
  if (dialog.connected === false) {
    queueMicrotask(fn);
    return;
  }
  dialog.once('destroy', fn);
}
