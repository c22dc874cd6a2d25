import { describe, expect, it } from 'vitest';
import { createSipMetrics } from '../../src/observability/sip-metrics.ts';
import type { PrepaidCall } from '../../src/sip/call/prepaid-call.ts';

const call = (kind: string, disposition: string, sipReason: string | null = null) => ({ facts: { kind }, disposition, sipReason }) as unknown as PrepaidCall;

describe('SIP application metrics', () => {
  it('count INVITEs, answers, finished and refused calls by reason, auth failures, money billed, and calls in progress', async () => {
    let inProgress = 3;
    const m = createSipMetrics(() => inProgress);
    for (let i = 0; i < 5; i++) m.events.invite!();
    m.events.authFailure!();
    m.events.answered!(call('device', 'answered'));
    m.events.settled!(call('device', 'answered'), { ok: true, debited: 15_000 });
    m.events.settled!(call('device', 'refused', 'Insufficient Credit'), { ok: true, debited: 0 });
    m.events.settled!(call('access_number', 'credit_exhausted'), { ok: true, debited: 9_000 });
    inProgress = 2;
    const text = await m.registry.metrics();
    expect(text).toContain('softswitch_sip_invites_total 5');
    expect(text).toContain('softswitch_sip_auth_failures_total 1');
    expect(text).toContain('softswitch_calls_answered_total{kind="device"} 1');
    expect(text).toContain('softswitch_calls_finished_total{kind="device",disposition="refused"} 1');
    expect(text).toContain('softswitch_calls_finished_total{kind="access_number",disposition="credit_exhausted"} 1');
    expect(text).toContain('softswitch_calls_refused_total{reason="Insufficient Credit"} 1');
    expect(text).toContain('softswitch_billed_micros_total 24000');
    expect(text).toContain('softswitch_sip_calls_in_progress 2');
  });

  it('count prompts the media server could not play, by server', async () => {
    const m = createSipMetrics(() => 0);
    m.promptMissing('freeswitch');
    m.promptMissing('freeswitch');
    m.promptMissing('embedded');
    const text = await m.registry.metrics();
    expect(text).toContain('softswitch_media_prompts_missing_total{server="freeswitch"} 2');
    expect(text).toContain('softswitch_media_prompts_missing_total{server="embedded"} 1');
  });
});
