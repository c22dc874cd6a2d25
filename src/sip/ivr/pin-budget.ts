import { randomBytes } from 'node:crypto';
import type { RedisClient } from '../../common/redis-connection.ts';

/**
 * Wrong-PIN budgets that a caller cannot rotate away: one per access number and one per carrier
 * source address (the carrier's SBC the call came from), each a sliding window in Redis.
 *
 * A PIN attempt first *takes* one unit from both budgets, in one Lua script, before the PIN is
 * looked up: if either budget is spent, nothing is taken and the PIN is not checked at all. A
 * right PIN gives its unit back (`giveBack`), so the budgets count wrong PINs (and attempts in
 * flight). Counting before checking means parallel calls cannot slip past the limit: Redis runs
 * scripts one at a time, so at most `limit` attempts are inside a window whatever the concurrency.
 *
 * Each budget is a sorted set of attempts scored by time; entries older than the window are
 * removed on every use. Both sets share one hash tag, so the script touches one slot (Redis
 * Cluster); the sets are small (at most `limit` members each) and exist only for access numbers
 * and trusted carrier addresses, which the operator configures.
 */
const TAKE = `
local now = tonumber(ARGV[1])
local oldest = now - tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', oldest)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', oldest)
local an = redis.call('ZCARD', KEYS[1])
local src = redis.call('ZCARD', KEYS[2])
if an >= tonumber(ARGV[3]) then return {1, an, src} end
if src >= tonumber(ARGV[4]) then return {2, an, src} end
if ARGV[5] == '' then return {0, an, src} end
redis.call('ZADD', KEYS[1], now, ARGV[5])
redis.call('ZADD', KEYS[2], now, ARGV[5])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return {0, an + 1, src + 1}`;

const GIVE_BACK = `
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 0`;

export type PinBudgetName = 'access_number' | 'source';

export interface PinBudgetOptions {
  namespace: string;
  /** Wrong PINs per access number within the window. */
  perAccessNumber: number;
  /** Wrong PINs per carrier source address within the window. */
  perSource: number;
  windowMs: number;
  now?: () => number;
}

/** Where the attempt comes from: the access number dialled and the carrier address it arrived from. */
export interface PinAttemptOrigin {
  accessNumber: string;
  sourceIp: string;
}

export type PinBudgetTake =
  { ok: true; ticket: string; /** this attempt spent the last unit of these budgets */ nowSpent: PinBudgetName[] } | { ok: false; spent: PinBudgetName };

export class PinBudget {
  private readonly now: () => number;

  constructor(
    private readonly redis: RedisClient,
    private readonly o: PinBudgetOptions,
  ) {
    this.now = o.now ?? Date.now;
  }

  private keys(origin: PinAttemptOrigin): [string, string] {
    const base = `${this.o.namespace}:{ivrpin:budget}`;
    return [`${base}:an:${origin.accessNumber}`, `${base}:src:${origin.sourceIp}`];
  }

  private async run(origin: PinAttemptOrigin, member: string): Promise<[number, number, number]> {
    const [an, src] = this.keys(origin);
    const r = (await this.redis.eval(TAKE, 2, an, src, this.now(), this.o.windowMs, this.o.perAccessNumber, this.o.perSource, member)) as [
      number,
      number,
      number,
    ];
    return r;
  }

  /** Which budget is spent, if any (takes nothing). */
  async spent(origin: PinAttemptOrigin): Promise<PinBudgetName | undefined> {
    const [status] = await this.run(origin, '');
    return status === 1 ? 'access_number' : status === 2 ? 'source' : undefined;
  }

  /** Takes one unit from both budgets, or nothing when either is spent. */
  async take(origin: PinAttemptOrigin): Promise<PinBudgetTake> {
    const ticket = `${this.now()}:${randomBytes(6).toString('hex')}`;
    const [status, an, src] = await this.run(origin, ticket);
    if (status === 1) return { ok: false, spent: 'access_number' };
    if (status === 2) return { ok: false, spent: 'source' };
    const nowSpent: PinBudgetName[] = [];
    if (an >= this.o.perAccessNumber) nowSpent.push('access_number');
    if (src >= this.o.perSource) nowSpent.push('source');
    return { ok: true, ticket, nowSpent };
  }

  /** A right PIN: the unit its attempt took goes back to both budgets. */
  async giveBack(origin: PinAttemptOrigin, ticket: string): Promise<void> {
    const [an, src] = this.keys(origin);
    await this.redis.eval(GIVE_BACK, 2, an, src, ticket);
  }
}
