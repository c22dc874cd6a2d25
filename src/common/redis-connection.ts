/**
 * The one way a process opens a Redis connection (SIP application, API, CLI, ledger writer,
 * sweeper), so every process follows the same rules:
 *   - a connection attempt gives up after 5 s (connectTimeout);
 *   - a lost connection is retried for ever, 200 ms, 400 ms ... at most 2 s apart;
 *   - a command waits for at most 3 reconnection attempts, then fails (it never hangs);
 *   - connectRedis waits at most 5 s for the first connection, then fails (start-up refuses
 *     to run without Redis); createRedis connects on the first command.
 * The connection name shows in CLIENT LIST, so an operator sees which process holds which socket.
 */
import { Redis } from 'ioredis';
import type { RedisOptions } from 'ioredis';

export const REDIS_CONNECT_DEADLINE_MS = 5000;

function optionsFor(name: string): RedisOptions {
  return {
    connectionName: name,
    lazyConnect: true,
    connectTimeout: REDIS_CONNECT_DEADLINE_MS,
    maxRetriesPerRequest: 3,
    retryStrategy: (attempt: number) => Math.min(attempt * 200, 2000),
  };
}

/** A connection that opens on its first command. */
export function createRedis(url: string, name: string): Redis {
  return new Redis(url, optionsFor(name));
}

/** A connection opened now; fails (and stops retrying) when Redis does not answer within the deadline. */
export async function connectRedis(url: string, name: string): Promise<Redis> {
  const r = createRedis(url, name);
  const duringConnect = () => {
    /* the failed connect() reports it */
  };
  r.on('error', duringConnect);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      r.connect(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`Redis at ${hostOf(url)} did not answer within ${REDIS_CONNECT_DEADLINE_MS / 1000} s`)),
          REDIS_CONNECT_DEADLINE_MS,
        );
      }),
    ]);
  } catch (err) {
    r.disconnect();
    throw err;
  } finally {
    clearTimeout(timer);
    r.off('error', duringConnect);
  }
  return r;
}

/** host:port of a Redis URL, never its password. */
function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'the configured address';
  }
}
