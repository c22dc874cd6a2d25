/**
 * One SIP app process's routing caches, alone in a process of its own (for the change-notice
 * tests): carriers (60 s cache, so only a notice explains a quick change), the blocklist,
 * access numbers and DIDs, subscribed to the change notices. Driven over stdin, one JSON line per
 * question, one JSON line per answer:
 *   {"q":"carriers","destination":"44…"} → {"carriers":["carrier-b",…]} (the route plan's carriers, in order)
 *   {"q":"blocked","destination":"…"}   → {"blocked":true}
 *   {"q":"access","number":"+44…"}       → {"access":true}
 * Prints {"ready":true} once subscribed. argv: schema, namespace, database URL, Redis URL.
 */
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import pino from 'pino';
import { TariffRepository } from '../../src/billing/tariff-repository.ts';
import { createPool } from '../../src/db/pool.ts';
import { Blocklist } from '../../src/sip/routing/blocklist.ts';
import { CarrierRepository } from '../../src/sip/routing/carrier-repository.ts';
import { NumberDirectory } from '../../src/sip/routing/number-directory.ts';
import { planRoutes } from '../../src/sip/routing/route-plan.ts';
import { listenForRoutingChanges } from '../../src/sip/routing/routing-changes.ts';

const [schema, namespace, databaseUrl, redisUrl] = process.argv.slice(2) as [string, string, string, string];
const pool = createPool(databaseUrl, schema, 2);
const tariffs = new TariffRepository(pool, 60_000);
const carriers = new CarrierRepository(pool, tariffs, 60_000);
const blocklist = new Blocklist(pool, 60_000);
const numbers = new NumberDirectory(pool, { cacheMs: 60_000 });
const subscriber = new Redis(redisUrl, { maxRetriesPerRequest: 2 });
await listenForRoutingChanges(subscriber, namespace, { carriers, blocklist, numbers, tariffs }, pino({ level: 'silent' }));

const say = (v: unknown) => process.stdout.write(`${JSON.stringify(v)}\n`);
say({ ready: true });
for await (const line of createInterface({ input: process.stdin })) {
  const m = JSON.parse(line) as { q: string; destination?: string; number?: string };
  if (m.q === 'carriers') say({ carriers: [...new Set(planRoutes(await carriers.carriers(), m.destination!, 'least_cost').map((r) => r.carrierId))] });
  else if (m.q === 'blocked') say({ blocked: await blocklist.isBlocked(m.destination!) });
  else if (m.q === 'access') say({ access: (await numbers.accessNumber(m.number!)) !== undefined });
}
subscriber.disconnect();
await pool.end();
