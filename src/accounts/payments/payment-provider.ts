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

/** What an order asks the provider's checkout for: one payment of `amount` micro-units of `currency`. */
export interface CheckoutRequest {
  orderId: string;
  amount: number;
  currency: string;
  email: string;
  description: string;
  /** Where the provider sends the payer back after paying, and after giving up. */
  successUrl: string;
  cancelUrl: string;
  /** The checkout stops taking payment then (the order expires with it). */
  expiresAt: Date;
  /** The same key never opens a second checkout. */
  idempotencyKey: string;
}

/** The provider's checkout: its id (kept on the order) and the page the payer is sent to. */
export interface Checkout {
  id: string;
  url: string;
}

/**
 * A provider event, read from a signed webhook (or, for the local test provider, from its pay
 * page). `eventId` is the provider's own id: the idempotency key of acting on it.
 */
export type PaymentEvent =
  | { kind: 'paid'; provider: string; eventId: string; type: string; orderId: string; checkoutId: string; reference: string; amount: number; currency: string }
  | { kind: 'failed'; provider: string; eventId: string; type: string; orderId: string; checkoutId: string; reason: string }
  | { kind: 'ignored'; provider: string; eventId: string; type: string };

/**
 * The checkout port of a payment provider: a hosted payment page for an order and the signed
 * events that report its outcome. Card data is entered on the provider's page only.
 */
export interface CheckoutProvider {
  readonly name: string;
  /** Payment methods offered on the order form. */
  readonly methods: readonly string[];
  /** The origin of its checkout pages (the order page's form may lead there); none when they are this service's own. */
  readonly checkoutOrigin?: string;
  createCheckout(r: CheckoutRequest): Promise<Checkout>;
  /** Verifies the signature over the raw body and reads the event; throws AppError WEBHOOK_SIGNATURE_INVALID when it does not verify. */
  readEvent(rawBody: Buffer, signature: string | undefined): PaymentEvent;
}
