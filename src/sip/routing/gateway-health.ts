/**
 * Gateway health: every gateway of an enabled carrier is probed with OPTIONS every `intervalMs`.
 * A gateway that gave no answer at all (no response within `probeTimeoutMs`, or a transport
 * failure) `downAfter` times in a row is down: calls skip it. One answer, whatever its status
 * (a 404 or 405 to OPTIONS still shows a live SIP stack), brings it back. While every gateway a
 * call could use is down, the call tries them all anyway (a probe can be wrong; refusing every
 * call on it would be worse).
 *
 * The state is kept in Redis (one hash field per gateway, and the last transitions in a capped
 * list) for the API and the console; each process probes and decides for itself, and writes
 * what it saw.
 */
import type { RedisClient } from '../../common/redis-connection.ts';
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../common/clock.ts';
import type { Carrier, Gateway } from './route-plan.ts';
import { GATEWAY_HISTORY, gatewayHealthKeys } from '../../common/gateway-health-state.ts';
import type { GatewayState, GatewayTransition } from '../../common/gateway-health-state.ts';

export interface GatewayHealthOptions {
  namespace: string;
  intervalMs: number;
  probeTimeoutMs: number;
  downAfter: number;
  clock: Clock;
  log: Logger;
}

/** One probe: resolves with the final status, or undefined when nothing came back in time. */
export type Probe = (uri: string, timeoutMs: number) => Promise<number | undefined>;

/** The gateway's address as a request target (no user part: the probe asks the gateway itself). */
export function probeUri(g: Gateway): string {
  const host = g.address.includes(':') && !g.address.startsWith('[') ? `[${g.address}]` : g.address;
  return `sip:${host}:${g.port}${g.transport === 'tcp' ? ';transport=tcp' : ''}`;
}

export class GatewayHealth {
  private readonly states = new Map<number, GatewayState>();
  private timer: TimerHandle | undefined;
  private running = false;

  constructor(
    private readonly carriers: () => Promise<Carrier[]>,
    private readonly probe: Probe,
    private readonly redis: RedisClient,
    private readonly opts: GatewayHealthOptions,
  ) {}

  start(): void {
    if (this.timer !== undefined) return;
    this.timer = this.opts.clock.setInterval(() => void this.probeAll(), this.opts.intervalMs);
    void this.probeAll();
  }

  stop(): void {
    if (this.timer !== undefined) this.opts.clock.clearInterval(this.timer);
    this.timer = undefined;
  }

  isUp(gatewayId: number): boolean {
    return this.states.get(gatewayId)?.up ?? true;
  }

  /** The carriers with their down gateways left out; all of them when that would leave none for the call. */
  usable(carriers: Carrier[]): Carrier[] {
    if (carriers.every((c) => c.gateways.every((g) => this.isUp(g.id)))) return carriers;
    const kept = carriers.map((c) => ({ ...c, gateways: c.gateways.filter((g) => this.isUp(g.id)) })).filter((c) => c.gateways.length > 0);
    return kept.length > 0 ? kept : carriers;
  }

  /** One round of probes (the interval runs it; tests call it). */
  async probeAll(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const gateways = (await this.carriers()).flatMap((c) => c.gateways);
      await Promise.all(gateways.map((g) => this.probeOne(g)));
      const known = new Set(gateways.map((g) => g.id));
      for (const id of [...this.states.keys()]) if (!known.has(id)) this.states.delete(id);
    } catch (err) {
      this.opts.log.warn({ err: (err as Error).message }, 'gateway probes failed');
    } finally {
      this.running = false;
    }
  }

  private async probeOne(g: Gateway): Promise<void> {
    const status = await this.probe(probeUri(g), this.opts.probeTimeoutMs).catch(() => undefined);
    const now = this.opts.clock.now();
    const before = this.states.get(g.id);
    const failures = status === undefined ? (before?.failures ?? 0) + 1 : 0;
    const wasUp = before?.up ?? true;
    const up = status !== undefined ? true : wasUp ? failures < this.opts.downAfter : false;
    const state: GatewayState = {
      gatewayId: g.id,
      carrierId: g.carrierId,
      address: g.address,
      port: g.port,
      up,
      since: before === undefined || up !== wasUp ? now : before.since,
      lastProbeAt: now,
      lastStatus: status,
      failures,
    };
    this.states.set(g.id, state);
    const keys = gatewayHealthKeys(this.opts.namespace);
    const m = this.redis.multi().hset(keys.state, String(g.id), JSON.stringify(state));
    if (before !== undefined && up !== wasUp) {
      const t: GatewayTransition = { gatewayId: g.id, carrierId: g.carrierId, up, at: now, lastStatus: status };
      m.lpush(keys.history, JSON.stringify(t)).ltrim(keys.history, 0, GATEWAY_HISTORY - 1);
      if (up) this.opts.log.info({ gateway: g.id, carrier: g.carrierId, status }, 'gateway up again: it answered a probe');
      else this.opts.log.warn({ gateway: g.id, carrier: g.carrierId, failures }, 'gateway down: no answer to its probes; calls skip it');
    }
    await m.exec().catch((err: Error) => this.opts.log.warn({ err: err.message }, 'gateway health not stored'));
  }
}

/** An OPTIONS probe through the SIP server (drachtio-srf's Srf#request). */
export function optionsProbe(srf: {
  request(
    uri: string,
    opts: { method: string; headers: Record<string, string> },
  ): Promise<{ on(event: 'response', fn: (res: { status: number }) => void): unknown }>;
}): Probe {
  return async (uri, timeoutMs) => {
    const req = await srf.request(uri, { method: 'OPTIONS', headers: {} });
    return new Promise<number | undefined>((resolve) => {
      const t = setTimeout(() => resolve(undefined), timeoutMs);
      req.on('response', (res) => {
        if (res.status < 200) return;
        clearTimeout(t);
        // a 408 or 503 the SIP server made up itself (Timer F, transport failure) is no answer either
        resolve(res.status === 408 || res.status === 503 ? undefined : res.status);
      });
    });
  };
}
