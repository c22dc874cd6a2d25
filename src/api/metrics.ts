import client from 'prom-client';
import type { ApiContext } from './api-context.ts';

/**
 * Prometheus metrics of the API process. HTTP latency is measured here; the call and ledger
 * figures are read from Redis at scrape time (they are shared state, the same whichever API
 * process is scraped): calls in progress from the open-call indexes, ledger-writer lag as the
 * events not yet written to Postgres (the shard streams hold exactly those) and the age of the
 * oldest, and the dead letters. Counters only the SIP process sees (calls per second, SIP
 * authentication failures, reservation refusals) belong to that process's own registry.
 */
export interface ApiMetrics {
  registry: client.Registry;
  httpDuration: client.Histogram<'method' | 'route' | 'status'>;
}

export function createMetrics(ctx: ApiContext): ApiMetrics {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: 'softswitch_api_' });
  const keys = ctx.balances.keys;
  const httpDuration = new client.Histogram({
    name: 'softswitch_http_request_duration_seconds',
    help: 'HTTP request latency of the account API',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  new client.Gauge({
    name: 'softswitch_calls_in_progress',
    help: 'calls holding a credit reservation (all SIP app instances)',
    registers: [registry],
    async collect() {
      // one ZCARD per shard, sent together (each shard is a cluster slot of its own: no pipeline)
      const r = await Promise.all(Array.from({ length: keys.shards }, (_, s) => ctx.redis.zcard(keys.openCalls(s))));
      this.set(r.reduce((n, v) => n + v, 0));
    },
  });
  new client.Gauge({
    name: 'softswitch_ledger_pending_events',
    help: 'balance events not yet written to Postgres (ledger-writer lag)',
    registers: [registry],
    async collect() {
      this.set((await ctx.ledgerBacklog.figures()).pendingEvents);
    },
  });
  new client.Gauge({
    name: 'softswitch_ledger_lag_seconds',
    help: 'age of the oldest balance event not yet written to Postgres',
    registers: [registry],
    async collect() {
      this.set((await ctx.ledgerBacklog.figures()).lagSeconds);
    },
  });
  new client.Gauge({
    name: 'softswitch_ledger_dead_letters',
    help: 'events Postgres refused, kept in the dead-letter stream',
    registers: [registry],
    async collect() {
      this.set(await ctx.ledgerBacklog.deadLetters());
    },
  });
  new client.Gauge({
    name: 'softswitch_retention_last_run_timestamp_seconds',
    help: 'when the last scheduled retention run started (0: never)',
    labelNames: ['outcome'] as const,
    registers: [registry],
    async collect() {
      const last = await ctx.lastRetentionRun();
      this.reset();
      if (last !== undefined) this.set({ outcome: last.ok ? 'ok' : 'failed' }, last.at / 1000);
    },
  });
  const charges = new client.Counter({
    name: 'softswitch_auto_topup_charges_total',
    help: 'auto top-up charge attempts made by this process, by result (declined, invalid_token: auto top-up turned off)',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  ctx.autoTopUp.observe((result) => charges.inc({ result }));
  new client.Gauge({
    name: 'softswitch_mail_outbox_messages',
    help: 'mails in the outbox by status (queued: waiting or being retried; failed: given up, see the console)',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      const f = await ctx.outbox.figures();
      for (const status of ['queued', 'sent', 'failed'] as const) this.set({ status }, f[status]);
    },
  });
  new client.Gauge({
    name: 'softswitch_mail_outbox_oldest_queued_seconds',
    help: 'age of the oldest mail still waiting to be sent (a mail server outage shows here)',
    registers: [registry],
    async collect() {
      this.set((await ctx.outbox.figures()).oldestQueuedSeconds);
    },
  });
  return { registry, httpDuration };
}
