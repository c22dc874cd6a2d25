/**
 * The API benchmark's reference: a bare Fastify server whose one route does one ioredis GET and
 * returns it as JSON; nothing else (no auth, no rate limit, no schema, logging off). Prints
 * `{"port":N,"pid":P}` per worker once listening. Environment: REDIS_URL, BARE_KEY (the key read),
 * BARE_PROCESSES (node:cluster workers on one port, default 1).
 *   node --import tsx scripts/bench/lib/bare-fastify.ts
 */
import cluster from 'node:cluster';
import Fastify from 'fastify';
import { Redis } from 'ioredis';

const processes = Number(process.env.BARE_PROCESSES ?? 1);
if (processes > 1 && cluster.isPrimary) {
  for (let i = 0; i < processes; i++) cluster.fork();
  process.once('SIGTERM', () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
    process.exit(0);
  });
} else {
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const key = process.env.BARE_KEY ?? 'bench:bare';
  const app = Fastify({ logger: false });
  app.get('/v1/accounts/:accountId/balance', async () => ({ value: await redis.get(key) }));
  await app.listen({ host: '127.0.0.1', port: Number(process.env.BARE_PORT ?? 0) });
  const address = app.server.address();
  process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0, pid: process.pid })}\n`);
  process.once('SIGTERM', () => {
    void app.close().then(() => {
      redis.disconnect();
      process.exit(0);
    });
  });
}
