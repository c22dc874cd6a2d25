/**
 * A real Redis Cluster of the test's own on loopback: six `redis-server --cluster-enabled yes`
 * (three primaries, each with one replica), AOF with appendfsync everysec as in production, and a
 * short cluster-node-timeout (1000 ms) so a killed primary is replaced within seconds. Each node
 * has its own directory under one temporary directory; stop() kills them and removes it.
 *
 * Every wait is bounded and says what it waited for when it gives up.
 */
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import type { Cluster } from 'ioredis';
import { createRedis } from '../../src/common/redis-connection.ts';

const run = promisify(execFile);
export const CLUSTER_NODE_TIMEOUT_MS = 1000;

export interface ClusterTarget {
  redisUrl: string;
  redisClusterNodes: string;
}

export class LocalRedisCluster {
  private readonly dir = mkdtempSync(join(tmpdir(), 'softswitch-cluster-'));
  private readonly procs = new Map<number, ChildProcess>();
  private readonly clients: Cluster[] = [];
  /** Cluster nodes on 127.0.0.1 (the start checks that the node answering is the process it started: parallel files pick ports at random). */
  readonly host = '127.0.0.1';
  ports: number[] = [];

  constructor(private readonly size = 6) {}

  /** REDIS_CLUSTER_NODES for the processes under test: every node, comma-separated. */
  get nodes(): string {
    return this.ports.map((p) => `${this.host}:${p}`).join(',');
  }

  /** What the configuration would hold (REDIS_URL gives no credentials here). */
  get target(): ClusterTarget {
    return { redisUrl: `redis://${this.host}:${this.ports[0]}`, redisClusterNodes: this.nodes };
  }

  /** The project's own cluster client (the connection factory), closed by stop(). */
  client(name = 'softswitch-test'): Cluster {
    const c = createRedis(this.target, name) as Cluster;
    c.on('error', () => undefined);
    this.clients.push(c);
    return c;
  }

  async start(): Promise<void> {
    for (let tries = 1; ; tries++) {
      // the cluster bus listens on port + 10000: both ranges below the ephemeral ports
      const base = randomInt(20_000, 22_000 - this.size);
      this.ports = Array.from({ length: this.size }, (_, i) => base + i);
      try {
        for (const p of this.ports) await this.startNode(p);
        break;
      } catch (err) {
        await this.killAll();
        if (tries >= 5) throw err;
      }
    }
    const { stderr } = await run(
      'redis-cli',
      ['--cluster', 'create', ...this.ports.map((p) => `${this.host}:${p}`), '--cluster-replicas', '1', '--cluster-yes'],
      {
        timeout: 30_000,
      },
    ).catch((err: Error & { stdout?: string; stderr?: string }) => {
      throw new Error(`redis-cli --cluster create failed: ${err.message}\n${err.stdout ?? ''}${err.stderr ?? ''}`);
    });
    if (/ERR/.test(stderr)) throw new Error(`redis-cli --cluster create: ${stderr}`);
    await this.waitUntilOk(30_000, this.ports);
    await this.waitForReplicas(30_000);
  }

