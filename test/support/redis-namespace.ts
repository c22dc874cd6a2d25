import type { Redis } from 'ioredis';

/**
 * Deletes every key of a namespace (SCAN MATCH ns:* + UNLINK): the cleanup of every test file,
 * soak and benchmark that works in a namespace of its own. Returns how many keys were removed.
 */
export async function deleteNamespace(redis: Redis, namespace: string): Promise<number> {
  let cursor = '0';
  let removed = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${namespace}:*`, 'COUNT', 5000);
    if (keys.length > 0) removed += await redis.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
  return removed;
}
