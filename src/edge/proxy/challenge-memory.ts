/**
 * Spec §7 step 2 (the reference's addChallenge / isResponseToChallenge): when a target answers a
 * proxied request with 401/407 and a challenge, its realm and nonce are remembered for
 * {@link CHALLENGE_MEMORY_MS}; a request that comes back with credentials for that nonce and
 * realm is proxied to that target alone, whatever destinations the app gives.
 */
import type { SipMessage } from '../message/index.ts';
import type { Clock, TimerHandle } from '../transaction/index.ts';

/** The reference gives the caller 2 s to come back with credentials. */
export const CHALLENGE_MEMORY_MS = 2000;

interface Challenge {
  readonly realm: string;
  readonly target: string;
  readonly timer: TimerHandle;
}

function param(value: string, name: string): string | undefined {
  const m = new RegExp(`[\\s,]${name}\\s*=\\s*(?:"([^"]*)"|([^\\s,]+))`, 'i').exec(` ${value}`);
  return m === null ? undefined : (m[1] ?? m[2]);
}

export class ChallengeMemory {
  private readonly byNonce = new Map<string, Challenge>();

  constructor(private readonly clock: Clock) {}

  /** Remembers the challenge of a 401/407 from `target`; false when it carries none. */
  remember(response: SipMessage, target: string): boolean {
    const header = response.get('www-authenticate') ?? response.get('proxy-authenticate');
    if (header === undefined) return false;
    const nonce = param(header, 'nonce');
    const realm = param(header, 'realm');
    if (nonce === undefined || realm === undefined) return false;
    this.forget(nonce);
    const timer = this.clock.setTimeout(() => this.byNonce.delete(nonce), CHALLENGE_MEMORY_MS);
    this.byNonce.set(nonce, { realm, target, timer });
    return true;
  }

  /** The target that challenged the credentials `request` carries, once (then forgotten). */
  targetFor(request: SipMessage): string | undefined {
    const header = request.get('authorization') ?? request.get('proxy-authorization');
    if (header === undefined) return undefined;
    const nonce = param(header, 'nonce');
    const realm = param(header, 'realm');
    if (nonce === undefined) return undefined;
    const challenge = this.byNonce.get(nonce);
    if (challenge === undefined || challenge.realm !== realm) return undefined;
    this.forget(nonce);
    return challenge.target;
  }

  private forget(nonce: string): void {
    const old = this.byNonce.get(nonce);
    if (old === undefined) return;
    this.clock.clearTimeout(old.timer);
    this.byNonce.delete(nonce);
  }
}
