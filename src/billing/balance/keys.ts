/**
 * Redis key layout. Every key of one account (its balance hash, its calls, its idempotency
 * markers) and the event stream its changes go to share one hash tag, the account's shard
 * `{sN}`, so a balance script touches one cluster slot. A tag per account (`{acct:ID}`) would
 * put the account and the stream in different slots, and the stream append could not be part of
 * the same atomic script in Redis Cluster; a fixed set of shards keeps both. See docs/architecture.md.
 */
export class BalanceKeys {
  constructor(
    readonly namespace: string,
    readonly shards: number,
  ) {
    if (!Number.isInteger(shards) || shards < 1) throw new RangeError('shards must be a positive integer');
  }

  shardOf(accountId: number): number {
    return accountId % this.shards;
  }

  private tag(shard: number): string {
    return `${this.namespace}:{s${shard}}`;
  }

  account(accountId: number): string {
    return `${this.tag(this.shardOf(accountId))}:acct:${accountId}`;
  }

  /**
   * A call is identified by its account and SIP Call-ID together: a Call-ID presented by another
   * account (by accident or on purpose) is another call and can never touch this reservation.
   */
  call(accountId: number, callId: string): string {
    return this.callInShard(this.shardOf(accountId), openCallMember(accountId, callId));
  }

  /** The call hash for an open-call index member (`<account id>:<call id>`). */
  callInShard(shard: number, member: string): string {
    return `${this.tag(shard)}:call:${member}`;
  }

  openCalls(shard: number): string {
    return `${this.tag(shard)}:open`;
  }

  creditMarker(accountId: number, kind: 'topup' | 'adjust', key: string): string {
    return `${this.tag(this.shardOf(accountId))}:${kind}:${key}`;
  }

  cdrMarker(shard: number, callId: string): string {
    return `${this.tag(shard)}:cdr:${callId}`;
  }

  ivrSessionMarker(shard: number, callId: string): string {
    return `${this.tag(shard)}:ivr:${callId}`;
  }

  stream(shard: number): string {
    return `${this.tag(shard)}:events`;
  }

  allStreams(): string[] {
    return Array.from({ length: this.shards }, (_, i) => this.stream(i));
  }

  /** The stream the ledger writer moves events Postgres refused to (one per namespace, not sharded). */
  deadLetters(): string {
    return `${this.namespace}:deadletter`;
  }

  /** Shard for calls with no account: spread by call id so one stream does not take them all. */
  shardOfCallId(callId: string): number {
    let h = 0;
    for (let i = 0; i < callId.length; i++) h = (h * 31 + callId.charCodeAt(i)) >>> 0;
    return h % this.shards;
  }
}

/** Member of the open-call index: `<account id>:<call id>`. */
export function openCallMember(accountId: number, callId: string): string {
  return `${accountId}:${callId}`;
}

export function parseOpenCallMember(member: string): { accountId: number; callId: string } | undefined {
  const i = member.indexOf(':');
  if (i <= 0) return undefined;
  const accountId = Number(member.slice(0, i));
  return Number.isSafeInteger(accountId) ? { accountId, callId: member.slice(i + 1) } : undefined;
}
