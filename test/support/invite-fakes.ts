/**
 * Plain fakes of an INVITE and its response for the INVITE middleware's unit tests: the request
 * answers get() from a header table, the response records what was sent, and `runStep` resolves
 * with how a middleware left the INVITE (passed on, answered, or finished without an answer).
 */
import pino from 'pino';
import { openInvite } from '../../src/sip/invite/invite-context.ts';
import type { InviteContext, InviteRequest, InviteResponse } from '../../src/sip/invite/invite-context.ts';
import type { SipMiddleware } from '../../src/sip/sip-types.ts';

export const silentLog = pino({ level: 'silent' });

export interface Sent {
  status: number;
  reason: string | undefined;
  headers: Record<string, string> | undefined;
}

/** An INVITE from a device (Call-ID `call-1@device` unless `headers` says otherwise; undefined removes a header). */
export function fakeInvite(over: { uri?: string; source?: string; headers?: Record<string, string | undefined> } = {}): InviteRequest {
  const headers = new Map(
    Object.entries({ 'call-id': 'call-1@device', ...over.headers })
      .filter((e): e is [string, string] => e[1] !== undefined)
      .map(([k, v]) => [k.toLowerCase(), v]),
  );
  return {
    method: 'INVITE',
    uri: over.uri ?? 'sip:441632960001@switch.test',
    source_address: over.source ?? '192.0.2.10',
    source_port: 5060,
    protocol: 'udp',
    get: (name: string) => headers.get(name.toLowerCase()),
    on: () => undefined,
    removeAllListeners: () => undefined,
  };
}

export function fakeResponse(): InviteResponse & { sent: Sent[] } {
  const sent: Sent[] = [];
  return {
    sent,
    send: (status, reason, opts) => {
      sent.push({ status, reason, headers: opts?.headers });
    },
  };
}

export type StepOutcome = 'next' | 'answered' | 'finished';

/**
 * Opens the INVITE's context (as the admission step does) and runs `mw`: resolves 'next' when it
 * passed the INVITE on, 'answered' when it ended the INVITE's handling having sent a final
 * response, 'finished' when it ended it without one (handed to a call flow).
 */
export function runStep(
  mw: SipMiddleware,
  req: InviteRequest,
  res: InviteResponse & { sent: Sent[] },
  context: Partial<InviteContext> = {},
): Promise<{ outcome: StepOutcome; context: InviteContext }> {
  return new Promise((resolve) => {
    // a failure ends the handling just before it is answered (dependency-failure.ts): look after both
    const ended = () => {
      setImmediate(() => resolve({ outcome: res.sent.length > 0 ? 'answered' : 'finished', context: ctx }));
    };
    const ctx: InviteContext = Object.assign(openInvite(req, 0, ended), context);
    mw(req, res, (err?: unknown) => {
      if (err === undefined) resolve({ outcome: 'next', context: ctx });
    });
  });
}
