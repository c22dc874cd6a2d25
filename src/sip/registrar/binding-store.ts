/**
 * Registrations (bindings) in Redis, per address of record (AOR, `user@realm`):
 *
 *   ns:sip:reg:{AOR}:b   hash        binding key → binding (JSON)
 *   ns:sip:reg:{AOR}:x   sorted set  binding key, scored by expiry time (ms)
 *
 * Both keys carry the AOR as hash tag, so one script updates them atomically in Redis Cluster.
 * Expiry is the injected clock compared with the score: an expired binding is never returned,
 * whatever Redis's own TTL (which only collects whole AORs nobody refreshes).
 *
 * One script applies a REGISTER (RFC 3261 §10.3 steps 6-8): drops expired bindings, refuses
 * the whole update when a binding with the same Call-ID has a CSeq not lower than the request's
 * (`out-of-order`), removes (`expires = 0`) or writes each contact, then enforces the contact
 * limit: `replace-oldest` (default) evicts the least recently refreshed bindings not written by
 * this request (a re-flashed phone or a new NAT mapping does not lock the user out), `reject`
 * refuses the update (`too-many`) and changes nothing.
 */
import type { RedisClient } from '../../common/redis-connection.ts';

export interface Binding {
  aor: string;
  /** Identity of the binding: the +sip.instance of the device (RFC 5626), else the normalised contact URI. */
  key: string;
  /** The Contact URI as the device sent it. */
  uri: string;
  /** Contact header parameters to echo back (without expires). */
  params: string[];
  /** When the binding lapses (ms since epoch). */
  expiresAt: number;
  callId: string;
  cseq: number;
  /** Where the REGISTER came from: send requests here for devices behind NAT. */
  source: { address: string; port: number; transport: string };
  userAgent: string | undefined;
  /** When the binding was last written (ms since epoch). */
  registeredAt: number;
  accountId: number;
}

export interface BindingUpdate {
  key: string;
  /** 0 removes the binding. */
  expiresAt: number;
  binding: Binding | undefined;
}

export type RegisterOutcome = { kind: 'ok'; bindings: Binding[] } | { kind: 'out-of-order' } | { kind: 'too-many' };

export type WhenFull = 'replace-oldest' | 'reject';

export interface BindingStoreOptions {
  namespace: string;
  now: () => number;
}

const SCRIPT = `
local now = tonumber(ARGV[1])
local callId = ARGV[2]
local cseq = tonumber(ARGV[3])
local maxContacts = tonumber(ARGV[4])
local whenFull = ARGV[5]
local mode = ARGV[6]
local n = tonumber(ARGV[7])

local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
for _, k in ipairs(expired) do redis.call('HDEL', KEYS[1], k) end
if #expired > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now) end

local function outOfOrder(json)
  if not json then return false end
  local b = cjson.decode(json)
  return b.callId == callId and cseq <= tonumber(b.cseq)
end

if mode == 'star' then
  local all = redis.call('HVALS', KEYS[1])
  for _, json in ipairs(all) do
    if outOfOrder(json) then return {'out-of-order'} end
  end
  redis.call('DEL', KEYS[1], KEYS[2])
  return {'ok'}
end

local count = redis.call('HLEN', KEYS[1])
for i = 0, n - 1 do
  local k = ARGV[8 + i * 3]
  local existing = redis.call('HGET', KEYS[1], k)
  if outOfOrder(existing) then return {'out-of-order'} end
  local exp = tonumber(ARGV[9 + i * 3])
  if existing and exp == 0 then count = count - 1 end
  if (not existing) and exp > 0 then count = count + 1 end
end
if count > maxContacts and whenFull == 'reject' then return {'too-many'} end

local written = {}
for i = 0, n - 1 do
  local k = ARGV[8 + i * 3]
  local exp = tonumber(ARGV[9 + i * 3])
  if exp == 0 then
    redis.call('HDEL', KEYS[1], k)
    redis.call('ZREM', KEYS[2], k)
  else
    redis.call('HSET', KEYS[1], k, ARGV[10 + i * 3])
    redis.call('ZADD', KEYS[2], exp, k)
    written[k] = true
  end
end

if count > maxContacts then
  local all = redis.call('HGETALL', KEYS[1])
  local candidates = {}
  for i = 1, #all, 2 do
    if not written[all[i]] then
      local b = cjson.decode(all[i + 1])
      table.insert(candidates, { k = all[i], at = tonumber(b.registeredAt), exp = tonumber(b.expiresAt) })
    end
  end
  table.sort(candidates, function(a, b)
    if a.at ~= b.at then return a.at < b.at end
    if a.exp ~= b.exp then return a.exp < b.exp end
    return a.k < b.k
  end)
  local excess = count - maxContacts
  for i = 1, math.min(excess, #candidates) do
    redis.call('HDEL', KEYS[1], candidates[i].k)
    redis.call('ZREM', KEYS[2], candidates[i].k)
  end
end

local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
if last[2] then
  local ttl = math.floor(tonumber(last[2]) - now) + 60000
  redis.call('PEXPIRE', KEYS[1], ttl)
  redis.call('PEXPIRE', KEYS[2], ttl)
end
local out = {'ok'}
for _, json in ipairs(redis.call('HVALS', KEYS[1])) do table.insert(out, json) end
return out
`;

