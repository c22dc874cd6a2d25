import client from 'prom-client';

/**
 * What the metrics read of a call. Declared here, not imported from the SIP app, so observability does not
 * depend on the app that depends on it: the app's `CallEvents` accepts this (its calls carry more).
 */
export interface ObservedCall {
  readonly facts: { readonly kind: string };
  readonly disposition: string;
  readonly sipReason: string | null;
}

/** The SIP app's events the metrics count (a subset of its `CallEvents`). */
export interface MetricEvents {
  invite(): void;
  authFailure(): void;
  wrongPin(): void;
  pinBudgetExhausted(e: { budget: string }): void;
  pinBudgetRefusal(e: { budget: string }): void;
  answered(call: ObservedCall): void;
  settled(call: ObservedCall, result: unknown): void;
  gatewayAttempt(e: { gatewayId: number; carrierId: string; result: string; status: number; postDialDelayMs?: number }): void;
  gatewayCallEnded(e: { gatewayId: number; carrierId: string; seconds: number }): void;
  recording(e: { outcome: string }): void;
}

/**
 * Prometheus metrics of the SIP application process (served at /metrics on its HTTP port):
 * INVITEs (rate() of it is calls per second), calls answered and finished by disposition,
 * refusals by reason (no credit, daily cap, limits, blocklist…), SIP authentication failures,
 * wrong PINs at access numbers and the wrong-PIN budgets running out (the PIN-guessing alert),
 * calls in progress, and the process's own figures. The account API has its own (HTTP latency,
 * ledger-writer lag).
 */
export function createSipMetrics(callsInProgress: () => number) {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: 'softswitch_sip_' });
  const invites = new client.Counter({
    name: 'softswitch_sip_invites_total',
    help: 'INVITEs that reached the app (new calls and challenges)',
    registers: [registry],
  });
  const answered = new client.Counter({ name: 'softswitch_calls_answered_total', help: 'calls answered', labelNames: ['kind'], registers: [registry] });
  const finished = new client.Counter({
    name: 'softswitch_calls_finished_total',
    help: 'calls settled, by disposition',
    labelNames: ['kind', 'disposition'],
    registers: [registry],
  });
  const refused = new client.Counter({
    name: 'softswitch_calls_refused_total',
    help: 'calls refused before they rang (reservation and screening refusals), by SIP reason',
    labelNames: ['reason'],
    registers: [registry],
  });
  const authFailures = new client.Counter({ name: 'softswitch_sip_auth_failures_total', help: 'SIP digest authentication failures', registers: [registry] });
  const wrongPins = new client.Counter({ name: 'softswitch_ivr_wrong_pins_total', help: 'wrong PINs keyed at access numbers', registers: [registry] });
  const budgetSpent = new client.Counter({
    name: 'softswitch_ivr_pin_budget_exhausted_total',
    help: 'times a wrong-PIN budget was spent (alert on any increase: likely PIN guessing)',
    labelNames: ['budget'],
    registers: [registry],
  });
  const budgetRefusals = new client.Counter({
    name: 'softswitch_ivr_pin_budget_refusals_total',
    help: 'access-number callers refused PIN login because a wrong-PIN budget is spent',
    labelNames: ['budget'],
    registers: [registry],
  });
  const billed = new client.Counter({ name: 'softswitch_billed_micros_total', help: 'money charged for calls, micro-units', registers: [registry] });
  const promptsMissing = new client.Counter({
    name: 'softswitch_media_prompts_missing_total',
    help: 'prompts the media server could not play (file missing where it looks; alert on any increase)',
    labelNames: ['server'],
    registers: [registry],
  });
  new client.Gauge({
    name: 'softswitch_sip_calls_in_progress',
    help: 'calls this SIP app process is handling',
    registers: [registry],
    collect() {
      this.set(callsInProgress());
    },
  });
  // per gateway: ASR = answered / attempts, ACD = answered seconds / answered, post-dial delay, failures by status
  const gwLabels = ['carrier', 'gateway'];
  const gwAttempts = new client.Counter({
    name: 'softswitch_gateway_attempts_total',
    help: 'outbound attempts per gateway by result (answered, failed, no_answer, cancelled)',
    labelNames: [...gwLabels, 'result'],
    registers: [registry],
  });
  const gwFailures = new client.Counter({
    name: 'softswitch_gateway_failures_total',
    help: 'failed outbound attempts per gateway by final SIP status (408 includes no response at all)',
    labelNames: [...gwLabels, 'status'],
    registers: [registry],
  });
  const gwPdd = new client.Histogram({
    name: 'softswitch_gateway_post_dial_delay_seconds',
    help: 'INVITE sent to the gateway until it rang (180/183) or answered',
    labelNames: gwLabels,
    buckets: [0.25, 0.5, 1, 2, 3, 5, 8, 13, 20, 30],
    registers: [registry],
  });
  const gwSeconds = new client.Counter({
    name: 'softswitch_gateway_answered_seconds_total',
    help: 'seconds of answered calls per gateway (ACD = this / attempts{result="answered"})',
    labelNames: gwLabels,
    registers: [registry],
  });
  const recordings = new client.Counter({
    name: 'softswitch_call_recordings_total',
    help: 'call recordings by outcome: stored, or failed (not started, not stored: the call went on unrecorded; alert on any increase)',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const events: MetricEvents = {
    recording: (e) => recordings.inc({ outcome: e.outcome }),
    gatewayAttempt: (e) => {
      const l = { carrier: e.carrierId, gateway: String(e.gatewayId) };
      gwAttempts.inc({ ...l, result: e.result });
      if (e.result === 'failed') gwFailures.inc({ ...l, status: String(e.status) });
      if (e.postDialDelayMs !== undefined) gwPdd.observe(l, e.postDialDelayMs / 1000);
    },
    gatewayCallEnded: (e) => gwSeconds.inc({ carrier: e.carrierId, gateway: String(e.gatewayId) }, e.seconds),
    invite: () => invites.inc(),
    authFailure: () => authFailures.inc(),
    wrongPin: () => wrongPins.inc(),
    pinBudgetExhausted: (e) => budgetSpent.inc({ budget: e.budget }),
    pinBudgetRefusal: (e) => budgetRefusals.inc({ budget: e.budget }),
    answered: (c) => answered.inc({ kind: c.facts.kind }),
    settled: (c, r) => {
      finished.inc({ kind: c.facts.kind, disposition: c.disposition });
      if (c.disposition === 'refused') refused.inc({ reason: c.sipReason ?? 'unknown' });
      const debited = (r as { debited?: unknown } | undefined)?.debited;
      if (typeof debited === 'number' && debited > 0) billed.inc(debited);
    },
  };
  return { registry, events, promptMissing: (server: string) => promptsMissing.inc({ server }) };
}
