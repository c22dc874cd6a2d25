/**
 * Calls in progress, read from the open-call index of each balance shard (the same view as the
 * API's GET /v1/calls), and the hang-up command published to the SIP applications.
 */
import type { Redis } from 'ioredis';
import type { BalanceKeys } from '../billing/balance/keys.ts';
import { parseOpenCallMember } from '../billing/balance/keys.ts';
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

const iso = (v: string | null | undefined) => (v ? new Date(Number(v)).toISOString() : null);

export async function listLiveCalls(redis: Redis, keys: BalanceKeys, accountId?: number): Promise<LiveCall[]> {
  const shards = accountId === undefined ? Array.from({ length: keys.shards }, (_, i) => i) : [keys.shardOf(accountId)];
  const out: LiveCall[] = [];
  for (const shard of shards) {
    const members = await redis.zrange(keys.openCalls(shard), '0', '-1');
    if (members.length === 0) continue;
    const p = redis.pipeline();
    for (const member of members) p.hmget(keys.callInShard(shard, member), 'acct', 'rsv', 'state', 'created', 'deadline', 'answered');
    const rows = (await p.exec()) ?? [];
    members.forEach((member, i) => {
      const v = rows[i]?.[1] as (string | null)[] | undefined;
      if (!v || v[2] === null) return;
      const acct = v[0] == null ? null : Number(v[0]);
      if (accountId !== undefined && acct !== accountId) return;
      out.push({
        callId: parseOpenCallMember(member)?.callId ?? member, accountId: acct, state: v[2] ?? 'unknown', reserved: Number(v[1] ?? 0),
        answered: v[5] != null, startedAt: iso(v[3]), reservedUntil: iso(v[4]),
      });
    });
  }
  return out.sort((a, b) => (a.startedAt ?? '').localeCompare(b.startedAt ?? ''));
}

/** Publishes a hang-up; returns how many SIP application processes received it. */
export async function publishHangup(redis: Redis, namespace: string, call: { callId: string; accountId: number | null }, requestedBy: string): Promise<number> {
  const command: HangupCommand = { op: 'hangup', callId: call.callId, accountId: call.accountId, requestedBy, at: Date.now() };
  return redis.publish(sipCommandsChannel(namespace), JSON.stringify(command));
}
