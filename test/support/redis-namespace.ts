import { isCluster, scanKeys } from '../../src/common/redis-connection.ts';
import type { RedisClient } from '../../src/common/redis-connection.ts';

/**
 * Deletes every key of a namespace (SCAN MATCH ns:* + UNLINK): the cleanup of every test file,
 * soak and benchmark that works in a namespace of its own. Returns how many keys were removed.
 * On a cluster SCAN walks every primary and each key is unlinked on its own (one UNLINK of keys
 * in several slots is refused).
 */
export async function deleteNamespace(redis: RedisClient, namespace: string): Promise<number> {
  let removed = 0;
  await scanKeys(
    redis,
    `${namespace}:*`,
    async (keys) => {
      if (isCluster(redis)) removed += (await Promise.all(keys.map((k) => redis.unlink(k)))).reduce((a, b) => a + b, 0);
      else removed += await redis.unlink(...keys);
    },
    5000,
  );
  return removed;
}
