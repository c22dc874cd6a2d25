/**
 * The SIP app's side of the change notices (common/change-notices.ts): each notice drops the
 * cached copies it concerns, so the next call after an operator's change routes by the new data
 * in every process. After the subscriber connection comes back, every routing cache is dropped
 * (notices sent while it was away are lost; the caches' TTL is the last backstop).
 */
import type { RedisClient } from '../../common/redis-connection.ts';
import type { Logger } from 'pino';
import { changesChannel, parseChangeNotice } from '../../common/change-notices.ts';
import type { ChangeNotice } from '../../common/change-notices.ts';

export interface RoutingCaches {
  carriers: { invalidate(): void };
  blocklist: { invalidate(): void };
  numbers: { invalidate(): void };
  tariffs: { invalidate(tariffId?: string): void };
}

export function applyChange(caches: RoutingCaches, notice: ChangeNotice | 'all'): void {
  const topic = notice === 'all' ? 'all' : notice.topic;
  if (topic === 'all' || topic === 'carriers' || topic === 'gateways') caches.carriers.invalidate();
  if (topic === 'all' || topic === 'blocklist') caches.blocklist.invalidate();
  if (topic === 'all' || topic === 'access_numbers' || topic === 'dids') caches.numbers.invalidate();
  if (notice === 'all' || notice.topic === 'tariffs') {
    caches.tariffs.invalidate(notice === 'all' ? undefined : notice.key);
    // carriers hold their buy-rate tariffs
    caches.carriers.invalidate();
  }
}

/** Subscribes `subscriber` (a connection in subscriber mode, shared with other channels) to the change notices. */
export async function listenForRoutingChanges(subscriber: RedisClient, namespace: string, caches: RoutingCaches, log: Logger): Promise<void> {
  const channel = changesChannel(namespace);
  subscriber.on('message', (ch: string, message: string) => {
    if (ch !== channel) return;
    const notice = parseChangeNotice(message);
    if (!notice) {
      log.warn({ channel }, 'unknown change notice ignored');
      return;
    }
    applyChange(caches, notice);
    log.info({ topic: notice.topic, key: notice.key }, 'operator change: cached routing data dropped');
  });
  let ready = subscriber.status === 'ready';
  subscriber.on('ready', () => {
    if (ready) {
      applyChange(caches, 'all');
      log.info('change notices: subscriber reconnected, every cached routing copy dropped');
    }
    ready = true;
  });
  await subscriber.subscribe(channel);
}