type WithScript = RedisClient & { sipRegister(hash: string, index: string, ...args: string[]): Promise<string[]> };

export class BindingStore {
  private readonly redis: WithScript;

  constructor(
    redis: RedisClient,
    private readonly opts: BindingStoreOptions,
  ) {
    if (!('sipRegister' in redis)) redis.defineCommand('sipRegister', { numberOfKeys: 2, lua: SCRIPT });
    this.redis = redis as WithScript;
  }

  /** Applies one REGISTER's contacts atomically (see the file comment). */
  async register(
    aor: string,
    request: { callId: string; cseq: number },
    updates: readonly BindingUpdate[],
    limit: { maxContacts: number; whenFull: WhenFull },
  ): Promise<RegisterOutcome> {
    const args: string[] = [];
    for (const u of updates) args.push(u.key, String(u.expiresAt), u.expiresAt === 0 ? '' : JSON.stringify(u.binding));
    return this.run(aor, request, 'update', updates.length, limit, args);
  }

  /** `Contact: *` with `Expires: 0`: removes every binding of the AOR (unless one is out of order). */
  async removeAll(aor: string, request: { callId: string; cseq: number }): Promise<RegisterOutcome> {
    return this.run(aor, request, 'star', 0, { maxContacts: 0, whenFull: 'replace-oldest' }, []);
  }

  /** Drops every binding of an AOR at once, whatever its Call-ID and CSeq (erasure of the person, not a REGISTER). */
  async forget(aor: string): Promise<void> {
    await this.redis.del(this.hashKey(aor), this.indexKey(aor));
  }

  /** The live bindings of an AOR, soonest-expiring first. Expired ones are never returned. */
  async bindingsOf(aor: string): Promise<Binding[]> {
    const now = this.opts.now();
    const keys = await this.redis.zrangebyscore(this.indexKey(aor), `(${now}`, '+inf');
    if (keys.length === 0) return [];
    const values = await this.redis.hmget(this.hashKey(aor), ...keys);
    return values.flatMap((v) => (v === null ? [] : [JSON.parse(v) as Binding])).filter((b) => b.expiresAt > now);
  }

  private async run(
    aor: string,
    request: { callId: string; cseq: number },
    mode: 'update' | 'star',
    n: number,
    limit: { maxContacts: number; whenFull: WhenFull },
    args: string[],
  ): Promise<RegisterOutcome> {
    const r = await this.redis.sipRegister(
      this.hashKey(aor),
      this.indexKey(aor),
      String(this.opts.now()),
      request.callId,
      String(request.cseq),
      String(limit.maxContacts),
      limit.whenFull,
      mode,
      String(n),
      ...args,
    );
    if (r[0] === 'out-of-order') return { kind: 'out-of-order' };
    if (r[0] === 'too-many') return { kind: 'too-many' };
    const bindings = r
      .slice(1)
      .map((j) => JSON.parse(j) as Binding)
      .sort((a, b) => a.expiresAt - b.expiresAt);
    return { kind: 'ok', bindings };
  }

  private hashKey(aor: string): string {
    return `${this.opts.namespace}:sip:reg:{${aor}}:b`;
  }

  private indexKey(aor: string): string {
    return `${this.opts.namespace}:sip:reg:{${aor}}:x`;
  }
}
