import type { CdrRecord, IvrSessionRecord } from '../billing/balance/balance-store.ts';

/** One event as the balance scripts append it to a shard stream (see src/billing/balance/lua). */
export interface LedgerEvent {
  streamId: string;
  stream: string;
  eventId: string; // kind:key, globally unique, the idempotency key in Postgres
  type: 'call' | 'topup' | 'adjust' | 'cdr' | 'ivr_session';
  accountId: number | null;
  amount: number; // signed change to the balance, micro-units
  balanceAfter: number;
  reference: string;
  occurredAt: number; // epoch ms
  unrecovered: number;
  provider: string;
  providerReference: string;
  reason: string;
  cdr: CdrRecord | null;
  /** An access-number session's record (type ivr_session). */
  session: IvrSessionRecord | null;
}

export class MalformedEventError extends Error {}

const TYPES = new Set(['call', 'topup', 'adjust', 'cdr', 'ivr_session']);

function intField(f: Map<string, string>, name: string, required = true): number {
  const v = f.get(name);
  if (v === undefined || v === '') {
    if (required) throw new MalformedEventError(`field ${name} missing`);
    return 0;
  }
  if (!/^-?\d{1,16}$/.test(v)) throw new MalformedEventError(`field ${name} is not an integer: ${v}`);
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new MalformedEventError(`field ${name} out of range`);
  return n;
}

/** Decodes a stream entry's flat field list. Throws MalformedEventError on anything unexpected. */
export function decodeEvent(stream: string, streamId: string, flat: string[]): LedgerEvent {
  const f = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) f.set(flat[i]!, flat[i + 1]!);
  const type = f.get('type') ?? '';
  if (!TYPES.has(type)) throw new MalformedEventError(`unknown event type ${type}`);
  const eventId = f.get('id');
  if (!eventId) throw new MalformedEventError('field id missing');
  const acct = f.get('acct') ?? '';
  let cdr: CdrRecord | null = null;
  const cdrJson = f.get('cdr');
  if (cdrJson !== undefined) {
    try {
      cdr = JSON.parse(cdrJson) as CdrRecord;
    } catch {
      throw new MalformedEventError('cdr is not JSON');
    }
    if (typeof cdr.callId !== 'string' || !Number.isFinite(cdr.startTime) || !Number.isFinite(cdr.endTime)) {
      throw new MalformedEventError('cdr lacks callId/startTime/endTime');
    }
  }
  let session: IvrSessionRecord | null = null;
  const sessionJson = f.get('session');
  if (sessionJson !== undefined && sessionJson !== '') {
    try {
      session = JSON.parse(sessionJson) as IvrSessionRecord;
    } catch {
      throw new MalformedEventError('session is not JSON');
    }
    if (
      typeof session.callId !== 'string' ||
      typeof session.accessNumber !== 'string' ||
      !Number.isFinite(session.startTime) ||
      !Number.isFinite(session.endTime)
    ) {
      throw new MalformedEventError('session lacks callId/accessNumber/startTime/endTime');
    }
  }
  if (type === 'ivr_session' && session === null) throw new MalformedEventError('ivr_session without session');
  return {
    streamId,
    stream,
    eventId,
    type: type as LedgerEvent['type'],
    accountId: acct === '' ? null : intField(f, 'acct'),
    amount: intField(f, 'amount'),
    balanceAfter: intField(f, 'bal'),
    reference: f.get('ref') ?? '',
    occurredAt: intField(f, 'ts'),
    unrecovered: intField(f, 'unrec', false),
    provider: f.get('provider') ?? '',
    providerReference: f.get('pref') ?? '',
    reason: f.get('reason') ?? '',
    cdr,
    session,
  };
}
