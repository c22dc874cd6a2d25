/**
 * Diagnostic: Redis and node CPU µs per EVALSHA for one-purpose scripts (trivial, the common
 * prelude, and each kind of command the balance scripts use), 1,000 calls in flight on one
 * auto-pipelined connection. Usage: npx tsx scripts/bench/lib/script-cost.ts [calls=50000]
 */
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { processCpuSeconds, deleteNamespace } from './measure.ts';
const dir = new URL('../../../src/billing/balance/lua/', import.meta.url).pathname;
const COMMON = readFileSync(dir + 'common.lua', 'utf8');
const r = new Redis({ enableAutoPipelining: true });
const pid = Number(/process_id:(\d+)/.exec(await r.info('server'))![1]);
const ns = 'bench:var:' + Math.random().toString(16).slice(2);
const cdr = JSON.stringify({
  callId: 'x'.repeat(20),
  accountId: 1,
  kind: 'device',
  cli: '+447700900123',
  sourceIp: '192.0.2.10',
  accessNumber: null,
  device: 'bench-device',
  dialledNumber: '00441632960001',
  destination: '441632960001',
  startTime: 1,
  answerTime: 2,
  endTime: 3,
  durationMs: 60000,
  billedSeconds: 60,
  ratePrefix: '44',
  pricePerMinute: 5000,
  cost: 5000,
  currency: 'GBP',
  disposition: 'answered',
  sipCode: 200,
  sipReason: 'OK',
  carrier: 'bench-carrier',
});
const variants: Record<string, string> = {
  trivial: `return {'ok'}`,
  common_trivial: `${COMMON}\nreturn {'ok'}`,
  hmget9: `local v = redis.call('HMGET', KEYS[1], 'bal', 'rsv', 'floor', 'maxcalls', 'cap', 'status', 'calls', 'day', 'dayspent') return {'ok'}`,
  hincrby3: `redis.call('HINCRBY', KEYS[1], 'rsv', 5) redis.call('HINCRBY', KEYS[1], 'calls', 1) redis.call('HINCRBY', KEYS[1], 'bal', -5) return {'ok'}`,
  hset_call6: `redis.call('HSET', KEYS[2], 'acct', '1', 'rsv', '5', 'state', 'reserved', 'created', '1', 'deadline', '2', 'x', ARGV[1]) return {'ok'}`,
  expire: `redis.call('EXPIRE', KEYS[2], 604800) return {'ok'}`,
  zadd_zrem: `redis.call('ZADD', KEYS[3], 5, ARGV[1]) redis.call('ZREM', KEYS[3], ARGV[1]) return {'ok'}`,
  xadd_cdr: `redis.call('XADD', KEYS[4], '*', 'id', 'call:' .. ARGV[1], 'type', 'call', 'acct', '1', 'amount', '-5', 'bal', '100', 'ref', ARGV[1], 'ts', '1', 'unrec', '0', 'cdr', ARGV[2]) return {'ok'}`,
  xadd_small: `redis.call('XADD', KEYS[4], '*', 'id', 'call:' .. ARGV[1], 'type', 'call', 'acct', '1', 'amount', '-5', 'bal', '100', 'ref', ARGV[1], 'ts', '1', 'unrec', '0') return {'ok'}`,
};
const N = Number(process.argv[2] ?? 50000);
for (const [name, body] of Object.entries(variants)) {
  r.defineCommand('v_' + name, { numberOfKeys: 4, lua: body });
  const fn = (r as unknown as Record<string, (...x: string[]) => Promise<unknown>>)['v_' + name]!.bind(r);
  const k = (i: number) => [`${ns}:{s${i % 16}}:acct:${i % 1000}`, `${ns}:{s${i % 16}}:call:c${i}`, `${ns}:{s${i % 16}}:open`, `${ns}:{s${i % 16}}:events`];
  await fn(...k(0), 'w', cdr);
  const c0 = processCpuSeconds(pid)!;
  const t0 = performance.now();
  const u0 = process.cpuUsage();
  let next = 0;
  await Promise.all(
    Array.from({ length: 1000 }, async () => {
      for (;;) {
        const i = next++;
        if (i >= N) return;
        await fn(...k(i), 'c' + i, cdr);
      }
    }),
  );
  const wall = (performance.now() - t0) / 1000;
  const c1 = processCpuSeconds(pid)!;
  const u = process.cpuUsage(u0);
  console.log(
    name.padEnd(16),
    'redis cpu µs/call',
    (((c1 - c0) * 1e6) / N).toFixed(1),
    ' node µs/call',
    ((u.user + u.system) / N).toFixed(1),
    ' calls/s',
    Math.round(N / wall),
  );
}
await deleteNamespace(r, ns);
r.disconnect();
