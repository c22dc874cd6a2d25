// REDIS_CLUSTER_NODES: the one connection factory opens ioredis's Cluster client on a real local
// cluster (six nodes, three primaries), commands follow the slots, SCAN walks every primary.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Cluster } from 'ioredis';
import { connectRedis, isCluster, scanKeys } from '../../src/common/redis-connection.ts';
import { loadConfig } from '../../src/config/config.ts';
import { LocalRedisCluster } from '../support/redis-cluster.ts';

const base = { PIN_PEPPER: 'x'.repeat(32), DRACHTIO_SECRET: 'cluster-secret', SIP_NONCE_KEY: 'n'.repeat(32) };
const cluster = new LocalRedisCluster();
beforeAll(() => cluster.start(), 60_000);
afterAll(() => cluster.stop());

describe('Redis connection factory on a Redis Cluster', () => {
  it('REDIS_CLUSTER_NODES makes the configured connection a cluster client spread over every primary', async () => {
    const config = loadConfig({ ...base, REDIS_CLUSTER_NODES: cluster.nodes.split(',').slice(0, 2).join(',') });
    const r = await connectRedis(config, 'softswitch-test-cluster');
    try {
      expect(isCluster(r)).toBe(true);
      expect(r).toBeInstanceOf(Cluster);
      // keys of 32 hash tags land on all three primaries; each is read back through the client
      const keys = Array.from({ length: 32 }, (_, i) => `t:cluster:{s${i}}:k`);
      for (const k of keys) await r.set(k, k);
      for (const k of keys) expect(await r.get(k)).toBe(k);
      const owners = new Set(await Promise.all(keys.map((k) => cluster.primaryOf(k))));
      expect(owners.size).toBe(3);
      const found = new Set<string>();
      await scanKeys(r, 't:cluster:*', (ks) => {
        for (const k of ks) found.add(k);
      });
      expect([...found].sort()).toEqual([...keys].sort());
      for (const k of keys) await r.del(k);
    } finally {
      r.disconnect();
    }
  });

  it('fails to start when no cluster node answers, naming the nodes and not the password', async () => {
    const err = await connectRedis(
      { redisUrl: 'redis://:s3cret-pw@127.0.0.1:6379', redisClusterNodes: '127.0.0.1:1,127.0.0.1:2' },
      'softswitch-test-refused',
    ).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(Error);
    expect(err!.message).not.toContain('s3cret-pw');
  });

  it('a subscriber whose node is killed subscribes again through another: hang-ups and change notices still arrive', async () => {
    const sub = cluster.client('softswitch-test-sub');
    const pub = cluster.client('softswitch-test-pub');
    const got: string[] = [];
    sub.on('message', (_channel: string, m: string) => got.push(m));
    await sub.subscribe('t:cluster:commands');
    await pub.publish('t:cluster:commands', 'before');
    await vi.waitFor(() => expect(got).toEqual(['before']), { timeout: 5000, interval: 20 });
    // the node holding the subscriber's connection (ioredis names it after the client)
    let held: number | undefined;
    for (const p of cluster.livePorts()) {
      const list = await cluster.onNode(p, (r) => r.client('LIST') as Promise<string>);
      if (list?.includes('(subscriber):softswitch-test-sub')) held = p;
    }
    expect(held).toBeDefined();
    const wasPrimary = (await cluster.primaries()).includes(held!);
    await cluster.kill(held!);
    if (wasPrimary) await cluster.waitForFailover(held!, 30_000);
    // published until one arrives: the subscriber is back once the client has noticed and resubscribed
    await vi.waitFor(
      async () => {
        await pub.publish('t:cluster:commands', 'after');
        expect(got).toContain('after');
      },
      { timeout: 20_000, interval: 250 },
    );
  }, 60_000);

  // last: it takes the whole cluster down
  it('with every node down, a command fails after its reconnection attempts instead of hanging', async () => {
    const c = cluster.client('softswitch-test-down');
    await c.set('t:cluster:{down}:k', '1');
    for (const p of cluster.livePorts()) await cluster.kill(p);
    await expect(c.get('t:cluster:{down}:k')).rejects.toThrow(/max retries/i);
  }, 30_000);
});
