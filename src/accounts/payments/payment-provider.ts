/**
 * The payment-provider port. We hold only the provider's opaque token for a saved payment method
 * and the references of charges; card numbers never reach us (the provider's own page or SDK
 * collects them and hands back a token).
 */
export type ChargeResult = { ok: true; reference: string } | { ok: false; reason: 'declined' | 'invalid_token' | 'unavailable' };

export interface PaymentProvider {
  readonly name: string;
  /** Is this a token the provider issued (and still honours)? */
  validToken(token: string): Promise<boolean>;
  /** Charges `amount` micro-units of `currency`; the same idempotency key never charges twice. */
  charge(token: string, amount: number, currency: string, idempotencyKey: string): Promise<ChargeResult>;
}

/** A card number (PAN) look-alike: 12-19 digits, optionally grouped. Never accepted as a token. */
export function looksLikeCardNumber(s: string): boolean {
  return /^[0-9][0-9 -]{10,22}[0-9]$/.test(s) && s.replace(/[ -]/g, '').length >= 12;
}
