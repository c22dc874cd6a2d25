/** How the access-number IVR behaves (config: IVR_* settings). */
export interface IvrSettings {
  /** Say the balance after login. */
  announceBalance: boolean;
  /** After the far end hangs up, offer another call without logging in again. */
  anotherCall: boolean;
  /** Which accounts may register the calling number for PIN-less login from the IVR after a PIN login. */
  cliRegistration: 'off' | 'calling_account' | 'all';
  /** The most caller IDs an account may hold for the IVR to offer registering one more. */
  maxClis: number;
  /** Wait for the first key of an entry, then between keys. */
  firstDigitMs: number;
  interDigitMs: number;
  /** PIN tries per call. */
  pinTries: number;
  /** Wrong PINs (per caller ID, per account) within the window before a lock, and the lock's length. */
  lockThreshold: number;
  /** Wrong PINs within the window from callers with no caller ID, per access number, before those callers are locked out. */
  anonymousLockThreshold: number;
  lockWindowMs: number;
  lockMs: number;
  /**
   * Wrong PINs per access number, and per carrier source address, within the sliding window
   * `pinBudgetWindowMs`; once either is spent, callers on that number (or from that source) are
   * told the PIN service is locked and no PIN is checked. See docs/security.md for the arithmetic.
   */
  pinBudgetPerAccessNumber: number;
  pinBudgetPerSource: number;
  pinBudgetWindowMs: number;
  /** Silence after a wrong PIN before the next prompt. */
  pinTarpitMs: number;
  /** After the destination prompt, say the other options (speed dials; a voucher top-up with 9 when vouchers are offered). */
  menuHints: boolean;
  /** What is injected into a connected call before the credit runs out. */
  warning: 'prompt' | 'beep';
}

export const DEFAULT_IVR_SETTINGS: IvrSettings = {
  announceBalance: true,
  anotherCall: true,
  cliRegistration: 'calling_account',
  maxClis: 5,
  firstDigitMs: 8000,
  interDigitMs: 4000,
  pinTries: 3,
  lockThreshold: 5,
  anonymousLockThreshold: 20,
  lockWindowMs: 3_600_000,
  lockMs: 1_800_000,
  pinBudgetPerAccessNumber: 200,
  pinBudgetPerSource: 200,
  pinBudgetWindowMs: 86_400_000,
  pinTarpitMs: 2000,
  menuHints: true,
  warning: 'prompt',
};
