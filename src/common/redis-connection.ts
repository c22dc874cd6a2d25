/**
 * The one way a process opens a Redis connection (SIP application, API, CLI, ledger writer,
 * sweeper), so every process follows the same rules:
 *   - a connection attempt gives up after 5 s (connectTimeout);
 *   - a lost connection is retried for ever, 200 ms, 400 ms ... at most 2 s apart;
 *   - a command waits for at most 3 reconnection attempts, then fails (it never hangs);
 *   - connectRedis waits at most 5 s for the first connection, then fails (start-up refuses
 *     to run without Redis); createRedis connects on the first command.
 * The connection name shows in CLIENT LIST, so an operator sees which process holds which socket.
 *
 * With REDIS_CLUSTER_NODES set the same calls return ioredis's Cluster client, seeded with those
 * nodes (the rest are discovered from CLUSTER SLOTS); REDIS_URL then gives only the user, password
 * and TLS every node is reached with. A command for a slot whose primary is failing is retried
 * while the cluster promotes its replica (redirections are followed, the slot map is refreshed),
 * then fails; with no node answering at all, a command fails after 3 reconnection attempts, as on
 * a single server. Code that holds a connection takes a `RedisClient`, either kind.
 */
import { Cluster, Redis } from 'ioredis';
import type { ClusterOptions, RedisOptions } from 'ioredis';

export const REDIS_CONNECT_DEADLINE_MS = 5000;

/** A Redis connection: a single server, or a Redis Cluster. */
export type RedisClient = Redis | Cluster;

/** Where Redis is: the configuration's two settings (REDIS_URL, REDIS_CLUSTER_NODES), or a URL. */
export type RedisTarget = string | { readonly redisUrl: string; readonly redisClusterNodes?: string };

const retry = (attempt: number) => Math.min(attempt * 200, 2000);

function optionsFor(name: string): RedisOptions {
  return {
    connectionName: name,
    lazyConnect: true,
    connectTimeout: REDIS_CONNECT_DEADLINE_MS,
    maxRetriesPerRequest: 3,
    retryStrategy: retry,
  };
}

/** The cluster's seed nodes of a target; empty: a single server. */
export function clusterNodesOf(target: RedisTarget): { host: string; port: number }[] {
  if (typeof target === 'string') return [];
  return (target.redisClusterNodes ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '')
    .map((e) => {
      const i = e.lastIndexOf(':');
      return { host: e.slice(0, i), port: Number(e.slice(i + 1)) };
    });
}

function urlOf(target: RedisTarget): string {
  return typeof target === 'string' ? target : target.redisUrl;
}

/** The credentials and TLS of REDIS_URL, for each node of a cluster. */
function nodeCredentials(url: string): Pick<RedisOptions, 'username' | 'password' | 'tls'> {
  try {
    const u = new URL(url);
    return {
      ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
      ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
      ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
    };
  } catch {
    return {};
  }
}

/** Reconnection attempts a command waits through, as `maxRetriesPerRequest` on a single server. */
const MAX_RECONNECTS_PER_COMMAND = 3;

/**
 * The cluster client keeps the commands it cannot send while no node answers in a queue of its
 * own, which `maxRetriesPerRequest` (a per-node setting) does not bound: after the third failed
 * reconnection in a row, each attempt fails what waits there (the same error as a single server's),
 * and reconnecting goes on.
 */
function clusterRetry(cluster: () => Cluster | undefined): (attempt: number) => number {
  return (attempt) => {
    const c = cluster() as unknown as { flushQueue?: (err: Error) => void } | undefined;
    if (attempt > MAX_RECONNECTS_PER_COMMAND && typeof c?.flushQueue === 'function') {
      const err = new Error(`Reached the max retries per request limit (which is ${MAX_RECONNECTS_PER_COMMAND}): no Redis Cluster node answers`);
      err.name = 'MaxRetriesPerRequestError';
      c.flushQueue(err);
    }
    return retry(attempt);
  };
}

function clusterOptionsFor(name: string, url: string, cluster: () => Cluster | undefined): ClusterOptions {
  return {
    lazyConnect: true,
    clusterRetryStrategy: clusterRetry(cluster),
    // a failing primary: its commands are retried every 200 ms up to 16 times (about 3 s, longer than
    // a replica's promotion with cluster-node-timeout 1000), then fail
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 200,
    retryDelayOnTryAgain: 200,
    slotsRefreshTimeout: 2000,
    redisOptions: {
      connectionName: name,
      connectTimeout: REDIS_CONNECT_DEADLINE_MS,
      maxRetriesPerRequest: MAX_RECONNECTS_PER_COMMAND,
      ...nodeCredentials(url),
    },
  };
}

/** A connection that opens on its first command. */
export function createRedis(target: RedisTarget, name: string): RedisClient {
  const nodes = clusterNodesOf(target);
  if (nodes.length > 0) {
    const cluster: Cluster = new Cluster(
      nodes,
      clusterOptionsFor(name, urlOf(target), () => cluster),
    );
    return cluster;
  }
  return new Redis(urlOf(target), optionsFor(name));
}

/** A connection opened now; fails (and stops retrying) when Redis does not answer within the deadline. */
export async function connectRedis(target: RedisTarget, name: string): Promise<RedisClient> {
  const r = createRedis(target, name);
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
          () => reject(new Error(`Redis at ${where(target)} did not answer within ${REDIS_CONNECT_DEADLINE_MS / 1000} s`)),
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

export function isCluster(r: RedisClient): r is Cluster {
  return r instanceof Cluster;
}

/**
 * Every key matching `pattern` (SCAN MATCH), on every primary of a cluster (a SCAN sent to a
 * cluster reaches one node only) or on the single server. Keys may be reported more than once.
 */
export async function scanKeys(r: RedisClient, pattern: string, onKeys: (keys: string[]) => Promise<void> | void, count = 1000): Promise<void> {
  const servers: Redis[] = isCluster(r) ? await primariesOf(r) : [r];
  for (const s of servers) {
    let cursor = '0';
    do {
      const [next, keys] = await s.scan(cursor, 'MATCH', pattern, 'COUNT', count);
      cursor = next;
      if (keys.length > 0) await onKeys(keys);
    } while (cursor !== '0');
  }
}

/** The primaries of a cluster as the client knows them now (once it is ready: its slot map loaded). */
async function primariesOf(c: Cluster): Promise<Redis[]> {
  if (c.status !== 'ready') await c.ping(); // connects a lazy client; waits in its queue until ready
  return c.nodes('master');
}

/** host:port of a Redis URL (or the first cluster node), never its password. */
function where(target: RedisTarget): string {
  const nodes = clusterNodesOf(target);
  if (nodes.length > 0) return `cluster ${nodes.map((n) => `${n.host}:${n.port}`).join(',')}`;
  try {
    return new URL(urlOf(target)).host;
  } catch {
    return 'the configured address';
  }
}
