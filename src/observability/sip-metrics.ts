import client from 'prom-client';
import type { CallEvents } from '../sip/sip-app.ts';

/**
 * Prometheus metrics of the SIP application process (served at /metrics on its HTTP port):
 * INVITEs (rate() of it is calls per second), calls answered and finished by disposition,
 * refusals by reason (no credit, daily cap, limits, blocklist…), SIP authentication failures,
 * calls in progress, and the process's own figures. The account API has its own (HTTP latency,
 * ledger-writer lag).
 */
export function createSipMetrics(callsInProgress: () => number) {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: 'softswitch_sip_' });
  const invites = new client.Counter({ name: 'softswitch_sip_invites_total', help: 'INVITEs that reached the app (new calls and challenges)', registers: [registry] });
  const answered = new client.Counter({ name: 'softswitch_calls_answered_total', help: 'calls answered', labelNames: ['kind'], registers: [registry] });
  const finished = new client.Counter({ name: 'softswitch_calls_finished_total', help: 'calls settled, by disposition', labelNames: ['kind', 'disposition'], registers: [registry] });
  const refused = new client.Counter({ name: 'softswitch_calls_refused_total', help: 'calls refused before they rang (reservation and screening refusals), by SIP reason', labelNames: ['reason'], registers: [registry] });
  const authFailures = new client.Counter({ name: 'softswitch_sip_auth_failures_total', help: 'SIP digest authentication failures', registers: [registry] });
  const billed = new client.Counter({ name: 'softswitch_billed_micros_total', help: 'money charged for calls, micro-units', registers: [registry] });
  new client.Gauge({ name: 'softswitch_sip_calls_in_progress', help: 'calls this SIP app process is handling', registers: [registry], collect() { this.set(callsInProgress()); } });
  const events: CallEvents = {
    invite: () => invites.inc(),
    authFailure: () => authFailures.inc(),
    answered: (c) => answered.inc({ kind: c.facts.kind }),
    settled: (c, r) => {
      finished.inc({ kind: c.facts.kind, disposition: c.disposition });
      if (c.disposition === 'refused') refused.inc({ reason: c.sipReason ?? 'unknown' });
      const debited = (r as { debited?: unknown } | undefined)?.debited;
      if (typeof debited === 'number' && debited > 0) billed.inc(debited);
    },
  };
  return { registry, events };
}
