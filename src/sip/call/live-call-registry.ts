import type { RedisClient } from '../../common/redis-connection.ts';
import { parseLegState } from './leg-state.ts';
import type { CallLegs } from './leg-state.ts';

/** An answered call as the registry keeps it. */
export interface LiveCallRecord {
  accountId: number;
  callId: string;
  /** The app process that supervises the call. */
  owner: string;
  legs: CallLegs;
  answeredAt: number;
  /** The owner's last keep-alive for this call (epoch ms). */
  lastKeepAlive: number;
  /**
   * For a call that holds no reservation (a call to a personal number): its CDR facts as at the
   * answer (JSON), from which the process that ends the orphan writes its CDR. Absent for calls
   * with a reservation, whose facts are kept beside it.
   */
  cdr?: string;
  /**
   * When the owner gave the call up because it lost its SIP server (epoch ms): the owner settled
   * it; any process connected to a live SIP server sends its legs the BYEs.
   */
  released?: number;
}

/**
 * The answered calls of every app process, in Redis, with what it takes to end both legs from
 * any process (see LegState) and each call's last keep-alive:
 *
 *   <ns>:sip:live                       sorted set: `<account id>:<call id>` scored by the last keep-alive
 *   <ns>:sip:live:<account id>:<call id> hash: owner, legs (JSON), answered, and for a call without
 *                                        a reservation (personal number) cdr: its CDR facts (JSON);
 *                                        released: when its owner lost its SIP server and gave it up
 *   <ns>:sip:reap:<account id>:<call id> a reaper's claim (SET NX, expires)
 *
 * The owner writes a call at the answer, moves its score at every keep-alive and removes it when
 * the call ends. A call whose score stops moving belongs to a process that died: OrphanReaper
 * ends it. A call its owner handed over (its SIP server lost) stays when the owner ends it, marked
 * released, for a process on a live SIP server to send its legs the BYEs. Every key expires on
 * its own after the longest possible call, so nothing is left behind.
 */
export class LiveCallRegistry {
  private readonly index: string;
  /** Calls to keep (marked released) rather than remove when their owner ends them: member → when the server was lost. */
  private readonly handedOver = new Map<string, number>();

  constructor(
    private readonly redis: RedisClient,
    private readonly opts: { namespace: string; maxCallSeconds: number },
  ) {
    this.index = `${opts.namespace}:sip:live`;
  }

  private key(member: string): string {
    return `${this.index}:${member}`;
  }
  private get ttlMs(): number {
    return (this.opts.maxCallSeconds + 3600) * 1000;
  }

  static member(accountId: number, callId: string): string {
    return `${accountId}:${callId}`;
  }

  async record(accountId: number, callId: string, owner: string, legs: CallLegs, answeredAt: number, now = Date.now(), cdr?: string): Promise<void> {
    const member = LiveCallRegistry.member(accountId, callId);
    const fields = ['owner', owner, 'legs', JSON.stringify(legs), 'answered', String(answeredAt), ...(cdr === undefined ? [] : ['cdr', cdr])];
    // Not one MULTI: the hash and the index are in different cluster slots (a crash between the two
    // writes leaves a hash nobody indexed, which expires). Both are sent in the same tick, the hash
    // first, so a release() that follows is queued after both on each connection: waiting for the
    // hash before sending the index would let a call ended meanwhile (a BYE right after the ACK)
    // drop its entry before the ZADD, which would then leave it indexed for ever. An index entry
    // read before its hash lands is fresh, so no reaper takes it for an orphan.
    await Promise.all([
      this.redis
        .multi()
        .hset(this.key(member), ...fields)
        .pexpire(this.key(member), this.ttlMs)
        .exec(),
      this.redis.zadd(this.index, now, member),
    ]);
  }

  /** A keep-alive for calls still recorded (ZADD XX: a call removed meanwhile is not brought back). */
  async keepAlive(members: readonly string[], now = Date.now()): Promise<void> {
    if (members.length === 0) return;
    await this.redis.zadd(this.index, 'XX', ...members.flatMap((m) => [now, m]));
  }

  async remove(accountId: number, callId: string): Promise<void> {
    const member = LiveCallRegistry.member(accountId, callId);
    const released = this.handedOver.get(member);
    if (released !== undefined) {
      this.handedOver.delete(member);
      // the keep-alives stop with the call: it turns stale, and a reaper on a live server takes it
      await this.redis.hset(this.key(member), 'released', String(released));
      return;
    }
    await this.drop(member);
  }

  /** Out of the index first, then the hash (two slots on a cluster: no MULTI over both). */
  private async drop(member: string): Promise<void> {
    await Promise.all([this.redis.zrem(this.index, member), this.redis.del(this.key(member))]);
  }

  /**
   * The owner lost its SIP server at `lostAt`: when it ends these calls, they stay in the registry
   * marked released (see remove) instead of going.
   */
  handOver(members: readonly string[], lostAt: number): void {
    for (const m of members) this.handedOver.set(m, lostAt);
  }

  /** Calls whose last keep-alive is older than `before`, oldest first. */
  async staleSince(before: number, limit = 100): Promise<string[]> {
    return this.redis.zrangebyscore(this.index, '-inf', `(${before}`, 'LIMIT', 0, limit);
  }

  /** One call; undefined when it is gone or its record is unreadable (then it is dropped from the index). */
  async get(member: string): Promise<LiveCallRecord | undefined> {
    const i = member.indexOf(':');
    const accountId = Number(member.slice(0, i));
    // sent together, not in one MULTI (two slots on a cluster); a call removed in between reads as gone
    const [fields, score] = await Promise.all([this.redis.hgetall(this.key(member)), this.redis.zscore(this.index, member)]);
    const legs = parseLegs(fields.legs);
    if (i <= 0 || !Number.isSafeInteger(accountId) || !legs || score === null || !fields.owner) return undefined;
    return {
      accountId,
      callId: member.slice(i + 1),
      owner: fields.owner,
      legs,
      answeredAt: Number(fields.answered),
      lastKeepAlive: Number(score),
      ...(fields.cdr ? { cdr: fields.cdr } : {}),
      ...(fields.released ? { released: Number(fields.released) } : {}),
    };
  }

  /** Only one process ends an orphan: the first to claim it (the claim lapses after `ttlMs`, for a reaper that dies meanwhile). */
  async claim(member: string, reaper: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.set(`${this.opts.namespace}:sip:reap:${member}`, reaper, 'PX', ttlMs, 'NX')) === 'OK';
  }

  async forget(member: string): Promise<void> {
    await this.drop(member);
  }
}

function parseLegs(json: string | undefined): CallLegs | undefined {
  if (!json) return undefined;
  try {
    const v = JSON.parse(json) as { server?: unknown; caller?: unknown; callee?: unknown };
    const caller = parseLegState(v.caller);
    // a leg on its own (a callback customer in the menu) has no callee
    const callee = v.callee === undefined ? undefined : parseLegState(v.callee);
    if (typeof v.server !== 'string' || !caller || (v.callee !== undefined && !callee)) return undefined;
    return { server: v.server, caller, ...(callee ? { callee } : {}) };
  } catch {
    return undefined;
  }
}
