/**
 * Calls in progress, read from the open-call index of each balance shard (the same view as the
 * API's GET /v1/calls), and the hang-up command published to the SIP applications; the API
 * and the CLI both read and end calls through here.
 */
import type { RedisClient } from '../common/redis-connection.ts';
import type { BalanceStore } from '../billing/balance/balance-store.ts';
import { sipCommandsChannel } from '../sip/sip-commands.ts';
import type { HangupCommand } from '../sip/sip-commands.ts';

export interface LiveCall {
  callId: string;
  accountId: number | null;
  state: string;
  reserved: number;
  answered: boolean;
  startedAt: string | null;
  reservedUntil: string | null;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export async function listLiveCalls(store: BalanceStore, accountId?: number): Promise<LiveCall[]> {
  return (await store.listOpenCalls(accountId)).map((c) => ({
    callId: c.callId,
    accountId: c.accountId,
    state: c.state,
    reserved: c.reserved,
    answered: c.answeredAt !== null,
    startedAt: iso(c.createdAt),
    reservedUntil: iso(c.deadline),
  }));
}

/** Publishes a hang-up; returns how many SIP application processes received it. */
export async function publishHangup(
  redis: RedisClient,
  namespace: string,
  call: { callId: string; accountId: number | null },
  requestedBy: string,
): Promise<number> {
  const command: HangupCommand = { op: 'hangup', callId: call.callId, accountId: call.accountId, requestedBy, at: Date.now() };
  return redis.publish(sipCommandsChannel(namespace), JSON.stringify(command));
}

/** Calls in progress and hanging one up, as the API and the CLI offer them. */
export class LiveCalls {
  constructor(
    private readonly balances: BalanceStore,
    private readonly redis: RedisClient,
    private readonly namespace: string,
  ) {}

  list(accountId?: number): Promise<LiveCall[]> {
    return listLiveCalls(this.balances, accountId);
  }

  /** Asks the SIP application holding the call to end it; returns how many SIP application processes received the command. */
  hangup(call: { callId: string; accountId: number | null }, requestedBy: string): Promise<number> {
    return publishHangup(this.redis, this.namespace, call, requestedBy);
  }
}
