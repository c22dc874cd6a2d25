/**
 * Operator changes to reference data pushed to every app process at once (Redis pub/sub): the
 * process that wrote the change publishes a notice, every SIP app process drops the cached
 * copies it concerns, so the very next call reads the new data. The caches' TTL stays as the
 * backstop for a notice that was lost (a subscriber that was disconnected clears everything when
 * it connects again).
 */
import type { RedisClient } from './redis-connection.ts';

export const CHANGE_TOPICS = ['carriers', 'gateways', 'tariffs', 'blocklist', 'access_numbers', 'dids'] as const;
export type ChangeTopic = (typeof CHANGE_TOPICS)[number];

export function changesChannel(namespace: string): string {
  return `${namespace}:changes`;
}

/** A notice as sent on the channel; `key` names the one entry changed (a tariff id, a number) when there is one. */
export interface ChangeNotice {
  topic: ChangeTopic;
  key?: string;
}

export function parseChangeNotice(message: string): ChangeNotice | undefined {
  try {
    const v = JSON.parse(message) as { topic?: unknown; key?: unknown };
    if (typeof v.topic !== 'string' || !(CHANGE_TOPICS as readonly string[]).includes(v.topic)) return undefined;
    if (v.key !== undefined && typeof v.key !== 'string') return undefined;
    return { topic: v.topic as ChangeTopic, ...(typeof v.key === 'string' ? { key: v.key } : {}) };
  } catch {
    return undefined;
  }
}

/** Publishes notices; a failure to publish is the caller's to log (the TTL still bounds the delay). */
export class ChangeNotices {
  constructor(
    private readonly redis: Pick<RedisClient, 'publish'>,
    private readonly namespace: string,
  ) {}

  async publish(topic: ChangeTopic, key?: string): Promise<void> {
    const notice: ChangeNotice = key === undefined ? { topic } : { topic, key };
    await this.redis.publish(changesChannel(this.namespace), JSON.stringify(notice));
  }
}

/** What publishing a change looks like to a service (optional: tests and tools may run without). */
export type NotifyChange = (topic: ChangeTopic, key?: string) => Promise<void>;

/** A NotifyChange that publishes through `notices` and logs, never throws, a failure (the TTL still bounds the delay). */
export function notifier(notices: ChangeNotices, onError: (err: Error, topic: ChangeTopic) => void): NotifyChange {
  return (topic, key) => notices.publish(topic, key).catch((err: Error) => onError(err, topic));
}