  private async startNode(port: number): Promise<void> {
    const dir = join(this.dir, String(port));
    mkdirSync(dir, { recursive: true });
    const p = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        this.host,
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        join(dir, 'nodes.conf'),
        '--cluster-node-timeout',
        String(CLUSTER_NODE_TIMEOUT_MS),
        '--appendonly',
        'yes',
        '--appendfsync',
        'everysec',
        '--save',
        '',
        '--dir',
        dir,
        '--logfile',
        join(dir, 'redis.log'),
      ],
      { stdio: 'ignore' },
    );
    this.procs.set(port, p);
    for (let i = 0; i < 100; i++) {
      if (p.exitCode !== null) throw new Error(`redis-server on port ${port} exited (code ${p.exitCode}); see ${join(dir, 'redis.log')}`);
      // the node that answers must be the one just started (its process id), not another's on the same port
      if ((await this.onNode(port, (r) => r.info('server')))?.includes(`process_id:${p.pid}\r\n`)) return;
      await sleep(50);
    }
    throw new Error(`redis-server on port ${port} did not answer PING within 5 s`);
  }

  private async ping(port: number): Promise<string | undefined> {
    return this.onNode(port, (r) => r.ping());
  }

  /** One command on one node, over a short-lived plain connection; undefined when it cannot be reached. */
  async onNode<T>(port: number, fn: (r: Redis) => Promise<T>): Promise<T | undefined> {
    const r = new Redis({ host: this.host, port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
    r.on('error', () => undefined);
    try {
      await r.connect();
      return await fn(r);
    } catch {
      return undefined;
    } finally {
      r.disconnect();
    }
  }

  /** Until every given node says cluster_state:ok with all 16384 slots served. */
  async waitUntilOk(deadlineMs: number, ports = this.livePorts()): Promise<void> {
    const until = Date.now() + deadlineMs;
    let last = '';
    for (;;) {
      const infos = await Promise.all(ports.map((p) => this.onNode(p, (r) => r.cluster('INFO') as Promise<string>)));
      if (infos.every((i) => i !== undefined && /cluster_state:ok/.test(i) && /cluster_slots_ok:16384/.test(i))) return;
      last = infos.map((i, n) => `${ports[n]}: ${(i ?? 'unreachable').match(/cluster_state:\w+|unreachable/)?.[0] ?? '?'}`).join(', ');
      if (Date.now() > until) throw new Error(`Redis Cluster not ok within ${deadlineMs} ms (${last})`);
      await sleep(50);
    }
  }

  /**
   * After `killed` died: until every live node has noticed (no slot of theirs is served by it any
   * more: its replica was promoted) and says cluster_state:ok. A node asked at once still says ok,
   * as it has not yet missed the dead one for cluster-node-timeout.
   */
  async waitForFailover(killed: number, deadlineMs: number): Promise<void> {
    const until = Date.now() + deadlineMs;
    for (;;) {
      const ports = this.livePorts();
      const views = await Promise.all(
        ports.map((p) => this.onNode(p, async (r) => ({ info: (await r.cluster('INFO')) as string, slots: await r.cluster('SLOTS') }))),
      );
      const done = views.every(
        (v) =>
          v !== undefined && /cluster_state:ok/.test(v.info) && /cluster_slots_ok:16384/.test(v.info) && v.slots.every((range) => range[2]?.[1] !== killed),
      );
      if (done) return;
      if (Date.now() > until) throw new Error(`no replica took over the slots of the node on port ${killed} within ${deadlineMs} ms`);
      await sleep(20);
    }
  }

  /** Until every replica's link to its primary is up (a failover then has the primary's data). */
  private async waitForReplicas(deadlineMs: number): Promise<void> {
    const until = Date.now() + deadlineMs;
    for (;;) {
      const infos = await Promise.all(this.ports.map((p) => this.onNode(p, (r) => r.info('replication'))));
      const replicas = infos.filter((i) => i !== undefined && /role:slave/.test(i));
      if (replicas.length === this.size / 2 && replicas.every((i) => /master_link_status:up/.test(i!))) return;
      if (Date.now() > until) throw new Error(`Redis Cluster replicas not in sync within ${deadlineMs} ms`);
      await sleep(100);
    }
  }

  /** The port of the primary serving `key`'s slot now. */
  async primaryOf(key: string): Promise<number> {
    for (const p of this.livePorts()) {
      const slot = await this.onNode(p, (r) => r.cluster('KEYSLOT', key) as Promise<number>);
      const slots = await this.onNode(p, (r) => r.cluster('SLOTS'));
      if (slot === undefined || !slots) continue;
      const range = slots.find(([from, to]) => slot >= from && slot <= to);
      if (range?.[2]) return range[2][1];
    }
    throw new Error(`no live node knows the primary of ${key}`);
  }

  /** The primaries now, by port. */
  async primaries(): Promise<number[]> {
    const out: number[] = [];
    for (const p of this.livePorts()) {
      const role = await this.onNode(p, (r) => r.info('replication'));
      if (role && /role:master/.test(role)) out.push(p);
    }
    return out;
  }

  /**
   * Starts a killed node again on its port and directory (its AOF and nodes.conf): it rejoins the
   * cluster, as a replica of whichever node took its slots. Resolves once its link to that primary is up.
   */
  async restart(port: number, deadlineMs = 30_000): Promise<void> {
    await this.startNode(port);
    const until = Date.now() + deadlineMs;
    for (;;) {
      const info = await this.onNode(port, (r) => r.info('replication'));
      if (info && /role:slave/.test(info) && /master_link_status:up/.test(info)) return;
      if (Date.now() > until) throw new Error(`the node on port ${port} did not rejoin as a replica within ${deadlineMs} ms`);
      await sleep(100);
    }
  }

  /** SIGKILL one node: no shutdown, whatever its AOF had not written is gone. */
  async kill(port: number): Promise<void> {
    const p = this.procs.get(port);
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const gone = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await gone;
  }

  livePorts(): number[] {
    return this.ports.filter((port) => {
      const p = this.procs.get(port);
      return p !== undefined && p.exitCode === null && p.signalCode === null;
    });
  }

  private async killAll(): Promise<void> {
    for (const port of [...this.procs.keys()]) await this.kill(port);
    this.procs.clear();
  }

  async stop(): Promise<void> {
    for (const c of this.clients) c.disconnect();
    await this.killAll();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
